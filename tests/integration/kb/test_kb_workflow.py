"""Fiches: sanitising, versions, and the editorial workflow as staff use it through the pages:
proposals pre-filled and reviewed on a diff, a second person for what operators read, restoring,
scheduling, and experts acting only on the fiches their centre owns."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from allo.accounts.models import User
from allo.kb import workflow
from allo.kb.models import CorrectionProposal, Fiche, FicheNotes, Revision, Theme
from allo.kb.sections import SECTIONS
from allo.org.models import Centre

pytestmark = pytest.mark.django_db

EMPTY_SECTIONS = [key for key in SECTIONS if key not in ("conditions", "demarche")]


@pytest.fixture
def theme(db):
    return Theme.objects.get_or_create(slug="logement", defaults={"label": "Logement"})[0]


def make_fiche(theme, **overrides) -> Fiche:
    values = {"id": "aide-logement-test", "theme": theme, "title": "Aide au logement",
              "short_answer": "Vous pouvez demander une aide à la CAF.",
              "sections": {"conditions": "Être locataire.", "demarche": "- En ligne\n- Par courrier"}}
    fiche = Fiche(**(values | overrides))
    fiche.full_clean()
    fiche.save()
    return fiche


def published(theme, **overrides) -> Fiche:
    fiche = make_fiche(theme, **overrides)
    fiche.publish(None, "v1")
    return fiche


def user(username: str) -> User:
    return User.objects.get(username=username)


def edit_data(fiche: Fiche, **changes) -> dict:
    """The edit form as the page sends it, with some fields changed."""
    data = {
        "title": fiche.title, "theme": fiche.theme_id, "subtheme": fiche.subtheme, "audience": fiche.audience,
        "short_answer": fiche.short_answer, "level2": fiche.level2,
        "review_by": fiche.review_by.isoformat() if fiche.review_by else "", "popularity": fiche.popularity,
        "keywords_text": "\n".join(fiche.keywords), "phrasings_text": "\n".join(fiche.phrasings),
        "references_text": "", "reason": "Mise à jour", "effective_on": "",
        **{f"section_{key}": text for key, text in fiche.sections.items()},
    }
    data.update({f"section_{k}": "" for k in EMPTY_SECTIONS if f"section_{k}" not in data})
    return data | changes


def textarea(html: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {name}"
    return match.group(1).strip()


# --- content and versions --------------------------------------------------------------------


def test_content_is_sanitised_on_save(theme):
    fiche = make_fiche(theme, sections={
        "conditions": 'Texte <script>alert("x")</script> et [lien](javascript:alert(1)) <b onclick="x()">gras</b>',
        "demarche": "**Important** : [site](https://www.service-public.fr)",
    })
    html = fiche.sections_html["conditions"]
    assert "<script" not in html and "javascript:" not in html and "onclick" not in html
    assert '<strong>Important</strong>' in fiche.sections_html["demarche"]
    assert 'href="https://www.service-public.fr"' in fiche.sections_html["demarche"]
    assert 'rel="noopener noreferrer"' in fiche.sections_html["demarche"]


def test_short_answer_over_120_words_is_refused_in_french(theme):
    with pytest.raises(ValidationError) as excinfo:
        make_fiche(theme, short_answer=" ".join(["mot"] * 121))
    assert "121 mots" in str(excinfo.value)


def test_publishing_keeps_every_version_with_who_and_why(theme, demo):
    editor = user("redacteur")
    fiche = make_fiche(theme)
    fiche.publish(editor, "Première publication")
    fiche.short_answer = "Nouvelle réponse."
    fiche.publish(editor, "Montant 2026")
    versions = list(fiche.history.order_by("history_id"))
    assert [v.version for v in versions] == [0, 1, 2]
    assert versions[-1].history_user == editor and versions[-1].history_change_reason == "Montant 2026"
    assert versions[1].short_answer != versions[2].short_answer


# --- proposals -------------------------------------------------------------------------------


@pytest.mark.any_db
def test_a_proposal_is_prefilled_reviewed_on_a_diff_edited_and_published(client, theme, demo):
    fiche = published(theme, level2="cira")
    client.force_login(user("operateur"))
    page = client.get(reverse("kb-propose", args=[fiche.id]), {"cible": "section:conditions"}).content.decode()
    assert textarea(page, "proposed_text") == "Être locataire."  # the current text, ready to correct
    response = client.post(reverse("kb-propose", args=[fiche.id]) + "?cible=section:conditions", {
        "proposed_text": "Être locataire et en situation régulière.", "reason": "Il faut aussi un titre de séjour.",
    })
    assert response.status_code == 302
    proposal = CorrectionProposal.objects.get()
    assert (proposal.status, proposal.target, proposal.base_text) == ("open", "section:conditions", "Être locataire.")

    client.force_login(user("expert-cira"))  # fiche of the CIRA domain: the CIRA expert acts on it
    assert fiche.title in client.get(reverse("space-editor")).content.decode()
    review = client.get(reverse("kb-review", args=[proposal.pk])).content.decode()
    assert "<del>locataire.</del><ins>locataire et en situation régulière.</ins>" in review
    assert textarea(review, "text") == "Être locataire et en situation régulière."
    # The reviewer edits the text before accepting it.
    response = client.post(reverse("kb-review", args=[proposal.pk]), {
        "decision": "accept", "text": "Être locataire et résider en France de façon régulière.", "note": "Merci",
    })
    assert response.status_code == 302
    fiche.refresh_from_db()
    proposal.refresh_from_db()
    assert proposal.status == "accepted" and proposal.reviewer.username == "expert-cira"
    assert fiche.version == 2 and fiche.sections["conditions"] == "Être locataire et résider en France de façon régulière."
    assert fiche.sections["demarche"] == "- En ligne\n- Par courrier"  # the other sections are untouched
    latest = fiche.history.latest()
    assert latest.history_user.username == "expert-cira" and "Camille Martin" in latest.history_change_reason
    # A decided proposal cannot be decided twice.
    client.post(reverse("kb-review", args=[proposal.pk]), {"decision": "reject"})
    proposal.refresh_from_db()
    assert proposal.status == "accepted"


def test_a_proposal_identical_to_the_current_text_is_refused_and_nothing_typed_is_lost(client, theme, demo):
    fiche = published(theme)
    client.force_login(user("operateur"))
    url = reverse("kb-propose", args=[fiche.id]) + "?cible=section:demarche"
    response = client.post(url, {"proposed_text": "- En ligne\r\n- Par courrier", "reason": "Un motif que je garde"})
    html = response.content.decode()
    assert response.status_code == 200 and "identique au texte actuel" in html
    assert "Un motif que je garde" in html
    assert not CorrectionProposal.objects.exists()


def test_a_general_remark_has_no_text_to_replace(client, theme, demo):
    fiche = published(theme)
    client.force_login(user("operateur"))
    page = client.get(reverse("kb-propose", args=[fiche.id])).content.decode()
    assert 'name="proposed_text"' not in page and "Remarque générale" in page
    client.post(reverse("kb-propose", args=[fiche.id]), {"reason": "La fiche ne parle pas des étudiants."})
    assert CorrectionProposal.objects.get().target == ""


def test_nobody_reviews_their_own_proposal(client, theme, demo):
    fiche = published(theme)
    client.force_login(user("redacteur"))
    client.post(reverse("kb-propose", args=[fiche.id]) + "?cible=short_answer",
                {"proposed_text": "Demandez l'APL à la CAF.", "reason": "Plus court"})
    proposal = CorrectionProposal.objects.get()
    response = client.post(reverse("kb-review", args=[proposal.pk]), {"decision": "accept",
                                                                      "text": proposal.proposed_text}, follow=True)
    assert "une autre personne doit l'examiner" in response.content.decode()
    proposal.refresh_from_db()
    fiche.refresh_from_db()
    assert proposal.status == "open" and fiche.short_answer == "Vous pouvez demander une aide à la CAF."
    client.force_login(user("redacteur2"))
    client.post(reverse("kb-review", args=[proposal.pk]), {"decision": "accept", "text": proposal.proposed_text})
    fiche.refresh_from_db()
    assert fiche.short_answer == "Demandez l'APL à la CAF."


def test_an_accepted_proposal_over_120_words_is_refused(client, theme, demo):
    fiche = published(theme)
    proposal = CorrectionProposal.objects.create(fiche=fiche, author=user("operateur"), target="short_answer",
                                                 base_text=fiche.short_answer, proposed_text="Court.", reason="x")
    client.force_login(user("redacteur"))
    response = client.post(reverse("kb-review", args=[proposal.pk]), {"decision": "accept",
                                                                      "text": " ".join(["mot"] * 130)})
    assert response.status_code == 200 and "130 mots" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == "open"


# --- a second person ------------------------------------------------------------------------


@pytest.mark.any_db  # the change is applied under select_for_update
def test_an_editors_change_to_a_published_fiche_waits_for_another_editor(client, theme, demo):
    fiche = published(theme)
    client.force_login(user("redacteur"))
    response = client.post(reverse("kb-edit", args=[fiche.id]), edit_data(
        fiche, title="Aide au logement (APL)", section_demarche="En ligne sur caf.fr.", reason="Titre plus parlant"))
    assert response.status_code == 302
    fiche.refresh_from_db()
    assert fiche.title == "Aide au logement" and fiche.version == 1  # nothing published yet
    revision = Revision.objects.get()
    assert revision.status == "pending" and set(revision.changes) == {"title", "section:demarche"}

    # Its author cannot publish it: a clear French message, and it stays pending.
    response = client.post(reverse("kb-revision", args=[revision.pk]), {"decision": "approve"}, follow=True)
    assert "la règle des quatre yeux" in response.content.decode()
    revision.refresh_from_db()
    assert revision.status == "pending"

    client.force_login(user("redacteur2"))
    page = client.get(reverse("kb-revision", args=[revision.pk])).content.decode()
    assert "<ins> (APL)</ins>" in page
    response = client.post(reverse("kb-revision", args=[revision.pk]), {"decision": "approve"}, follow=True)
    assert "Modification publiée." in response.content.decode()
    fiche.refresh_from_db()
    revision.refresh_from_db()
    assert revision.status == "applied" and revision.approved_by.username == "redacteur2"
    assert fiche.title == "Aide au logement (APL)" and fiche.sections["demarche"] == "En ligne sur caf.fr."
    assert fiche.version == 2
    latest = fiche.history.latest()
    assert latest.history_user.username == "redacteur2"
    assert "Titre plus parlant" in latest.history_change_reason and "Louise Bernard" in latest.history_change_reason


def test_an_edit_that_changes_nothing_says_so_and_keeps_the_form(client, theme, demo):
    fiche = published(theme)
    client.force_login(user("redacteur"))
    # Browsers send textareas with CRLF newlines: not a change.
    response = client.post(reverse("kb-edit", args=[fiche.id]), edit_data(
        fiche, reason="Rien de neuf", section_demarche="- En ligne\r\n- Par courrier\r\n"))
    html = response.content.decode()
    assert response.status_code == 200 and "Aucune modification" in html and "Rien de neuf" in html
    assert not Revision.objects.exists()


def test_a_draft_is_published_by_someone_other_than_its_last_author(client, theme, demo):
    fiche = make_fiche(theme)
    client.force_login(user("redacteur"))
    client.post(reverse("kb-transition", args=[fiche.id, "submit"]))
    fiche.refresh_from_db()
    assert fiche.status == "review"
    response = client.post(reverse("kb-transition", args=[fiche.id, "publish"]), follow=True)
    assert "une autre personne" in response.content.decode()
    fiche.refresh_from_db()
    assert fiche.status == "review"
    client.force_login(user("redacteur2"))
    client.post(reverse("kb-transition", args=[fiche.id, "publish"]))
    client.post(reverse("kb-transition", args=[fiche.id, "archive"]))
    fiche.refresh_from_db()
    assert fiche.status == "archived"
    # Operators do not see what is not published.
    client.force_login(user("operateur"))
    assert client.get(reverse("kb-fiche", args=[fiche.id])).status_code == 404


def test_a_draft_is_edited_at_once(client, theme, demo):
    fiche = make_fiche(theme)
    client.force_login(user("redacteur"))
    response = client.post(reverse("kb-edit", args=[fiche.id]), edit_data(fiche, title="Aide au logement (brouillon)"),
                           follow=True)
    assert "Modification enregistrée." in response.content.decode()
    fiche.refresh_from_db()
    assert fiche.title == "Aide au logement (brouillon)" and fiche.status == "draft"


def test_any_version_can_be_restored_through_a_second_person(client, theme, demo):
    fiche = published(theme)
    first = fiche.history.latest()
    fiche.short_answer = "Une réponse fausse."
    fiche.sections = {"conditions": "Rien."}
    fiche.publish(user("redacteur2"), "Erreur")
    client.force_login(user("redacteur"))
    history = client.get(reverse("kb-history", args=[fiche.id])).content.decode()
    assert "Restaurer cette version" in history
    client.post(reverse("kb-restore", args=[fiche.id]), {"version": first.history_id})
    fiche.refresh_from_db()
    assert fiche.short_answer == "Une réponse fausse."  # a restoration is a change: it waits too
    revision = Revision.objects.get(kind="restore")
    client.force_login(user("redacteur2"))
    client.post(reverse("kb-revision", args=[revision.pk]), {"decision": "approve"})
    fiche.refresh_from_db()
    assert fiche.short_answer == "Vous pouvez demander une aide à la CAF."
    assert fiche.sections == {"conditions": "Être locataire.", "demarche": "- En ligne\n- Par courrier"}
    assert fiche.version == 3 and "Restauration" in fiche.history.latest().history_change_reason


def test_restoring_the_current_content_says_there_is_nothing_to_restore(client, theme, demo):
    fiche = published(theme)
    client.force_login(user("redacteur"))
    response = client.post(reverse("kb-restore", args=[fiche.id]),
                           {"version": fiche.history.latest().history_id}, follow=True)
    assert "rien à restaurer" in response.content.decode()
    assert not Revision.objects.exists()


# --- scheduled changes ----------------------------------------------------------------------


@pytest.mark.any_db  # the change is applied under select_for_update
def test_a_change_scheduled_for_a_date_applies_on_that_date(client, theme, demo):
    fiche = published(theme)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    client.force_login(user("redacteur"))
    client.post(reverse("kb-edit", args=[fiche.id]), edit_data(
        fiche, section_conditions="Être locataire ; plafond 2027.", reason="Loi de finances 2027",
        effective_on=tomorrow.isoformat()))
    revision = Revision.objects.get()
    client.force_login(user("redacteur2"))
    client.post(reverse("kb-revision", args=[revision.pk]), {"decision": "approve"})
    revision.refresh_from_db()
    assert revision.status == "scheduled"
    page = client.get(reverse("kb-fiche", args=[fiche.id])).content.decode()
    assert f"Modification programmée le {tomorrow.day}" in page and "Loi de finances 2027" in page

    assert workflow.apply_due(timezone.localdate()) == []
    fiche.refresh_from_db()
    assert fiche.sections["conditions"] == "Être locataire."
    assert [r.pk for r in workflow.apply_due(tomorrow)] == [revision.pk]
    assert workflow.apply_due(tomorrow) == []  # applied once
    fiche.refresh_from_db()
    assert fiche.sections["conditions"] == "Être locataire ; plafond 2027." and fiche.version == 2
    assert "en vigueur le" in fiche.history.latest().history_change_reason


def test_a_past_effective_date_is_refused_in_french(client, theme, demo):
    fiche = published(theme)
    client.force_login(user("redacteur"))
    response = client.post(reverse("kb-edit", args=[fiche.id]), edit_data(
        fiche, title="Nouveau titre", effective_on="2020-01-01"))
    assert response.status_code == 200 and "Cette date est passée" in response.content.decode()


def test_the_cron_command_applies_what_is_due(theme, demo):
    fiche = published(theme)
    revision = workflow.propose_change(fiche, {"title": "Titre du jour"}, author=user("redacteur"), reason="Au 1er",
                                       effective_on=timezone.localdate() + dt.timedelta(days=3))
    workflow.approve(revision, user("redacteur2"))
    Revision.objects.filter(pk=revision.pk).update(effective_on=timezone.localdate())  # the date has come
    call_command("kb", "apply-scheduled", verbosity=0)
    fiche.refresh_from_db()
    assert fiche.title == "Titre du jour"


def test_the_server_job_runs_periodically_and_survives_a_failure():
    import threading

    from allo.web.lifespan import PeriodicJob

    runs, done = [], threading.Event()

    def job():
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("database away")
        done.set()

    periodic = PeriodicJob("test-job", 0.01, job)
    periodic.start()
    assert done.wait(5)
    periodic.stop()
    assert len(runs) >= 2


def test_an_author_may_withdraw_a_pending_change(client, theme, demo):
    fiche = published(theme)
    revision = workflow.propose_change(fiche, {"title": "Autre"}, author=user("redacteur"), reason="Essai")
    client.force_login(user("redacteur"))
    client.post(reverse("kb-revision", args=[revision.pk]), {"decision": "cancel"})
    revision.refresh_from_db()
    assert revision.status == "cancelled"


# --- experts act on their centre's fiches ---------------------------------------------------


def test_an_expert_cannot_archive_another_domains_fiche(client, theme, demo):
    fiche = published(theme, level2="cira")
    client.force_login(user("expert-impots"))
    response = client.post(reverse("kb-transition", args=[fiche.id, "archive"]))
    assert response.status_code == 403 and "seuls les experts de ce domaine" in response.content.decode()
    fiche.refresh_from_db()
    assert fiche.status == "published"
    client.force_login(user("expert-cira"))
    client.post(reverse("kb-transition", args=[fiche.id, "archive"]))
    fiche.refresh_from_db()
    assert fiche.status == "archived"


def test_the_notes_owner_centre_decides_over_the_domain(client, theme, demo):
    fiche = published(theme, level2="cira")
    FicheNotes(fiche=fiche, owner=Centre.objects.get(code="n2-impots")).save()
    client.force_login(user("expert-cira"))
    response = client.get(reverse("kb-notes-edit", args=[fiche.id]))
    assert response.status_code == 403 and "Centre d&#x27;information fiscale" in response.content.decode()
    client.force_login(user("expert-impots"))
    assert client.get(reverse("kb-notes-edit", args=[fiche.id])).status_code == 200


def test_an_expert_reviews_only_the_proposals_of_fiches_they_own(client, theme, demo):
    fiche = published(theme, level2="consommation")
    proposal = CorrectionProposal.objects.create(fiche=fiche, author=user("operateur"), reason="x",
                                                 target="short_answer", base_text=fiche.short_answer,
                                                 proposed_text="Autre réponse.")
    client.force_login(user("expert-impots"))
    assert fiche.title not in client.get(reverse("space-editor")).content.decode()
    response = client.post(reverse("kb-review", args=[proposal.pk]), {"decision": "accept", "text": "Autre réponse."})
    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "open"
    client.force_login(user("expert-conso"))
    assert fiche.title in client.get(reverse("space-editor")).content.decode()
    client.post(reverse("kb-review", args=[proposal.pk]), {"decision": "accept", "text": "Autre réponse."})
    proposal.refresh_from_db()
    assert proposal.status == "accepted"


def test_an_expert_cannot_publish_or_restore_on_another_centres_fiche(client, theme, demo):
    fiche = published(theme, level2="impots")
    revision = workflow.propose_change(fiche, {"title": "Autre"}, author=user("redacteur"), reason="Essai")
    client.force_login(user("expert-conso"))
    assert client.post(reverse("kb-revision", args=[revision.pk]), {"decision": "approve"}).status_code == 403
    assert client.post(reverse("kb-restore", args=[fiche.id]),
                       {"version": fiche.history.earliest().history_id}).status_code == 403
    revision.refresh_from_db()
    assert revision.status == "pending"
    client.force_login(user("expert-impots"))
    client.post(reverse("kb-revision", args=[revision.pk]), {"decision": "approve"})
    revision.refresh_from_db()
    assert revision.status == "applied"


def test_an_official_fiche_is_never_edited_in_allo(client, theme, demo):
    fiche = published(theme, id="F99001", collection=Fiche.Collection.OFFICIAL, title="Fiche officielle")
    client.force_login(user("redacteur"))
    response = client.get(reverse("kb-edit", args=[fiche.id]))
    assert response.status_code == 403 and "vient de la DILA" in response.content.decode()
    assert client.post(reverse("kb-transition", args=[fiche.id, "submit"])).status_code == 403
    client.post(reverse("kb-transition", args=[fiche.id, "archive"]))  # withdrawn from the desk: kept by imports
    fiche.refresh_from_db()
    assert fiche.status == "archived"
    with pytest.raises(workflow.NotAllowed):
        workflow.propose_change(fiche, {"title": "Autre"}, author=user("redacteur"), reason="x")
    assert workflow.propose_change(fiche, {"notes:script": "Consigne."}, author=user("redacteur"), reason="x")
    page = client.get(reverse("kb-propose", args=[fiche.id])).content.decode()
    assert "section:conditions" not in page and "notes:script" in page


# --- editors' lists -------------------------------------------------------------------------


def test_fiches_past_their_review_date_are_listed_for_editors(client, theme, demo):
    make_fiche(theme, id="perimee", title="Fiche à revoir", review_by=dt.date(2020, 1, 1)).publish(None, "v1")
    make_fiche(theme, id="a-jour", title="Fiche à jour", review_by=dt.date(2099, 1, 1)).publish(None, "v1")
    client.force_login(user("redacteur"))
    html = client.get(reverse("space-editor")).content.decode()
    assert "Fiche à revoir" in html and "Fiche à jour" not in html


def test_versions_compare_word_by_word(client, theme, demo):
    fiche = published(theme)
    fiche.title = "Aide au logement (APL)"
    fiche.publish(user("redacteur"), "Titre")
    old, new = fiche.history.order_by("history_id").filter(version__in=[1, 2])
    client.force_login(user("operateur"))
    html = client.get(reverse("kb-compare", args=[fiche.id]), {"a": old.history_id, "b": new.history_id}).content.decode()
    assert "<ins> (APL)</ins>" in html


@pytest.mark.any_db
def test_a_long_reason_is_kept_whole_in_the_history(theme, demo):
    """PostgreSQL enforces column lengths: the reason of a version is free text."""
    fiche = make_fiche(theme)
    reason = "Correction proposée par un opérateur : " + "le montant a changé au 1er avril. " * 8
    fiche.publish(user("redacteur"), reason)
    assert fiche.history.latest().history_change_reason == reason
