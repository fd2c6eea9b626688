"""The partner's space (issue 13, item 4): the calls the line absorbed for the partner in a month, per
day and per local hour, answered at N1 vs transferred vs returned (fiche de liaison), its top themes
and fiches, the month's CSV; an account of the role without a partner is refused; the demo's partner
accounts are seeded once and never overwritten."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from report_files import Percent, pdf_pages, pdf_structure, pdf_text, pdf_title, read_ods, read_xlsx

from allo.accounts.models import User
from allo.contact_centre.models import Contact, WrapUp
from allo.kb.models import Theme
from allo.partners.models import Liaison, Partner, PartnerAgent

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def staff(username: str) -> Client:
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


def call(call_id, partner, at: dt.datetime, **fields) -> Contact:
    contact = Contact.objects.create(call_id=call_id, partner=partner, caller="+33611223344", state="ended",
                                     level=1, **fields)
    Contact.objects.filter(pk=call_id).update(created=at)  # auto_now_add: set afterwards
    return contact


@pytest.fixture
def november(demo):
    """Calls the Mairie de Rouen sent in November 2026 (and one of the CAF's, one just after the month)."""
    rouen, caf = Partner.objects.get(code="mairie-rouen"), Partner.objects.get(code="caf-rhone")
    themes = list(Theme.objects.filter(parent=None).order_by("slug")[:2])
    a = call("a", rouen, dt.datetime(2026, 11, 3, 9, 15, tzinfo=PARIS), answered=True, waited_s=5)
    b = call("b", rouen, dt.datetime(2026, 11, 3, 9, 40, tzinfo=PARIS), answered=True, waited_s=30,
             transferred_to="impots")
    c = call("c", rouen, dt.datetime(2026, 11, 3, 14, 40, tzinfo=PARIS), answered=True, waited_s=3)
    call("d", rouen, dt.datetime(2026, 11, 4, 9, 5, tzinfo=PARIS), outcome="abandoned", waited_s=60)
    f = call("f", rouen, dt.datetime(2026, 11, 30, 23, 30, tzinfo=PARIS), answered=True, waited_s=10)
    call("g", rouen, dt.datetime(2026, 12, 1, 0, 10, tzinfo=PARIS), answered=True, waited_s=1)  # December
    call("h", caf, dt.datetime(2026, 11, 3, 10, 0, tzinfo=PARIS), answered=True, waited_s=1)  # the CAF's
    Liaison.objects.create(partner=rouen, contact=c, caller_name="Jeanne Dupont", request="Un rendez-vous.")
    for contact, theme, fiches in [(a, themes[0], ["passeport-majeur"]), (c, themes[0], ["passeport-majeur"]),
                                   (f, themes[1], ["acte-naissance"])]:
        WrapUp.objects.create(contact=contact, level=1, top_theme=theme, theme=theme, fiches=fiches,
                              outcome="answered")
    WrapUp.objects.create(contact=b, level=2, top_theme=themes[1], fiches=["acte-naissance"], outcome="answered")
    return themes


@pytest.mark.any_db  # the figures' SQL (local-time truncation, Exists in counts)
def test_the_month_per_day_and_local_hour_with_the_three_outcomes_apart(november):
    page = staff("partenaire-rouen").get(reverse("partner-space"), {"mois": "2026-11"}).content.decode()
    summary = page[page.index('id="synthese"'):page.index("</ul>", page.index('id="synthese"'))]
    for text in ["Appels reçus : 5", "Répondus au niveau 1 : 2", "Transférés au niveau 2 : 1",
                 "Transmis à votre administration : 1", "Abandonnés : 1", "Taux de service : 60 %"]:
        assert text in summary, (text, summary)
    hours = page[page.index('id="table-heures"'):page.index("</table>", page.index('id="table-heures"'))]
    assert "09 h – 10 h</th><td>3</td><td>1</td><td>1</td><td>0</td><td>1</td>" in hours
    assert "14 h – 15 h</th><td>1</td><td>0</td><td>0</td><td>1</td><td>0</td>" in hours
    assert "23 h – 24 h</th><td>1</td><td>1</td>" in hours  # local time, not UTC (22:30 UTC)
    assert "10 h – 11 h" not in hours  # the CAF's call is the CAF's
    days = page[page.index('id="table-jours"'):]
    assert "mardi 3</th><td>3</td>" in days and "mercredi 4</th><td>1</td>" in days and "lundi 30</th><td>1</td>" in days


@pytest.mark.any_db  # the figures' SQL (local-time truncation, Exists in counts)
def test_top_themes_and_fiches_come_from_the_level_1_wrap_ups(november):
    page = staff("partenaire-rouen").get(reverse("partner-space"), {"mois": "2026-11"}).content.decode()
    themes = page[page.index('id="top-themes"'):page.index("</ol>", page.index('id="top-themes"'))]
    assert themes.index(f"{november[0].label} (2)") < themes.index(f"{november[1].label} (1)")
    fiches = page[page.index('id="top-fiches"'):page.index("</ol>", page.index('id="top-fiches"'))]
    assert "(2)" in fiches.split("</li>")[0] and "(1)" in fiches.split("</li>")[1]  # the N2 wrap-up not counted


@pytest.mark.any_db  # the figures' SQL (local-time truncation, Exists in counts)
def test_the_monthly_csv(november):
    response = staff("partenaire-rouen").get(reverse("partner-report-csv"), {"mois": "2026-11"})
    assert response["Content-Disposition"] == 'attachment; filename="appels-mairie-rouen-2026-11.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Mairie de Rouen : appels pris en charge par le 3939, novembre 2026"]
    header = rows[1]
    assert header[:5] == ["jour", "Appels reçus", "Répondus au niveau 1", "Transférés au niveau 2",
                          "Transmis au partenaire (fiche de liaison)"]
    by_day = {r[0]: r for r in rows[2:32]}
    assert len(by_day) == 30 and by_day["2026-11-03"][1:5] == ["3", "1", "1", "1"]
    assert by_day["2026-11-04"][1:6] == ["1", "0", "0", "0", "1"] and by_day["2026-11-05"][1] == "0"
    total = rows[32]
    assert total[:7] == ["total", "5", "2", "1", "1", "1", "60,0 %"]
    assert rows[33] == [] and rows[34] == ["Mairie de Rouen, novembre 2026 : par heure"] and rows[35][0] == "heure"
    hours = {r[0]: r for r in rows[36:] if r}
    assert hours["09 h"][1] == "3" and hours["23 h"][1] == "1" and len(hours) == 24


def test_a_bad_month_gets_a_french_message(november):
    page = staff("partenaire-rouen").get(reverse("partner-space"), {"mois": "novembre"}).content.decode()
    assert "Mois invalide : choisissez un mois dans la liste." in page


def test_an_administrator_chooses_the_partner(november):
    admin = staff("admin")
    page = admin.get(reverse("partner-space"), {"mois": "2026-11", "partenaire": "caf-rhone"}).content.decode()
    assert "CAF du Rhône : appels pris en charge" in page and "Appels reçus : 1" in page


def test_a_partner_account_without_its_administration_is_refused(demo):
    user = User.objects.create_user("partenaire-orphelin", password="x")
    user.groups.set([Group.objects.get(name="partner")])
    response = staff("partenaire-orphelin").get(reverse("partner-space"))
    assert response.status_code == 403 and "Appels reçus" not in response.content.decode()
    assert staff("partenaire-orphelin").get(reverse("partner-report-csv")).status_code == 403


def test_the_demo_partner_accounts_are_seeded_once_and_never_overwritten(demo):
    from allo.partners.demo import load_demo_partners

    rouen = User.objects.get(username="partenaire-rouen")
    assert rouen.has_role("partner") and rouen.partner_agent.partner.code == "mairie-rouen"
    assert {a.user.username: a.partner.code for a in PartnerAgent.objects.select_related("user", "partner")} == {
        "partenaire-rouen": "mairie-rouen", "partenaire-gironde": "prefecture-gironde",
        "partenaire-caf": "caf-rhone"}
    rouen.first_name = "Changée"
    rouen.set_password("un-autre-mot-de-passe")
    rouen.save()
    PartnerAgent.objects.filter(user=rouen).update(partner=Partner.objects.get(code="caf-rhone"))
    User.objects.filter(username="partenaire-gironde").delete()
    load_demo_partners()
    rouen.refresh_from_db()
    assert rouen.first_name == "Changée" and rouen.check_password("un-autre-mot-de-passe")
    assert rouen.partner_agent.partner.code == "caf-rhone"
    gironde = User.objects.get(username="partenaire-gironde")  # a missing one comes back
    assert gironde.partner_agent.partner.code == "prefecture-gironde" and gironde.check_password("allo-demo-2026")


@pytest.mark.any_db  # the figures' SQL (local-time truncation, Exists in counts)
def test_the_monthly_ods_is_an_opendocument_spreadsheet_with_numbers(november):
    import zipfile

    response = staff("partenaire-rouen").get(reverse("partner-report-ods"), {"mois": "2026-11"})
    assert response["Content-Type"] == "application/vnd.oasis.opendocument.spreadsheet"
    assert response["Content-Disposition"] == 'attachment; filename="appels-mairie-rouen-2026-11.ods"'
    first = zipfile.ZipFile(io.BytesIO(response.content)).infolist()[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED  # the format's rule
    sheets = read_ods(response.content)
    assert list(sheets) == ["Par jour", "Par heure"]
    days = sheets["Par jour"]
    assert days[0] == ["Mairie de Rouen : appels pris en charge par le 3939, novembre 2026"]
    assert days[1][:2] == ["jour", "Appels reçus"] and len(days) == 2 + 30 + 1
    assert days[4] == [dt.date(2026, 11, 3), 3.0, 1.0, 1.0, 1.0, 0.0, pytest.approx(2 / 3, abs=1e-9)]
    assert isinstance(days[4][-1], Percent)  # a percentage to the spreadsheet, not a text
    assert days[-1] == ["total", 5.0, 2.0, 1.0, 1.0, 1.0, 0.6]
    assert sum(r[1] for r in days[2:-1]) == days[-1][1]  # numbers a spreadsheet can sum
    hours = sheets["Par heure"]
    assert hours[11][:2] == ["09 h", 3.0] and len(hours) == 2 + 24


def test_the_monthly_xlsx_holds_the_same_typed_cells_as_the_ods(november):
    client = staff("partenaire-rouen")
    response = client.get(reverse("partner-report-xlsx"), {"mois": "2026-11"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="appels-mairie-rouen-2026-11.xlsx"'
    xlsx = read_xlsx(response.content)
    ods = read_ods(client.get(reverse("partner-report-ods"), {"mois": "2026-11"}).content)
    assert list(xlsx) == list(ods) == ["Par jour", "Par heure"]
    for sheet in xlsx:
        rows = [[v for v in row if v is not None] for row in xlsx[sheet]]  # openpyxl pads the title row
        assert rows == [[v for v in row if v is not None] for row in ods[sheet]], sheet
    assert isinstance(xlsx["Par jour"][4][-1], Percent) and xlsx["Par jour"][4][0] == dt.date(2026, 11, 3)


@pytest.mark.any_db  # the figures' SQL (local-time truncation, Exists in counts)
def test_the_monthly_pdf_has_the_chart_page_and_the_hours_page(november):
    """A tagged PDF (PDF/UA): the month in brief and its chart (a figure that says in words what it
    shows), then from page 2 the hours with calls and the top themes and fiches."""
    response = staff("partenaire-rouen").get(reverse("partner-report-pdf"), {"mois": "2026-11"})
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="appels-mairie-rouen-2026-11.pdf"'
    body = response.content
    assert pdf_pages(body) == 2
    assert pdf_title(body) == "Mairie de Rouen : appels pris en charge par le 3939, novembre 2026"
    structure = pdf_structure(body)
    assert structure["lang"] == "fr" and structure["marked"]
    assert {"/H1", "/H2", "/Table", "/TH", "/Figure", "/L"} <= set(structure["types"])
    (chart,) = structure["figures"]
    assert chart.startswith("Barres par jour, novembre 2026 : Répondus au niveau 1")
    first, second = pdf_text(body, page=0), pdf_text(body, page=1)
    for words in ("Mairie de Rouen", "novembre 2026", "Appels par jour"):
        assert words in first, (words, first[:500])
    for words in ("par heure", "09 h", "Thèmes les plus fréquents", "Fiches les plus utilisées"):
        assert words in second, (words, second[:500])
