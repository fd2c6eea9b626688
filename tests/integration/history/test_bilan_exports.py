"""The « Bilan » as files (issue 12, item 4): the month's tables as CSV, ODS and XLSX and the monthly PDF
report, from the page and from `allo report --format`, each read back with its format's library and
compared with `allo report --json` and the stored call records (never with written-in numbers); for
supervisors and administrators only."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from report_files import (
    Percent,
    csv_number,
    pdf_pages,
    pdf_structure,
    pdf_text,
    pdf_title,
    read_csv,
    read_ods,
    read_xlsx,
)
from test_history_import_report import generated_csv, run, write

from allo.accounts.models import User
from allo.history.models import CallRecord, ImportBatch
from allo.kb.models import Fiche
from allo.reports.http import size_label
from allo.reports.tables import display

pytestmark = [pytest.mark.django_db]
FIGURES = ["offered", "answered", "abandoned", "asa_s", "service_level", "aht_s", "servicelevel_perf",
           "servicelevel_perf2"]
PERCENTS = {"service_level", "servicelevel_perf", "servicelevel_perf2"}
PARIS = ZoneInfo("Europe/Paris")
SHEETS = ["Par jour", "Niveau 2 par file", "Par file", "Par destination", "Par thème", "Par numéro composé", "Par fiche", "Par agent"]


@pytest.fixture
def march(demo, tmp_path):
    """Three thousand calls from 20 March to 10 April 2026 (generated_csv), as a previous system gives them."""
    run("history", "import", str(write(tmp_path, generated_csv(3000, seed=12))))


def march_records(field: str) -> dict[str, int]:
    """The records of March (local days) per value of a field, those without one left out."""
    want: dict[str, int] = {}
    for value, at in CallRecord.objects.exclude(**{field: ""}).values_list(field, "arrived_at"):
        if at.astimezone(PARIS).month == 3:
            want[value] = want.get(value, 0) + 1
    return want


def flat(text: str) -> str:
    """Text as compared with a PDF's: spaces (no-break ones too) and line ends as one space."""
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def supervisor(username: str = "superviseur") -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def report_json(*args: str) -> dict:
    return json.loads(run("report", "--from", "2026-03-01", "--to", "2026-03-31", "--json", *args))


def assert_day_rows(rows: list[list], data: dict, exact: bool = True) -> None:
    """A sheet's day rows (after its title and header) against `allo report --json`: same days, same figures."""
    assert len(rows) == len(data["days"]) + 1
    for row, day in zip(rows, [*data["days"], {"date": "Total", **data["total"]}], strict=True):
        first = row[0] if isinstance(row[0], str) else row[0].isoformat()
        assert first == day["date"]
        for value, key in zip(row[1:], FIGURES, strict=True):
            if day[key] is None:
                assert value is None, (day["date"], key)
            elif exact:
                assert value == day[key], (day["date"], key)
            else:  # the CSV shows 1 decimal of percentages and 2 of seconds
                assert value == pytest.approx(day[key], abs=0.0006 if key in PERCENTS else 0.006), (day["date"], key)
            if key in PERCENTS and value is not None and exact:
                assert isinstance(value, Percent), key  # shown and kept as a percentage


