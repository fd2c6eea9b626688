"""Screenshots of the citizen portal for the README (PNG, headless Debian chromium via Playwright).

    .venv/bin/python docs/screenshots/take_screenshots.py

Loads the demo into a temporary database, serves it with `allo serve` on a spare port, records a few
searches, views and feedback (so the editors' statistics page has figures), and saves one PNG per page here.
"""

from __future__ import annotations

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
    ("portal-fiche", "/fiches/aah"),
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
    server = subprocess.Popen([str(ALLO), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--headless", "--no-sandbox", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            for name, path in PAGES:
                page.goto(base + path)
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
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
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(data, ignore_errors=True)
    print("\n".join(str(p.relative_to(ROOT)) for p in sorted(OUT.glob("portal-*.png"))))


if __name__ == "__main__":
    main()
