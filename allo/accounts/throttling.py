"""Sign-in throttling with django-axes (settings: AXES_*): its backend, and the answer to a
locked-out sign-in."""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render


def locked_out(request, original_response=None, credentials=None):
    """The sign-in page again, saying why and for how long, with 429 Too Many Requests."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    from allo.accounts.proconnect import enabled  # a locked account may still sign in with ProConnect

    return render(request, "registration/login.html",
                  {"form": form, "locked_minutes": minutes, "next": request.POST.get("next", ""),
                   "proconnect_enabled": enabled()}, status=429)


class SignInThrottle(AxesStandaloneBackend):
    """django-axes' check before the password one. A call without a request (a script, the test
    client's login()) is no sign-in through the site: nothing to count it against, the next backend
    decides (axes itself refuses such calls with an exception)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
