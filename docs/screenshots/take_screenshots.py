"""Screenshots of the citizen portal for the README (PNG, headless Debian chromium via Playwright).

    .venv/bin/python docs/screenshots/take_screenshots.py

Loads the demo into a temporary database (the real service-public.fr archives it ships, and the
line's own fiches: `allo init --demo` takes a minute or two), serves it with `allo serve` on a spare
port, records a few searches, views and feedback (so the editors' statistics page has figures), and
saves one PNG per page here, with the operator's desk reading a real fiche beside a call, and a warm
transfer: the operator consulting the tax centre, and the expert's desk during that consult.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
ALLO = ROOT / ".venv" / "bin" / "allo"
PAGES = [
    ("portal-home", "/"),
    ("portal-search", "/recherche?q=j%27ai+perdu+ma+carte+grise"),
    # a real fiche: DILA's warning first, its questionnaire, conditions, services, attribution
    ("portal-fiche", "/fiches/F10027"),
    ("portal-fiche-avertissement", "/fiches/F1"),
    # the same fiche once the visitor answered: only what concerns them
    ("portal-fiche-situation", "/fiches/F10027?q0=2&q1=0&q4=0#texte"),
    ("portal-recherche-guidee", "/fiches/F34300?chemin=1.0#parcours"),
    ("portal-theme", "/themes/logement/"),
    ("portal-dossier", "/themes/n19424/"),
    ("portal-fiche-locale", "/fiches/aah"),
    ("portal-contact", "/contact/"),
]


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="allo-shots-"))
    env = os.environ | {"ALLO_DATA_DIR": str(data), "ALLO_HTTPS": "0", "ALLO_LOG_LEVEL": "WARNING"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    subprocess.run([str(ALLO), "init", "--demo"], env=env, check=True, capture_output=True)
    created = subprocess.run([str(ALLO), "token", "create", "--role", "telephony"], env=env, check=True,
                             capture_output=True, text=True)
    token = created.stdout.strip().split()[-1]  # printed last
    server = subprocess.Popen([str(ALLO), "serve", "--port", str(port), "--no-callgen"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300  # with the real corpus the server loads its search index first
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("allo serve did not start") from None
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--headless", "--no-sandbox", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            for name, path in PAGES:
                page.goto(base + path)
                full = "#" not in path  # an anchor: the part it points to, as a visitor lands on it
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
            # the callback form with its French error messages
            page.goto(base + "/contact/")
            page.fill("#id_phone", "06 12 34")
            page.click("button:has-text('Demander un rappel')")
            page.wait_for_load_state()
            page.locator("#rappel").screenshot(path=str(OUT / "portal-contact-errors.png"))
            # some activity, then the editors' statistics
            for q in ["carte grise perdue", "carte grise perdue", "allocation logement", "passeport urgent",
                      "zzz inconnu", "aide pour les lunettes de mon chien", "prime activite", "carte grise perdue"]:
                page.goto(base + "/recherche?q=" + q.replace(" ", "+"))
            for fiche in ["aah", "aah", "aah", "apa"]:
                page.goto(base + f"/fiches/{fiche}")
            page.goto(base + "/fiches/apa")
            page.click("#avis a:has-text('Non')")  # the form comes in place with the answer chosen
            page.fill("#avis-commentaire", "Il manque le délai de réponse du département.")
            page.click("button:has-text('Envoyer mon avis')")
            page.wait_for_timeout(2500)  # the server writes views and searches every 2 s
            page.goto(base + "/connexion/?next=/redaction/statistiques/")
            page.fill("input[name=username]", "redacteur")
            page.fill("input[name=password]", "allo-demo-2026")
            page.keyboard.press("Enter")
            page.locator("h1:has-text('Statistiques du portail')").wait_for()
            page.screenshot(path=str(OUT / "portal-statistics.png"), full_page=True)
            desk_reading_a_fiche(browser, base, token)
            desk_consulting_an_expert(browser, base, token)
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(data, ignore_errors=True)
    print("\n".join(str(p.relative_to(ROOT)) for p in sorted(OUT.glob("*-*.png"))))


def _desk(browser, base: str, username: str, space: str, heading: str):
    """A desk signed in and ready."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    page.goto(base + f"/connexion/?next={space}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "allo-demo-2026")
    page.click("button[type=submit]:has-text('Se connecter')")
    page.locator(f"h1:has-text('{heading}')").wait_for()
    if page.locator("#bouton-pret").count():
        page.click("#bouton-pret")
    return page


def _call_offered(page, base: str, token: str, caller: str) -> None:
    """A call comes in through the telephony API and reaches this desk."""
    request = urllib.request.Request(base + "/api/telephony/calls", method="POST",
                                     data=json.dumps({"caller": caller, "dialed": "3939"}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    urllib.request.urlopen(request).close()
    for _ in range(50):
        page.reload()
        if page.locator("#appel-en-cours").count():
            break
        time.sleep(0.2)


def desk_reading_a_fiche(browser, base: str, token: str) -> None:
    """The operator on a call opens a real fiche in the desk's panel and notes it for the wrap-up."""
    page = _desk(browser, base, "operateur", "/operateur/", "Poste opérateur")
    _call_offered(page, base, token, "+33612345678")
    page.fill("#recherche-kb", "complémentaire santé solidaire")
    page.locator("#zone-kb a", has_text="Complémentaire santé solidaire (ex-CMU-C)").click()
    page.locator("#panneau-titre").wait_for()
    page.click("[data-use-fiche]")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(OUT / "desk-fiche.png"))
    page.close()


def desk_consulting_an_expert(browser, base: str, token: str) -> None:
    """Warm transfer: the operator consults the tax centre with the call's question; the caller holds,
    the expert's desk shows who consults and the context."""
    expert = _desk(browser, base, "expert-impots", "/expert/", "Poste expert")
    page = _desk(browser, base, "operateur2", "/operateur/", "Poste opérateur")
    _call_offered(page, base, token, "+33698765432")
    page.fill("#question", "Revenus d'un appartement loué en Espagne : où les déclarer ?")
    page.fill("#note", "Appelant résident en France, premier bail cette année.")
    page.check("#dest-impots", force=True)
    page.click("#bouton-consulter")
    page.locator("#consultation").wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(OUT / "desk-consult-operator.png"))
    expert.reload()
    expert.locator("#consultation").wait_for()
    expert.screenshot(path=str(OUT / "desk-consult-expert.png"))
    page.close()
    expert.close()


if __name__ == "__main__":
    main()
