"""ProConnect sign-in, end to end in chromium against a real OpenID Connect provider on loopback.

The provider is tests/oidc_provider/ (django-oauth-toolkit, OIDC on, RS256 with a key generated here,
the userinfo as a signed JWT with ProConnect's claims, acr in the ID token), a subprocess on a free
127.0.0.1 port, stopped by its PID at the end of the module. Nothing is mocked: Allô discovers the
provider, sends the browser there, exchanges the code, checks the tokens against the provider's JWKS.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from loopback import free_port

pytestmark = pytest.mark.browser

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc_provider"
CLIENT_ID = "allo-test-client"
CLIENT_SECRET = "s3cret-" + "k" * 40
PASSWORD = "mot-de-passe-idp"
ROUEN_SIRET, GIRONDE_SIRET, N1_SIRET = "21760540700019", "17330001200017", "13000000000012"
USERS = [  # the provider's identities
    {"username": "agent-rouen", "email": "Partenaire-Rouen@allo.example", "siret": ROUEN_SIRET},
    {"username": "rouen-wrong-siret", "email": "partenaire-rouen@allo.example", "siret": GIRONDE_SIRET},
    {"username": "inconnu", "email": "personne@allo.example", "siret": ROUEN_SIRET},
    {"username": "agent-n1", "email": "operateur@allo.example", "siret": N1_SIRET},
]


@pytest.fixture(scope="module")
def provider(live_server, tmp_path_factory):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    folder = tmp_path_factory.mktemp("oidc_provider")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    port = free_port()
    config = {
        "port": port, "key_file": str(folder / "key.pem"), "db": str(folder / "provider.sqlite3"), "acr": "eidas1",
        "client": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                   "redirect_uri": f"{live_server.url}/connexion/proconnect/retour/",
                   "post_logout_redirect_uri": f"{live_server.url}/"},
        "users": [{**user, "password": PASSWORD, "given_name": "Agathe", "usual_name": "Publique",
                   "idp_id": "fia1v2"} for user in USERS],
    }
    (folder / "config.json").write_text(json.dumps(config))
    log = open(folder / "provider.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, str(PROVIDER_DIR / "run.py"), str(folder / "config.json")],
                               stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    issuer = f"http://127.0.0.1:{port}/o"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the OIDC provider did not start: " + (folder / "provider.log").read_text())
            time.sleep(0.2)
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture
def proconnect(provider, demo_live, settings):
    """Allô configured for the provider, and the demo accounts given their organisations' SIRET."""
    from csp.constants import SELF

    from allo.accounts import proconnect as module
    from allo.accounts.models import User
    from allo.partners.models import Partner
    from allo.project.settings import proconnect_form_action

    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.PROCONNECT_ISSUER = provider
    settings.PROCONNECT_DISCOVERY_URL = f"{provider}/.well-known/openid-configuration"
    settings.PROCONNECT_ACR = "eidas1"
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)  # what settings.py does from the environment
    policy["DIRECTIVES"]["form-action"] = [SELF, *proconnect_form_action(provider)]
    settings.CONTENT_SECURITY_POLICY = policy
    module._discovery.clear()
    Partner.objects.filter(code="mairie-rouen").update(siret=ROUEN_SIRET)
    Partner.objects.filter(code="prefecture-gironde").update(siret=GIRONDE_SIRET)
    centre = User.objects.get(username="operateur").centre
    centre.siret = N1_SIRET
    centre.save()
    return demo_live


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def _sign_in_at_provider(page, username):
    page.locator("#id_username").wait_for()
    assert page.url.startswith("http://127.0.0.1:")  # really at the provider
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Continuer')")


def _start(page, base, next_url=""):
    page.goto(base + "/connexion/" + (f"?next={next_url}" if next_url else ""))
    page.click("a.fr-connect:has-text('ProConnect')")