@pytest.mark.parametrize("fmt, reader", [("ods", read_ods), ("xlsx", read_xlsx)])
def test_the_spreadsheets_hold_the_figures_of_allo_report(march, fmt, reader):
    data = report_json()
    response = supervisor().get(f"/supervision/bilan.{fmt}", {"mois": "2026-03"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="bilan-2026-03.{fmt}"'
    sheets = reader(response.content)
    assert list(sheets) == SHEETS
    days = sheets["Par jour"]
    assert days[0][0] == "Bilan par jour, mars 2026, toute la ligne (niveau 1)" and days[1][0] == "Jour"
    assert_day_rows(days[2:], data)
    assert all(isinstance(r[0], dt.date) for r in days[2:-1])  # dates a spreadsheet sorts
    assert sum(r[1] for r in days[2:-1]) == days[-1][1] == data["total"]["offered"]

    # per queue: each queue's row is `allo report --queue Q`'s total
    for row in sheets["Par file"][2:]:
        total = report_json("--queue", row[0])["total"]
        assert row[1:] == [total[k] for k in FIGURES], row[0]
    # per theme, origin and agent: the records of March (local days) that have one, counted from the records
    for sheet, field in [("Par thème", "theme"), ("Par numéro composé", "origin"), ("Par agent", "agent")]:
        want = march_records(field)
        assert {r[0]: r[1] for r in sheets[sheet][2:]} == want, sheet
        assert want, sheet
    # per fiche: its id, its title in the knowledge base (its id for a fiche unknown to it), then the figures
    fiches = sheets["Par fiche"]
    assert fiches[1][:3] == ["Fiche", "Titre", "Présentés"]
    assert {r[0]: r[2] for r in fiches[2:]} == march_records("fiche")
    titles = dict(Fiche.objects.values_list("id", "title"))
    assert {r[0]: r[1] for r in fiches[2:]} == {r[0]: titles.get(r[0], r[0]) for r in fiches[2:]}
    assert [r[2] for r in fiches[2:]] == sorted((r[2] for r in fiches[2:]), reverse=True)  # the most cited first


def test_the_csv_holds_the_same_tables_in_the_french_dialect(march):
    data = report_json("--queue", "n1")
    response = supervisor().get("/supervision/bilan.csv", {"mois": "2026-03", "file": "n1"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bilan-2026-03-n1.csv"'
    rows = read_csv(response.content)
    assert rows[0] == ["Bilan par jour, mars 2026, file n1"] and rows[1][0] == "Jour"
    days = [[r[0], *(csv_number(x) for x in r[1:])] for r in rows[2:2 + 32]]
    assert_day_rows(days, data, exact=False)
    titles = [rows[i + 1][0] for i, r in enumerate(rows) if r == []]  # an empty line, then the next table's title
    assert [t.split(",")[0] for t in titles] == SHEETS[1:]


def test_the_monthly_pdf_report(march):
    client = supervisor()
    data = report_json()
    response = client.get("/supervision/bilan.pdf", {"mois": "2026-03"})
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="rapport-mensuel-2026-03.pdf"'
    body = response.content
    assert pdf_title(body) == "Bilan mensuel, mars 2026, toute la ligne (niveau 1)"
    # tagged (PDF/UA): French, its headings, its tables with their header cells, the two charts with
    # what they show in words
    structure = pdf_structure(body)
    assert structure["lang"] == "fr" and structure["marked"]
    assert {"/H1", "/H2", "/Table", "/Caption", "/TH", "/TD"} <= set(structure["types"])
    total = data["total"]
    calls, rate = structure["figures"]
    assert calls.startswith("Barres par jour du 01/03/2026 au 31/03/2026") and f"{total['answered']} répondus" in calls
    assert rate.startswith("Courbe du niveau de service par jour") and "objectif 80 %" in rate
    # the period in brief, then every table with rows (the ODS has the same tables, each its title first)
    sheets = read_ods(client.get("/supervision/bilan.ods", {"mois": "2026-03"}).content)
    text = flat(pdf_text(body))
    assert pdf_pages(body) >= 2  # the brief and its charts, then the tables from a new page
    for words in ["Appels par jour", "Niveau de service par jour", "ServicelevelPerf, Asterisk",
                  "ServicelevelPerf2, Asterisk", f"Appels présentés {display(total['offered'], 'int')}",
                  display(total["service_level"], "percent"), display(total["servicelevel_perf"], "percent"),
                  display(total["servicelevel_perf2"], "percent"), "alice", "Titre",
                  Fiche.objects.get(pk="aah").title, *(rows[0][0] for rows in sheets.values() if rows[2:])]:
        assert flat(words) in text, words


def test_the_page_links_each_file_with_its_format_and_size_and_shows_the_same_tables(march):
    client = supervisor()
    page = client.get("/supervision/bilan/", {"mois": "2026-03", "file": "n1"}).content.decode()
    links = dict(re.findall(r'<a class="fr-link fr-link--download" href="([^"]+)"[^>]*>([^<]+)<span', page))
    assert list(links.values()) == ["Télécharger les données (CSV) ", "Télécharger les données (ODS) ",
                                    "Télécharger les données (XLSX) ", "Rapport mensuel (PDF) "]
    details = re.findall(r'<span class="fr-link__detail">([^<]+)</span>', page)
    for (url, _), detail in zip(links.items(), details, strict=True):
        url = url.replace("&amp;", "&")
        assert "mois=2026-03&file=n1" in url
        body = client.get(url).content
        if url.startswith("/supervision/bilan.pdf"):  # set in pages on demand: what it is, not its size
            assert detail == "PDF – accessible (balisé)" and body.startswith(b"%PDF-")
        else:  # the exact size, as DSFR's download links give it
            assert detail == f"{url.split('.')[1].split('?')[0].upper()} – {size_label(len(body))}"
    # the page's day table is the files' and `allo report`'s
    data = report_json("--queue", "n1")
    monday = next(d for d in data["days"] if d["date"] == "2026-03-23")
    cells = "".join(f"<td>{display(monday[k], 'percent' if k in PERCENTS else 'seconds' if k.endswith('_s') else 'int')}</td>"
                    for k in FIGURES)
    assert f'<th scope="row">lun. 23/03/2026</th>{cells}' in page
    for caption in ["Par file, mars 2026", "Par thème, mars 2026, toute la ligne (niveau 1)",
                    "Par fiche, mars 2026, toute la ligne (niveau 1)", "Par agent, mars 2026, toutes files"]:
        assert f"<caption>{caption}</caption>" in page


def test_the_fiche_table_gives_the_titles_of_the_most_cited_fiches(march, monkeypatch):
    from django.utils.html import escape

    from allo.history import exports

    title = Fiche.objects.get(pk="impot-revenu-declaration").title
    calls = march_records("fiche")
    page = supervisor().get("/supervision/bilan/", {"mois": "2026-03"}).content.decode()
    assert f'<th scope="row">impot-revenu-declaration</th><td>{escape(title)}</td>' in page
    assert '<th scope="row">ancienne-fiche-99</th><td>ancienne-fiche-99</td>' in page  # unknown to the KB: its id
    assert f"<td>{display(calls['aah'], 'int')}</td>" in page.split('<th scope="row">aah</th>')[1].split("</tr>")[0]

    monkeypatch.setattr(exports, "FICHES_SHOWN", 2)
    page = supervisor().get("/supervision/bilan/", {"mois": "2026-03"}).content.decode()
    assert "<caption>Par fiche, mars 2026, toute la ligne (niveau 1), les 2 plus citées sur 3</caption>" in page
    least = sorted(calls, key=lambda k: (-calls[k], k))[-1]  # by calls, then id, as services.breakdown
    assert f'<th scope="row">{least}</th>' not in page
    assert all(f'<th scope="row">{k}</th>' in page for k in calls if k != least)


def test_allo_report_writes_the_same_files(march, tmp_path):
    web = read_xlsx(supervisor().get("/supervision/bilan.xlsx", {"mois": "2026-03"}).content)
    out = tmp_path / "bilan.xlsx"
    said = run("report", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "xlsx", "--output", str(out))
    assert "bilan mars 2026, toute la ligne (niveau 1)" in said
    assert read_xlsx(out.read_bytes()) == web
    pdf = tmp_path / "bilan.pdf"
    run("report", "--from", "2026-03-20", "--to", "2026-03-22", "--queue", "n1", "--format", "pdf", "--output", str(pdf))
    assert pdf_title(pdf.read_bytes()) == "Bilan du 20/03/2026 au 22/03/2026, file n1"
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--format et --output vont ensemble"):
        run("report", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "ods")


@pytest.mark.parametrize("username, allowed", [("superviseur", True), ("admin", True), ("operateur", False),
                                               ("expert-impots", False), ("redacteur", False)])
def test_the_files_are_for_supervisors_and_administrators(demo, username, allowed):
    client = supervisor(username)
    for fmt in ("csv", "ods", "xlsx", "pdf"):
        assert client.get(f"/supervision/bilan.{fmt}", {"mois": "2026-03"}).status_code == (200 if allowed else 403)
    assert Client().get("/supervision/bilan.ods").status_code == 302  # anonymous: to the sign-in


@pytest.mark.parametrize("months, today, shown", [
    (["2026-03", "2026-04"], "2026-04-03", "2026-03"),  # early April: March's bilan is the one reported
    (["2026-03", "2026-04"], "2026-04-08", "2026-04"),
    (["2026-03", "2026-04"], "2026-05-02", "2026-04"),  # nothing in May yet: the latest with figures
    (["2026-04"], "2026-04-03", "2026-04"),
    ([], "2026-04-03", "2026-04"),
])
def test_the_default_month_is_the_one_to_report(db, months, today, shown):
    from allo.history.models import Stat
    from allo.history.views import default_month

    for month in months:
        Stat.objects.create(grain="1M", dim="all", period=dt.date.fromisoformat(f"{month}-01"), offered=10)
    assert default_month(dt.date.fromisoformat(today)) == dt.date.fromisoformat(f"{shown}-01")


@pytest.fixture
def transfers(demo):
    """Calls of Monday 2 March 2026 at both levels, as the live router's journal gives them (legs): an N1
    call answered after 40 s (transferred to the tax centre), and at N2, from the transfer, the tax centre's
    calls answered after 40 s and 90 s, abandoned after 3 s (short) and 30 s, the informant centre's answered
    after 10 s."""
    from allo.history import services
    from allo.history.records import Leg

    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
    legs = [Leg(at, "n1", "answered", 40.0, 200.0, level=1, agent="operateur", destination="impots"),
            Leg(at, "n2-impots", "answered", 40.0, 600.0, level=2, agent="expert-impots"),
            Leg(at, "n2-impots", "answered", 90.0, 500.0, level=2, agent="expert-impots"),
            Leg(at, "n2-impots", "abandoned", 3.0, None, level=2),
            Leg(at, "n2-impots", "abandoned", 30.0, None, level=2),
            Leg(at, "cira-lyon", "answered", 10.0, 300.0, level=2, agent="expert-cira")]
    batch = ImportBatch.objects.create(filename="n2", sha256="n2" * 32, rows=len(legs))
    services.insert_records(legs, batch)
    services.rebuild(dt.date(2026, 3, 2), dt.date(2026, 3, 2))


def test_the_n2_queues_are_reported_with_the_n2_threshold(transfers):
    """An N2 call answered 40 s after its transfer is within the N2 threshold (60 s), the N1 call answered after
    40 s is not within the N1 one (20 s): the « Bilan » has an N2 table (per N2 queue: offered, answered,
    abandons, abandon rate, N2 service level with its threshold in the column's title, N2 ASA, and the N2
    total), in the page, the files and the PDF; `allo report --queue` gives an N2 queue's level and threshold."""
    from django.utils.html import escape

    from allo.history.models import Queue

    n2 = report_json("--queue", "n2-impots")
    assert (n2["level"], n2["threshold_s"]) == (2, 60.0)
    assert n2["total"]["service_level"] == round(1 / 3, 4)  # 40 s of 40, 90, abandons 3 s (short) and 30 s
    assert n2["total"]["servicelevel_perf"] == 0.5 and n2["total"]["servicelevel_perf2"] == 0.75  # Asterisk's: T = 60
    n1 = report_json("--queue", "n1")
    assert (n1["level"], n1["threshold_s"], n1["total"]["service_level"]) == (1, 20.0, 0.0)
    assert report_json()["total"]["service_level"] == 0.0  # the line: level-1 calls only

    client = supervisor()
    page = client.get("/supervision/bilan/", {"mois": "2026-03"}).content.decode()
    n2_table = page.split("<caption>Niveau 2 par file, mars 2026, délai compté depuis le transfert</caption>")[1]
    n2_table = n2_table.split("</table>")[0]
    header = re.findall(r'<th scope="col">([^<]+)</th>', n2_table)
    assert header == ["File", "Centre", "Présentés (transferts)", "Répondus", "Abandons", "Taux d&#x27;abandon",
                      "Niveau de service (60 s)", "Attente moyenne au niveau 2 (ASA, s)"]

    def row(key: str, *cells) -> str:
        return f'<th scope="row">{escape(key)}</th>' + "".join(f"<td>{escape(c)}</td>" for c in cells)

    nn = "\u202f"
    tax = Queue.objects.get(code="n2-impots").name
    assert row("n2-impots", tax, "4", "2", "2", f"50,0{nn}%", f"33,3{nn}%", f"65{nn}s") in n2_table
    cira = Queue.objects.get(code="cira-lyon").name
    assert row("cira-lyon", cira, "1", "1", "0", f"0,0{nn}%", f"100,0{nn}%", f"10{nn}s") in n2_table
    # the N2 total: 2 within 60 s / (5 offered - 1 short abandon); (40 + 90 + 10) / 3 s
    assert row("Total niveau 2", "—", "5", "3", "2", f"40,0{nn}%", f"50,0{nn}%", f"47{nn}s") in n2_table
    assert "répondus en 60 s / présentés hors abandons de moins de 5 s" in page
    # « Par file » holds both levels, each within its own threshold
    assert '<th scope="col">Niveau de service (N1 : 20 s, N2 : 60 s)</th>' in page
    assert page.count(row("n1", "1", "1", "0", f"40{nn}s", f"0,0{nn}%")) == 1
    # an N2 queue's own « bilan »: its day table and its hint with the N2 threshold
    page = client.get("/supervision/bilan/", {"mois": "2026-03", "file": "n2-impots"}).content.decode()
    assert '<th scope="col">Niveau de service (60 s)</th>' in page and "répondus en 60 s / présentés" in page
    assert f'<th scope="row">lun. 02/03/2026</th><td>4</td><td>2</td><td>2</td><td>65{nn}s</td><td>33,3{nn}%</td>' in page

    # the files: the same table, typed, in its own sheet; and in the PDF
    sheets = read_ods(client.get("/supervision/bilan.ods", {"mois": "2026-03"}).content)
    assert list(sheets) == SHEETS
    table = sheets["Niveau 2 par file"]
    assert table[1][6] == "Niveau de service (60 s)"
    assert table[2][:7] == ["n2-impots", tax, 4, 2, 2, 0.5, pytest.approx(1 / 3, abs=1e-4)]
    assert table[-1][0] == "Total niveau 2" and table[-1][6] == 0.5
    rows = read_csv(client.get("/supervision/bilan.csv", {"mois": "2026-03"}).content)
    at = rows.index(["Niveau 2 par file, mars 2026, délai compté depuis le transfert"])
    assert rows[at + 2][:7] == ["n2-impots", tax, "4", "2", "2", "50,0 %", "33,3 %"]
    body = client.get("/supervision/bilan.pdf", {"mois": "2026-03"}).content
    text = flat(pdf_text(body))
    assert all(words in text for words in ["Niveau 2 par file, mars 2026, délai compté depuis le transfert",
                                           "Total niveau 2"])
    # the period in brief ends with the N2 total, before the tables (« Bilan par jour »)
    brief = text[:text.index("Bilan par jour")]
    for label, value in [("Transferts vers le niveau 2 (toute la ligne)", "5"), ("Répondus au niveau 2", "3"),
                         ("Taux d'abandon au niveau 2", f"40,0{nn}%"),
                         ("Niveau de service du niveau 2 (répondus en 60 s après le transfert)", f"50,0{nn}%"),
                         ("Attente moyenne au niveau 2 (ASA)", f"47{nn}s")]:
        assert flat(f"{label} {value}") in brief, label


def test_a_server_without_pango_says_why_there_is_no_pdf(march, tmp_path, monkeypatch):
    """WeasyPrint's system libraries missing (its import raises OSError): the PDF link answers 503 with
    the reason in French, `allo report --format pdf` says it; the spreadsheets are unaffected."""
    from django.core.management.base import CommandError

    from allo.reports import pdf

    def missing():
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(pdf, "_weasyprint_html", missing)
    client = supervisor()
    response = client.get("/supervision/bilan.pdf", {"mois": "2026-03"})
    assert response.status_code == 503 and "libpango-1.0-0" in response.content.decode()
    assert client.get("/supervision/bilan.ods", {"mois": "2026-03"}).status_code == 200
    with pytest.raises(CommandError, match="il lui manque la bibliothèque Pango"):
        run("report", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "pdf",
            "--output", str(tmp_path / "b.pdf"))
