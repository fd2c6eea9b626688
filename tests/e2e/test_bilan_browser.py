"""The « Bilan » in a browser: a supervisor opens a month of imported call records, axe finds nothing
serious on the page (download links, data tables), and the ODS and PDF links download files under their
French names that open with the format's library. ALLO_UPDATE_SCREENSHOTS=1 writes docs/screenshots/bilan.png."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from axe_check import axe_violations
from report_files import pdf_pages, pdf_title, read_ods

pytestmark = pytest.mark.browser


def records_csv(path: Path) -> Path:
    """Two hundred calls in March 2026, as a previous system writes them."""
    rng = random.Random(3)
    lines = ["arrived_at,queue,outcome,waited_s,talk_s,agent,theme,origin"]
    for _ in range(200):
        answered = rng.random() < 0.8
        lines.append(f"2026-03-{rng.randint(2, 27):02d}T{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:00+01:00,"
                     f"n1,{'answered' if answered else 'abandoned'},{rng.randint(1, 90)},"
                     f"{rng.randint(60, 400) if answered else 0},{rng.choice(['alice', 'bob']) if answered else ''},"
                     f"{rng.choice(['Impôts', 'Famille'])},3939")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_supervisor_downloads_the_months_files_from_an_accessible_page(login, demo_live, tmp_path):
    from django.core.management import call_command

    call_command("history", "import", str(records_csv(tmp_path / "appels.csv")), verbosity=0)
    supervisor = login(demo_live.url, "superviseur")
    supervisor.goto(demo_live.url + "/supervision/bilan/?mois=2026-03")
    assert supervisor.locator("h1").inner_text() == "Bilan"
    serious = [f"{v['id']} ({v['impact']}) {v['help']}: {[n['target'] for n in v['nodes']][:3]}"
               for v in axe_violations(supervisor) if v["impact"] in ("serious", "critical")]
    assert serious == []
    if os.environ.get("ALLO_UPDATE_SCREENSHOTS") == "1":  # docs/screenshots/bilan.png: the chart and the links
        supervisor.set_viewport_size({"width": 1280, "height": 1300})
        supervisor.screenshot(path=str(Path(__file__).resolve().parents[2] / "docs/screenshots/bilan.png"))

    with supervisor.expect_download() as ods:
        supervisor.click("a.fr-link--download:has-text('(ODS)')")
    assert ods.value.suggested_filename == "bilan-2026-03.ods"
    sheets = read_ods(Path(ods.value.path()).read_bytes())
    assert sheets["Par jour"][-1][:2] == ["Total", 200.0]
    assert {r[0]: r[1] for r in sheets["Par thème"][2:]}.keys() == {"Impôts", "Famille"}

    with supervisor.expect_download(timeout=60_000) as report:  # set in pages on demand: seconds on a busy machine
        supervisor.click("a.fr-link--download:has-text('Rapport mensuel (PDF)')")
    assert report.value.suggested_filename == "rapport-mensuel-2026-03.pdf"
    body = Path(report.value.path()).read_bytes()
    assert pdf_title(body) == "Bilan mensuel, mars 2026, toute la ligne (niveau 1)"
    detail = supervisor.locator("a.fr-link--download:has-text('Rapport mensuel (PDF)') .fr-link__detail").inner_text()
    assert detail == "PDF – accessible (balisé)" and pdf_pages(body) >= 2
