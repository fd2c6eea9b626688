"""The sign-in audit (`SignInEvent`): every password sign-in, accepted or refused, from Django's auth
signals; ProConnect's from its callback (allo.accounts.proconnect), with the identity's claims."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from allo.accounts.models import SignInEvent

logger = logging.getLogger("allo.signin")

PROCONNECT_FLAG = "_allo_proconnect_signin"  # set on the request by the ProConnect callback before login()


def record(method: str, outcome: str, reason: str = "", user=None, username: str = "",
           claims: dict | None = None) -> SignInEvent:
    claims = claims or {}
    event = SignInEvent.objects.create(
        method=method, outcome=outcome, reason=reason[:200], user=user, username=username[:150],
        email=str(claims.get("email", ""))[:254], siret=str(claims.get("siret", ""))[:14],
        uid=str(claims.get("uid", ""))[:255], idp_id=str(claims.get("idp_id", ""))[:255],
        acr=str(claims.get("acr", ""))[:40])
    log = logger.info if outcome == SignInEvent.Outcome.ACCEPTED else logger.warning
    log("sign-in", extra={"method": method, "outcome": outcome, "reason": reason,
                          "user_id": getattr(user, "pk", None), "idp_id": claims.get("idp_id", "")})
    return event


@receiver(user_logged_in, dispatch_uid="allo-signin-audit-success")
def _password_sign_in(sender, request, user, **kwargs):
    if request is None or getattr(request, PROCONNECT_FLAG, False):
        return  # a script's login(), or ProConnect's callback: it records its own, with the claims
    record(SignInEvent.Method.PASSWORD, SignInEvent.Outcome.ACCEPTED, user=user, username=user.get_username())


@receiver(user_login_failed, dispatch_uid="allo-signin-audit-failure")
def _password_refused(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    record(SignInEvent.Method.PASSWORD, SignInEvent.Outcome.REFUSED, reason="wrong username or password",
           username=str(credentials.get("username", "")))


def purge(limit) -> dict[str, int]:
    """Sign-in records older than `limit` (`allo purge`: the same retention period as callers' data)."""
    return {"sign_ins": SignInEvent.objects.filter(created__lt=limit).delete()[0]}
