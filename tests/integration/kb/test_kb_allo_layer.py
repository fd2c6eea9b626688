"""Allô's own layer above the official text: notes per fiche, shown first and versioned; reports
to DILA when the official text itself is wrong; notes following a fiche DILA redirects."""

from __future__ import annotations

import csv
import io

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from allo.accounts.models import User
from allo.kb import workflow
from allo.kb.models import CorrectionProposal, DilaReport, Fiche, FicheNotes, OfficialText, Revision, Theme
from allo.org.models import Centre

pytestmark = pytest.mark.django_db


def user(username: str) -> User:
    return User.objects.get(username=username)


@pytest.fixture
def theme(db):
    return Theme.objects.get_or_create(slug="argent", defaults={"label": "Argent"})[0]


@pytest.fixture
def official(theme):
    """An official fiche as the importer leaves it: DILA's text, published."""
    fiche = Fiche.objects.create(id="F99100", theme=theme, title="Prime d'activité (officielle)",
                                 short_answer="Résumé DILA.", collection=Fiche.Collection.OFFICIAL,
                                 status=Fiche.Status.PUBLISHED, version=1, source="service-public.fr")
    OfficialText.objects.create(fiche=fiche, text="La prime d'activité est versée par la CAF chaque mois.")
    return fiche


def notes_form(**changes) -> dict:
    data = {"script": "", "transfer_when": "", "transfer_to": "", "synonyms_text": "", "owner": "", "review_by": "",
            "effective_on": "", "reason": "Notes pour le téléphone"}
    return data | changes


@pytest.mark.any_db
def test_notes_are_written_through_a_second_person_and_shown_before_the_official_text(client, official, demo):
    client.force_login(user("redacteur"))
    response = client.post(reverse("kb-notes-edit", args=[official.id]), notes_form(
        script="Dites que la **CAF** calcule le montant.", transfer_when="Si l'appelant conteste un indu.",
        transfer_to="cira", synonyms_text="prime activité\nprime CAF", owner=Centre.objects.get(code="cira-lyon").pk,
        review_by="2027-06-30"))
    assert response.status_code == 302
    assert not FicheNotes.objects.filter(fiche=official).exists()  # published fiche: it waits
    revision = Revision.objects.get(fiche=official)
    client.force_login(user("redacteur2"))
    client.post(reverse("kb-revision", args=[revision.pk]), {"decision": "approve"})
    notes = FicheNotes.objects.get(fiche=official)
    assert notes.synonyms == ["prime activité", "prime CAF"] and notes.owner.code == "cira-lyon"
    assert "<strong>CAF</strong>" in notes.script_html
    record = notes.history.latest()
    assert record.history_user.username == "redacteur2" and "Notes pour le téléphone" in record.history_change_reason

    client.force_login(user("operateur"))
    page = client.get(reverse("kb-fiche", args=[official.id])).content.decode()
    assert "Modifier les notes" not in page  # operators read them
    layer, dila_text = page.index("Notes Allô pour le téléphone"), page.index("versée par la CAF chaque mois")
    assert layer < dila_text and "prime CAF" in page and "Centre interministériel" in page
    # The official text and the importer's fields are untouched by the notes.
    official.refresh_from_db()
    assert official.version == 1 and official.title == "Prime d'activité (officielle)"


def test_the_owner_centres_expert_edits_the_notes_and_their_versions_can_be_restored(client, official, demo):
    notes = FicheNotes(fiche=official, script="Première consigne.", owner=Centre.objects.get(code="n2-impots"))
    notes.save_with_reason(user("redacteur"), "Création")
    first = notes.history.latest()
    client.force_login(user("expert-impots"))
    client.post(reverse("kb-notes-edit", args=[official.id]), notes_form(
        script="Consigne erronée.", owner=notes.owner_id, reason="Essai"))
    client.force_login(user("redacteur"))
    client.post(reverse("kb-revision", args=[Revision.objects.get().pk]), {"decision": "approve"})
    notes.refresh_from_db()
    assert notes.script == "Consigne erronée."

    history = client.get(reverse("kb-history", args=[official.id])).content.decode()
    assert "Consigne erronée" not in history and "Restaurer cette version" in history
    compare = client.get(reverse("kb-compare", args=[official.id]),
                         {"couche": "notes", "a": first.history_id, "b": notes.history.latest().history_id})
    assert "<del>Première</del>" in compare.content.decode()
    client.post(reverse("kb-restore", args=[official.id]), {"couche": "notes", "version": first.history_id})
    restore = Revision.objects.get(kind="restore")
    client.force_login(user("expert-impots"))  # the owner centre's expert is the second person here
    client.post(reverse("kb-revision", args=[restore.pk]), {"decision": "approve"})
    notes.refresh_from_db()
    assert notes.script == "Première consigne."


def test_an_official_fiche_offers_only_notes_to_propose_and_the_desk_partial_renders_alone(client, official, demo):
    FicheNotes(fiche=official, script="Orientez vers la CAF.", transfer_to="cira").save()
    client.force_login(user("operateur"))
    url = reverse("kb-propose", args=[official.id]) + "?cible=notes:script"
    page = client.get(url).content.decode()
    assert "Orientez vers la CAF." in page and "signalez l'erreur à la DILA" in page
    client.post(url, {"proposed_text": "Orientez vers la CAF ou la MSA.", "reason": "Les agriculteurs"})
    proposal = CorrectionProposal.objects.get()
    assert proposal.target == "notes:script"
    client.force_login(user("redacteur"))
    client.post(reverse("kb-review", args=[proposal.pk]), {"decision": "accept", "text": proposal.proposed_text})
    assert FicheNotes.objects.get(fiche=official).script == "Orientez vers la CAF ou la MSA."

    html = render_to_string("kb/_allo_layer.html", {"fiche": Fiche.objects.get(pk=official.pk), "heading_level": 3})
    assert "<h3" in html and "Orientez vers la CAF ou la MSA." in html and "Réseau des centres" in html
    empty = Fiche.objects.create(id="F99101", theme=official.theme, title="Sans notes", short_answer="x",
                                 collection=Fiche.Collection.OFFICIAL, status=Fiche.Status.PUBLISHED)
    assert "Pas encore de notes Allô" in render_to_string("kb/_allo_layer.html", {"fiche": empty})


