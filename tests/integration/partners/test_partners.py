"""Partner administrations: their entry numbers (French, E.164, unique), the admin in French, the
demo seeded once and never overwritten, and `allo partners list --json`."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from allo.accounts.models import User
from allo.kb.models import Fiche
from allo.partners.models import EntryNumber, Partner, PartnerContact

pytestmark = pytest.mark.django_db


def new_partner(**fields) -> Partner:
    return Partner.objects.create(**({"code": "mairie-test", "name": "Mairie de Test", "kind": "mairie"} | fields))


@pytest.mark.parametrize("raw", ["02 61 91 00 42", "0261910042", "+33 2 61 91 00 42", "+33261910042"])
def test_an_entry_number_is_stored_in_e164(demo, raw):
    number = EntryNumber(partner=new_partner(), number=raw)
    number.full_clean()
    number.save()
    assert EntryNumber.objects.get(pk=number.pk).number == "+33261910042"


@pytest.mark.parametrize("raw, message", [
    ("02 61 91", "n'est pas valide"),
    ("bonjour", "n'est pas valide"),
    ("+44 20 7946 0000", "numéro français"),
    ("0800 00 00 00", "pas un numéro spécial"),
])
def test_a_bad_entry_number_gets_a_french_message(demo, raw, message):
    with pytest.raises(ValidationError) as exc:
        EntryNumber(partner=new_partner(), number=raw).full_clean()
    assert message in " ".join(exc.value.message_dict["number"])


def test_an_entry_number_belongs_to_one_partner_whatever_its_spelling(demo):
    with pytest.raises(ValidationError) as exc:
        EntryNumber(partner=new_partner(), number="04 65 71 00 01").full_clean()  # the CAF's, spelled nationally
    assert exc.value.message_dict["number"] == ["Ce numéro est déjà le numéro d'entrée d'un partenaire."]


def test_the_admin_edits_a_partner_in_french_and_refuses_a_bad_number(demo):
    admin = Client()
    admin.force_login(User.objects.get(username="admin"))
    page = admin.get(reverse("admin:partners_partner_add")).content.decode()
    assert "Règles d&#x27;acheminement" in page and "Seulement en débordement" in page and "Numéro de débordement" in page
    form = {
        "name": "Mairie de Caen", "code": "mairie-caen", "kind": "mairie", "address": "", "website": "",
        "active": "on", "acceptance": "overflow", "priority": "-1", "closed_on_public_holidays": "on",
        "holiday_subdivision": "", "fiches": ["passeport-majeur"],
        "entry_numbers-TOTAL_FORMS": "1", "entry_numbers-INITIAL_FORMS": "0",
        "entry_numbers-0-number": "02 61 91 00 99", "entry_numbers-0-overflow": "on", "entry_numbers-0-label": "",
        "opening_periods-TOTAL_FORMS": "1", "opening_periods-INITIAL_FORMS": "0",
        "opening_periods-0-weekday": "0", "opening_periods-0-opens": "09:00", "opening_periods-0-closes": "12:00",
        "closures-TOTAL_FORMS": "0", "closures-INITIAL_FORMS": "0",
        "contacts-TOTAL_FORMS": "1", "contacts-INITIAL_FORMS": "0", "contacts-0-name": "État civil",
        "contacts-0-role": "", "contacts-0-email": "etat-civil@caen.example", "contacts-0-phone": "",
        "contacts-0-receives_cases": "on",
        "agents-TOTAL_FORMS": "0", "agents-INITIAL_FORMS": "0",  # the partner's own accounts (none here)
    }
    bad = admin.post(reverse("admin:partners_partner_add"), form | {"entry_numbers-0-number": "02 61"})
    assert bad.status_code == 200
    assert "Ce numéro de téléphone n&#x27;est pas valide" in bad.content.decode()
    assert not Partner.objects.filter(code="mairie-caen").exists()
    official = Fiche.objects.create(id="F99998", theme=Fiche.objects.first().theme, title="Officielle",
                                    short_answer="Texte.", collection=Fiche.Collection.OFFICIAL)
    refused = admin.post(reverse("admin:partners_partner_add"), form | {"fiches": [official.pk]})
    assert refused.status_code == 200 and not Partner.objects.filter(code="mairie-caen").exists()  # local only
    ok = admin.post(reverse("admin:partners_partner_add"), form)
    assert ok.status_code == 302, ok.content.decode()[:3000]
    caen = Partner.objects.get(code="mairie-caen")
    assert list(caen.entry_numbers.values_list("number", "overflow")) == [("+33261910099", True)]
    assert list(caen.fiches.values_list("pk", flat=True)) == ["passeport-majeur"]
    assert caen.opening_hours().is_open(dt.datetime(2026, 3, 2, 10, 0))  # a Monday morning
    assert not caen.opening_hours().is_open(dt.datetime(2026, 3, 2, 14, 0))
    assert PartnerContact.objects.get(partner=caen).email == "etat-civil@caen.example"


def test_partners_list_json_prints_ids_names_and_entry_numbers(demo, capsys):
    call_command("partners", "list", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert [set(r) for r in rows] == [{"id", "name", "entry_numbers"}] * 3
    by_name = {r["name"]: r for r in rows}
    assert by_name["Mairie de Rouen"]["entry_numbers"] == ["+33261910001"]
    assert by_name["CAF du Rhône"]["entry_numbers"] == ["+33465710001", "+33465710002"]
    assert by_name["Préfecture de la Gironde"]["id"] == Partner.objects.get(code="prefecture-gironde").pk


def test_the_demo_partners_have_hours_contacts_and_local_fiches(demo):
    kinds = dict(Partner.objects.values_list("code", "kind"))
    assert kinds == {"mairie-rouen": "mairie", "prefecture-gironde": "prefecture", "caf-rhone": "caf"}
    for partner in Partner.objects.all():
        assert partner.opening_periods.exists() and partner.contacts.exists()
        fiches = list(partner.fiches.all())
        assert len(fiches) == 4 and {f.collection for f in fiches} == {"locale"}


@pytest.mark.any_db
def test_a_second_init_never_overwrites_what_an_administrator_changed(demo):
    from allo.web.management.commands.init import DEMO_LOADERS

    mairie = Partner.objects.get(code="mairie-rouen")
    mairie.acceptance, mairie.priority, mairie.name = "always", 0, "Ville de Rouen"
    mairie.save()
    mairie.entry_numbers.all().delete()
    mairie.fiches.clear()
    Partner.objects.filter(code="prefecture-gironde").delete()
    for loader in DEMO_LOADERS:
        loader()
    mairie.refresh_from_db()
    assert (mairie.name, mairie.acceptance, mairie.priority) == ("Ville de Rouen", "always", 0)
    assert not mairie.entry_numbers.exists() and not mairie.fiches.exists()
    assert Partner.objects.get(code="prefecture-gironde").entry_numbers.get().number == "+33536490001"
    assert Partner.objects.count() == 3