def test_partner_agent_signs_in_with_proconnect_and_out_of_both(proconnect, context):
    from allo.accounts.models import SignInEvent

    base = proconnect.url
    page = context.new_page()
    page.goto(base + "/connexion/")
    assert page.locator(".fr-connect__brand").inner_text() == "ProConnect"
    # the request to the provider: acr asked for, state and nonce of 64 characters
    response = context.request.get(base + "/connexion/proconnect/", max_redirects=0)
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["acr_values"] == ["eidas1"]
    assert len(query["state"][0]) == 64 and len(query["nonce"][0]) == 64
    assert "siret" in query["scope"][0].split() and "idp_id" in query["scope"][0].split()

    _start(page, base, next_url="/partenaire/")
    _sign_in_at_provider(page, "agent-rouen")
    page.locator("button:has-text('Se déconnecter')").first.wait_for()
    # back where the agent was going: the role `partner`, scoped to the Mairie de Rouen
    assert urlsplit(page.url).path == "/partenaire/" and "Mairie de Rouen" in page.locator("main").inner_text()
    event = SignInEvent.objects.get()
    assert (event.outcome, event.user.username, event.siret, event.idp_id, event.acr) == (
        "accepted", "partenaire-rouen", ROUEN_SIRET, "fia1v2", "eidas1")

    # logout ends the provider's session too (end_session_endpoint with id_token_hint), then back home
    page.click("button:has-text('Se déconnecter')")
    page.wait_for_url(re.compile(re.escape(base) + r"/(\?.*)?$"))
    page.goto(base + "/partenaire/")
    assert urlsplit(page.url).path == "/connexion/"
    _start(page, base)  # the provider asks for the password again: its session ended
    page.locator("#id_username").wait_for()


def test_state_agent_signs_in_by_centre_siret(proconnect, context):
    page = context.new_page()
    _start(page, proconnect.url, next_url="/operateur/")
    _sign_in_at_provider(page, "agent-n1")
    page.locator("button:has-text('Se déconnecter')").first.wait_for()
    assert urlsplit(page.url).path == "/operateur/"
    assert page.request.get(proconnect.url + "/partenaire/", max_redirects=0).status == 403


@pytest.mark.parametrize("username", ["rouen-wrong-siret", "inconnu"])
def test_unknown_identity_is_refused_in_french(proconnect, context, username):
    from axes.models import AccessAttempt

    from allo.accounts.models import SignInEvent

    page = context.new_page()
    _start(page, proconnect.url)
    _sign_in_at_provider(page, username)
    alert = page.locator("#proconnect-error")
    alert.wait_for()
    assert "ne correspond à aucun compte Allô" in alert.inner_text()
    assert page.locator("button:has-text('Se déconnecter')").count() == 0
    assert page.request.get(proconnect.url + "/partenaire/", max_redirects=0).status == 302  # to sign-in
    event = SignInEvent.objects.get()
    assert (event.method, event.outcome, event.reason, event.user) == ("proconnect", "refused", "no account", None)
    assert not AccessAttempt.objects.exists()  # a refused identity is no wrong password for django-axes
    # local accounts still sign in with their password
    page.goto(proconnect.url + "/connexion/")
    page.fill("#id_username", "partenaire-rouen")
    page.fill("#id_password", "allo-demo-2026")
    page.click("button[type=submit]:has-text('Se connecter')")
    page.locator("button:has-text('Se déconnecter')").first.wait_for()


def _tampered(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.mark.parametrize("tamper", ["nonce", "state"])
def test_wrong_nonce_or_state_is_refused(proconnect, context, tamper):
    from allo.accounts.models import SignInEvent

    page = context.new_page()
    response = context.request.get(proconnect.url + "/connexion/proconnect/", max_redirects=0)
    authorize = _tampered(response.headers["location"], **{tamper: "x" * 64})
    page.goto(authorize)
    _sign_in_at_provider(page, "agent-rouen")
    alert = page.locator("#proconnect-error")
    alert.wait_for()
    assert "n'a pas pu être vérifiée" in alert.inner_text()
    assert page.request.get(proconnect.url + "/partenaire/", max_redirects=0).status == 302
    event = SignInEvent.objects.get()
    assert event.outcome == "refused"
    assert ("Nonce" in event.reason) if tamper == "nonce" else (event.reason == "unknown state")


def test_lower_acr_than_asked_is_refused(proconnect, context, settings):
    settings.PROCONNECT_ACR = "eidas2"  # the provider authenticates at eidas1 only
    page = context.new_page()
    _start(page, proconnect.url)
    _sign_in_at_provider(page, "agent-rouen")
    alert = page.locator("#proconnect-error")
    alert.wait_for()
    assert "niveau d'authentification" in alert.inner_text()
    assert page.request.get(proconnect.url + "/partenaire/", max_redirects=0).status == 302


def test_button_hidden_when_not_configured(demo_live, context, settings):
    settings.OIDC_RP_CLIENT_ID = ""
    page = context.new_page()
    page.goto(demo_live.url + "/connexion/")
    page.locator("#id_username").wait_for()
    assert page.locator("a.fr-connect").count() == 0
    assert page.request.get(demo_live.url + "/connexion/proconnect/retour/?state=x&code=y",
                            max_redirects=0).status == 302