def test_an_error_in_dilas_text_is_reported_listed_exported_and_followed(client, official, demo):
    client.force_login(user("operateur"))
    form = client.get(reverse("kb-dila-report", args=[official.id]))
    assert form.status_code == 200
    missing = client.post(reverse("kb-dila-report", args=[official.id]), {"passage": "", "problem": "Le montant."})
    assert missing.status_code == 200 and "Ce champ est obligatoire" in missing.content.decode()
    assert "Le montant." in missing.content.decode()  # nothing typed is lost
    client.post(reverse("kb-dila-report", args=[official.id]), {
        "passage": "versée par la CAF chaque mois", "problem": "Elle est versée par la MSA aux agriculteurs.",
        "source": "Code de la sécurité sociale"})
    report = DilaReport.objects.get()
    assert report.status == "a-transmettre" and report.author.username == "operateur"

    client.force_login(user("redacteur"))
    listing = client.get(reverse("kb-dila-reports")).content.decode()
    assert "versée par la CAF chaque mois" in listing and "À transmettre (1)" in listing
    export = client.get(reverse("kb-dila-export"), {"etat": "a-transmettre"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["numéro", "fiche", "titre"] and rows[1][1] == "F99100"
    assert rows[1][3] == "https://www.service-public.gouv.fr/particuliers/vosdroits/F99100"
    client.post(reverse("kb-dila-mark-sent"), {"ids": [report.pk]})
    report.refresh_from_db()
    assert report.status == "transmis" and report.sent_at is not None
    client.post(reverse("kb-dila-status", args=[report.pk]), {"status": "corrige", "note": "Corrigé le 3 mars"})
    report.refresh_from_db()
    assert report.status == "corrige" and report.closed_at is not None and report.note == "Corrigé le 3 mars"
    assert report.history.latest().history_user.username == "redacteur"


def test_a_reviewer_turns_a_proposal_into_a_report_to_dila(client, official, demo):
    proposal = CorrectionProposal.objects.create(fiche=official, author=user("operateur"), target="notes:script",
                                                 reason="Le texte officiel oublie la MSA.", proposed_text="x")
    client.force_login(user("redacteur"))
    page = client.get(reverse("kb-review", args=[proposal.pk])).content.decode()
    assert f"?proposition={proposal.pk}" in page
    url = reverse("kb-dila-report", args=[official.id]) + f"?proposition={proposal.pk}"
    assert "Le texte officiel oublie la MSA." in client.get(url).content.decode()
    client.post(url, {"passage": "versée par la CAF", "problem": "Le texte officiel oublie la MSA."})
    proposal.refresh_from_db()
    assert proposal.status == "dila" and DilaReport.objects.get().proposal == proposal


def test_a_local_fiche_has_no_dila_report_but_a_proposal(client, demo):
    fiche = Fiche.objects.published().local().first()
    client.force_login(user("operateur"))
    response = client.get(reverse("kb-dila-report", args=[fiche.id]))
    assert response.status_code == 302 and response["Location"] == reverse("kb-propose", args=[fiche.id])


@pytest.mark.any_db  # moved under select_for_update
def test_notes_follow_a_fiche_dila_redirects(client, official, theme, demo):
    new = Fiche.objects.create(id="F99200", theme=theme, title="Nouvelle fiche", short_answer="x",
                               collection=Fiche.Collection.OFFICIAL, status=Fiche.Status.PUBLISHED)
    first = FicheNotes(fiche=official, script="Consigne.", synonyms=["prime"], owner=Centre.objects.get(code="n2-impots"))
    first.save()
    written_under_old_id = first.history.latest().history_id
    proposal = CorrectionProposal.objects.create(fiche=official, author=user("operateur"), target="notes:script",
                                                 reason="x", proposed_text="y")
    moved = workflow.move_notes(official.id, new.id)
    assert moved.fiche_id == "F99200" and moved.script == "Consigne." and moved.owner.code == "n2-impots"
    assert not FicheNotes.objects.filter(fiche_id=official.id).exists()
    assert "redirige" in moved.history.latest().history_change_reason
    proposal.refresh_from_db()
    assert proposal.fiche_id == "F99200"
    assert workflow.move_notes(official.id, new.id) is None  # nothing left to move: a re-import is a no-op
    client.force_login(user("redacteur"))
    versions = client.get(reverse("kb-history", args=[new.id])).content.decode()
    assert f"restaurer-notes-{written_under_old_id}" in versions  # the versions written under F99100 too

    # Both ids had notes: the target's are kept, the old ones added.
    FicheNotes(fiche=official, script="Ancienne consigne.", synonyms=["prime", "bonus"], transfer_to="cira").save()
    merged = workflow.move_notes(official.id, new.id)
    assert merged.script.startswith("Consigne.") and "Ancienne consigne." in merged.script
    assert merged.synonyms == ["prime", "bonus"] and merged.transfer_to == "cira"
    assert FicheNotes.objects.filter(fiche_id=new.id).count() == 1

