"""`allo init --demo` run again (a second `make run`) seeds what is missing and never overwrites
what people changed: a published correction, an edited opening hour, an account, synonyms, notes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from allo.accounts.models import User
from allo.kb.models import CorrectionProposal, Fiche, FicheNotes, Synonym
from allo.org.models import Centre

pytestmark = [pytest.mark.django_db, pytest.mark.any_db]


def init_demo_again():
    """What `allo init --demo` does after its migrate step, which SQLite cannot run inside the
    test's transaction (the database is migrated already)."""
    from allo.accounts.demo import ensure_role_groups, load_demo_users
    from allo.web.management.commands.init import DEMO_LOADERS

    ensure_role_groups()
    for loader in DEMO_LOADERS:
        loader()
    load_demo_users()


def test_a_published_correction_survives_a_second_init(client, demo):
    fiche = Fiche.objects.get(pk="impot-revenu-declaration")
    before = fiche.version
    client.force_login(User.objects.get(username="operateur"))
    client.post(reverse("kb-propose", args=[fiche.id]) + "?cible=short_answer", {
        "proposed_text": "Déclarez vos revenus au printemps sur impots.gouv.fr.", "reason": "Plus simple à lire"})
    proposal = CorrectionProposal.objects.get(fiche=fiche)
    client.force_login(User.objects.get(username="expert-impots"))
    client.post(reverse("kb-review", args=[proposal.pk]), {"decision": "accept", "text": proposal.proposed_text})
    fiche.refresh_from_db()
    assert fiche.short_answer == "Déclarez vos revenus au printemps sur impots.gouv.fr."

    init_demo_again()
    fiche.refresh_from_db()
    assert fiche.short_answer == "Déclarez vos revenus au printemps sur impots.gouv.fr."
    assert fiche.version == before + 1  # no new version either


def test_an_edited_opening_hour_and_a_deactivated_centre_survive_a_second_init(demo):
    centre = Centre.objects.get(code="n2-impots")
    monday = centre.opening_periods.get(weekday=0)
    monday.closes = dt.time(17, 0)
    monday.save()
    centre.opening_periods.filter(weekday=4).delete()  # closed on Fridays from now on
    lyon = Centre.objects.get(code="cira-lyon")
    lyon.active, lyon.capacity = False, 5
    lyon.save()

    init_demo_again()
    assert list(centre.opening_periods.filter(weekday=0).values_list("opens", "closes")) == [
        (dt.time(8, 0), dt.time(17, 0))]
    assert not centre.opening_periods.filter(weekday=4).exists()
    lyon.refresh_from_db()
    assert (lyon.active, lyon.capacity) == (False, 5)


def test_a_missing_demo_centre_or_account_is_created_again(demo):
    Centre.objects.filter(code="cira-metz").delete()
    User.objects.filter(username="operateur2").delete()
    init_demo_again()
    metz = Centre.objects.get(code="cira-metz")
    assert metz.opening_periods.count() == 10 and metz.holiday_subdivision == "57"
    assert User.objects.get(username="operateur2").check_password("allo-demo-2026")


def test_accounts_synonyms_and_notes_people_changed_survive_a_second_init(demo):
    expert = User.objects.get(username="expert-cira")
    expert.first_name, expert.centre = "Sophia", Centre.objects.get(code="cira-paris")
    expert.set_password("un-autre-mot-de-passe")
    expert.save()
    switched_off = Synonym.objects.order_by("pk").first()
    switched_off.active = False
    switched_off.save()
    edited = Synonym.objects.order_by("pk")[1]
    original_terms = edited.terms
    edited.terms = edited.terms + ", terme ajouté"
    edited.save()
    deleted = Synonym.objects.order_by("pk")[2]
    deleted_terms = deleted.terms
    deleted.delete()
    notes = FicheNotes.objects.get(fiche_id="impot-revenu-declaration")
    notes.script = "Consigne revue par le centre."
    notes.save_with_reason(User.objects.get(username="expert-impots"), "Revue")

    init_demo_again()
    expert.refresh_from_db()
    assert expert.first_name == "Sophia" and expert.centre.code == "cira-paris"
    assert expert.check_password("un-autre-mot-de-passe")
    switched_off.refresh_from_db()
    assert not switched_off.active
    assert not Synonym.objects.filter(terms=original_terms).exists()  # not recreated beside the edited group
    assert not Synonym.objects.filter(terms=deleted_terms).exists()
    assert FicheNotes.objects.get(fiche_id="impot-revenu-declaration").script == "Consigne revue par le centre."


def test_a_demo_fiche_nobody_touched_follows_its_file_and_a_deleted_one_comes_back(demo):
    untouched = Fiche.objects.get(pk="aah")
    expected = untouched.short_answer
    Fiche.objects.filter(pk="aah").update(short_answer="Texte d'une ancienne version du fichier de démonstration.")
    Fiche.objects.filter(pk="acte-deces").delete()
    init_demo_again()
    assert Fiche.objects.get(pk="aah").short_answer == expected
    assert Fiche.objects.get(pk="acte-deces").status == "published"


def test_the_demo_seeds_queue_thresholds_once_and_keeps_what_the_admin_changed(demo):
    from allo.contact_centre.models import QueueThreshold

    n1 = QueueThreshold.objects.get(centre__kind="n1")
    assert (n1.service_level_min, n1.waiting_max, n1.longest_wait_max_s) == (80, 10, 180)
    n1.service_level_min = 70
    n1.save()
    QueueThreshold.objects.filter(centre__code="cira-lyon").delete()  # an admin removed one
    count = QueueThreshold.objects.count()

    init_demo_again()
    n1.refresh_from_db()
    assert n1.service_level_min == 70
    assert QueueThreshold.objects.count() == count
    assert not QueueThreshold.objects.filter(centre__code="cira-lyon").exists()
