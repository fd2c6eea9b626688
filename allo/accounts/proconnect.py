"""ProConnect sign-in: the State's OpenID Connect for public agents, through mozilla-django-oidc
(docs/signin.md).

The identity ProConnect returns is mapped to an EXISTING account, never creates one: an active account
whose e-mail is the identity's `email` and whose organisation has the identity's `siret` (a partner
agent's administration, else the account's centre, else the line's operator), holding at least one
role; administrators keep to their password. The ID token's issuer,
audience and `acr` are checked; the userinfo comes as a JWT signed with the provider's keys (JWKS),
which the library verifies. Every sign-in through ProConnect, accepted or refused, is kept in
`SignInEvent`.

ProConnect sign-ins do not go through `django.contrib.auth.authenticate`: there is no password to
guess here (the provider throttles its own sign-in), and django-axes would count a refused identity
as a failed password and lock the page after five. Password sign-ins keep their throttling untouched.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.crypto import get_random_string
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from allo.accounts.audit import PROCONNECT_FLAG, record
from allo.accounts.models import SignInEvent

logger = logging.getLogger(__name__)

SESSION_METHOD = "allo_signin_method"  # "proconnect" when this session signed in through it
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"  # loads the signed-in user on later requests

# What the agent reads on the sign-in page when ProConnect's identity is not accepted.
UNKNOWN_ACCOUNT = ("Votre identité ProConnect ne correspond à aucun compte Allô : l'adresse électronique et "
                   "l'organisation (SIRET) doivent être celles d'un compte existant. Demandez à votre "
                   "administrateur de créer ou de rattacher votre compte.")
NOT_VERIFIED = ("La connexion avec ProConnect n'a pas pu être vérifiée. Recommencez depuis cette page ; si le "
                "problème persiste, connectez-vous avec votre identifiant et votre mot de passe.")
LEVEL_TOO_LOW = ("Le niveau d'authentification transmis par ProConnect est insuffisant pour accéder à "
                 "l'espace agents.")
UNAVAILABLE = "ProConnect ne répond pas pour le moment. Réessayez plus tard ou utilisez votre mot de passe."
CANCELLED = "La connexion avec ProConnect a été annulée ou refusée par le fournisseur d'identité."


def enabled() -> bool:
    return bool(settings.OIDC_RP_CLIENT_ID and settings.OIDC_RP_CLIENT_SECRET and settings.PROCONNECT_DISCOVERY_URL)


_discovery: dict[str, dict] = {}
_discovery_lock = threading.Lock()


def provider_metadata() -> dict:
    """The provider's discovery document, read once per process (its endpoints do not move)."""
    url = settings.PROCONNECT_DISCOVERY_URL
    with _discovery_lock:
        if url not in _discovery:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            metadata = response.json()
            if settings.PROCONNECT_ISSUER and metadata.get("issuer", "").rstrip("/") != settings.PROCONNECT_ISSUER:
                raise SuspiciousOperation("discovery issuer differs from ALLO_PROCONNECT_ISSUER")
            _discovery[url] = metadata
        return _discovery[url]


class Refused(Exception):
    """An identity Allô does not accept: `message` for the agent (French), `reason` for the audit."""

    def __init__(self, message: str, reason: str, claims: dict | None = None):
        super().__init__(reason)
        self.message, self.reason, self.claims = message, reason, claims or {}


def check_id_token(payload: dict, issuer: str, client_id: str, acr: str) -> None:
    """What the library leaves to us on the ID token (it checks the signature, expiry and nonce)."""
    audience = payload.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if payload.get("iss", "").rstrip("/") != issuer.rstrip("/"):
        raise Refused(NOT_VERIFIED, f"id_token issuer {payload.get('iss')!r}")
    if client_id not in audiences:
        raise Refused(NOT_VERIFIED, f"id_token audience {audience!r}")
    if acr and payload.get("acr") != acr:
        raise Refused(LEVEL_TOO_LOW, f"acr {payload.get('acr')!r}, {acr!r} asked for", payload)


def matching_accounts(email: str, siret: str):
    """Active accounts with this e-mail whose organisation has this SIRET: the partner's administration
    for a partner agent, else the account's centre, else (no centre: editors, supervisors) the line's
    operator. Administrators (superusers) keep to their password."""
    from django.db.models import Q

    from allo.org.models import ServiceLine

    if not email or not siret:
        return get_user_model().objects.none()
    organisation = (Q(partner_agent__partner__siret=siret, partner_agent__partner__active=True)
                    | Q(partner_agent__isnull=True, centre__siret=siret))
    line = ServiceLine.current()
    if line is not None and line.siret == siret:
        organisation |= Q(partner_agent__isnull=True, centre__isnull=True)
    return (get_user_model().objects.filter(email__iexact=email, is_active=True, is_superuser=False)
            .filter(organisation).distinct())


class ProConnectBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, its endpoints from the discovery document, read only when a
    ProConnect sign-in happens."""

    def __init__(self, *args, **kwargs):  # the parent reads every endpoint at once: not before they are needed
        self.UserModel = get_user_model()

    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: provider_metadata()["token_endpoint"])
    OIDC_OP_USER_ENDPOINT = property(lambda self: provider_metadata()["userinfo_endpoint"])
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: provider_metadata()["jwks_uri"])
    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: settings.OIDC_RP_CLIENT_SECRET)
    OIDC_RP_SIGN_ALGO = property(lambda self: settings.OIDC_RP_SIGN_ALGO)
    OIDC_RP_IDP_SIGN_KEY = None

    def get_or_create_user(self, access_token, id_token, payload):
        check_id_token(payload, provider_metadata()["issuer"], settings.OIDC_RP_CLIENT_ID, settings.PROCONNECT_ACR)
        claims = self.get_userinfo(access_token, id_token, payload)  # a signed JWT: verified with the JWKS
        # Refused is no SuspiciousOperation: the library would swallow that one here and lose the reason
        if not isinstance(claims, dict) or claims.get("sub") != payload.get("sub"):
            raise Refused(NOT_VERIFIED, "userinfo subject differs from the id_token's")
        claims = {**claims, "acr": payload.get("acr", "")}
        users = list(matching_accounts(claims.get("email", ""), str(claims.get("siret", ""))))
        if len(users) != 1:
            raise Refused(UNKNOWN_ACCOUNT, "no account" if not users else "several accounts", claims)
        user = users[0]
        if not user.roles:
            raise Refused(UNKNOWN_ACCOUNT, "account without a role", claims)
        self.claims = claims
        return user



def audit(outcome: str, reason: str = "", user=None, claims: dict | None = None) -> None:
    record(SignInEvent.Method.PROCONNECT, outcome, reason=reason, user=user, claims=claims)


def refuse(request, message: str, status: int = 403):
    return render(request, "registration/login.html",
                  {"form": None, "proconnect_error": message, "proconnect_enabled": enabled(), "next": ""},
                  status=status)


class ProConnectStartView(OIDCAuthenticationRequestView):
    """To the provider's authorization endpoint, with state and nonce (64 characters) and acr_values."""

    def __init__(self, *args, **kwargs):
        View.__init__(self, *args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        if not enabled():
            return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_metadata()["authorization_endpoint"]
        except (requests.RequestException, ValueError, KeyError, SuspiciousOperation) as exc:
            logger.warning("proconnect discovery failed", extra={"error": str(exc)})
            return refuse(request, UNAVAILABLE, status=503)
        return super().get(request)

    def get_extra_params(self, request):
        return {"acr_values": settings.PROCONNECT_ACR} if settings.PROCONNECT_ACR else {}


class ProConnectCallbackView(View):
    """Back from the provider: state checked against the session (then forgotten: no replay), the code
    exchanged, the ID token and userinfo verified, the identity mapped to its account."""

    http_method_names = ["get"]

    def get(self, request):
        if not enabled():
            return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
        states = request.session.get("oidc_states") or {}
        state = request.GET.get("state", "")
        entry = states.pop(state, None) if state else None
        request.session["oidc_states"] = states
        if request.GET.get("error"):
            audit(SignInEvent.Outcome.REFUSED, f"provider error {request.GET.get('error')!r}")
            return refuse(request, CANCELLED)
        if entry is None or not request.GET.get("code"):
            audit(SignInEvent.Outcome.REFUSED, "unknown state" if state else "no state")
            return refuse(request, NOT_VERIFIED, status=400)
        request.session.save()
        backend = ProConnectBackend()
        try:
            user = backend.authenticate(request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier"))
        except Refused as exc:
            audit(SignInEvent.Outcome.REFUSED, exc.reason, claims=exc.claims)
            return refuse(request, exc.message)
        except SuspiciousOperation as exc:  # nonce, signature, algorithm, keys
            audit(SignInEvent.Outcome.REFUSED, str(exc))
            return refuse(request, NOT_VERIFIED, status=400)
        except (requests.RequestException, ValueError, KeyError) as exc:
            audit(SignInEvent.Outcome.REFUSED, f"provider unreachable or malformed: {exc}"[:200])
            return refuse(request, UNAVAILABLE, status=502)
        if user is None:
            audit(SignInEvent.Outcome.REFUSED, "no identity")
            return refuse(request, NOT_VERIFIED, status=400)
        id_token = request.session.get("oidc_id_token")
        next_url = request.session.get("oidc_login_next")
        setattr(request, PROCONNECT_FLAG, True)  # the audit below, with the claims, not the password one
        auth.login(request, user, backend=MODEL_BACKEND)  # a new session (key cycled), tokens carried over
        request.session[SESSION_METHOD] = "proconnect"
        request.session["oidc_id_token"] = id_token
        audit(SignInEvent.Outcome.ACCEPTED, user=user, claims=getattr(backend, "claims", None) or {
            "email": user.email})
        return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


class SignInView(LoginView):
    """Django's sign-in with the ProConnect button beside it when configured."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "proconnect_enabled": enabled()}


class SignOutView(LogoutView):
    """Signs out of Allô, and out of ProConnect too when the session came from it (its
    end_session_endpoint with the ID token as hint)."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get("oidc_id_token") if request.session.get(SESSION_METHOD) == "proconnect" else None
        response = super().post(request, *args, **kwargs)
        if id_token and enabled():
            try:
                end_session = provider_metadata().get("end_session_endpoint")
            except (requests.RequestException, ValueError, SuspiciousOperation):
                end_session = None
            if end_session:
                query = urlencode({
                    "id_token_hint": id_token, "state": get_random_string(64),
                    "post_logout_redirect_uri": request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL)),
                })
                return HttpResponseRedirect(f"{end_session}?{query}")
        return response
