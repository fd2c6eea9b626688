"""Fiches: sanitising, versions, the correction workflow and editors' lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from allo.accounts.models import User
from allo.kb.models import CorrectionProposal, Fiche, Theme

pytestmark = pytest.mark.django_db


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
    editor = User.objects.get(username="redacteur")
    fiche = make_fiche(theme)
    fiche.publish(editor, "Première publication")
    fiche.short_answer = "Nouvelle réponse."
    fiche.publish(editor, "Montant 2026")
    versions = list(fiche.history.order_by("history_id"))
    assert [v.version for v in versions] == [0, 1, 2]
    assert versions[-1].history_user == editor and versions[-1].history_change_reason == "Montant 2026"
    assert versions[1].short_answer != versions[2].short_answer


def test_operator_proposes_expert_accepts_and_a_new_version_is_published(client, theme, demo):
    fiche = make_fiche(theme)
    fiche.publish(None, "v1")
    client.force_login(User.objects.get(username="operateur"))
    response = client.post(reverse("kb-propose", args=[fiche.id]), {
        "section": "conditions", "reason": "Il faut aussi un titre de séjour.",
        "proposed_text": "Être locataire et en situation régulière.",
    })
    assert response.status_code == 302
    proposal = CorrectionProposal.objects.get()
    assert proposal.status == "open" and proposal.author.username == "operateur"

    client.force_login(User.objects.get(username="expert-cira"))
    assert client.get(reverse("space-editor")).content.decode().count(fiche.title) >= 1
    response = client.post(reverse("kb-review", args=[proposal.pk]), {"decision": "accept", "note": "Merci"})
    assert response.status_code == 302
    fiche.refresh_from_db()
    proposal.refresh_from_db()
    assert proposal.status == "accepted" and proposal.reviewer.username == "expert-cira"
    assert fiche.version == 2 and fiche.sections["conditions"] == "Être locataire et en situation régulière."
    assert "Correction proposée par" in fiche.history.latest().history_change_reason
    # A decided proposal cannot be decided twice.
    client.post(reverse("kb-review", args=[proposal.pk]), {"decision": "reject"})
    proposal.refresh_from_db()
    assert proposal.status == "accepted"


def test_proposal_with_text_must_name_its_section(client, theme, demo):
    fiche = make_fiche(theme)
    fiche.publish(None, "v1")
    client.force_login(User.objects.get(username="operateur"))
    response = client.post(reverse("kb-propose", args=[fiche.id]), {"reason": "x", "proposed_text": "nouveau"})
    assert response.status_code == 200
    assert "Choisissez la rubrique" in response.content.decode()
    assert not CorrectionProposal.objects.exists()


def test_draft_review_publish_archive_lifecycle(client, theme, demo):
    fiche = make_fiche(theme)
    client.force_login(User.objects.get(username="redacteur"))
    for action, status in [("submit", "review"), ("publish", "published"), ("archive", "archived")]:
        client.post(reverse("kb-transition", args=[fiche.id, action]))
        fiche.refresh_from_db()
        assert fiche.status == status
    # Operators do not see what is not published.
    client.force_login(User.objects.get(username="operateur"))
    assert client.get(reverse("kb-fiche", args=[fiche.id])).status_code == 404


def test_editor_edits_a_published_fiche_and_compares_versions(client, theme, demo):
    fiche = make_fiche(theme)
    fiche.publish(None, "v1")
    client.force_login(User.objects.get(username="redacteur"))
    form = client.get(reverse("kb-edit", args=[fiche.id]))
    assert form.status_code == 200
    data = {
        "title": "Aide au logement (APL)", "theme": theme.slug, "subtheme": "Aides", "audience": "particulier",
        "short_answer": "Demandez l'APL à la CAF.", "level2": "", "review_by": "2027-01-31", "popularity": 4,
        "section_conditions": "Être locataire.", "section_demarche": "En ligne sur caf.fr.",
        "keywords_text": "APL\naide personnalisée au logement", "phrasings_text": "",
        "references_text": "CAF | https://www.caf.fr", "reason": "Titre plus parlant",
    }
    data.update({f"section_{k}": "" for k in ["pieces", "cout", "montant", "delai", "duree-validite",
                                              "calendrier", "ou-s-adresser", "service-en-ligne", "recours", "other"]})
    response = client.post(reverse("kb-edit", args=[fiche.id]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    fiche.refresh_from_db()
    assert fiche.version == 2 and fiche.keywords == ["APL", "aide personnalisée au logement"]
    old, new = fiche.history.order_by("history_id").filter(version__in=[1, 2])
    page = client.get(reverse("kb-compare", args=[fiche.id]), {"a": old.history_id, "b": new.history_id})
    html = page.content.decode()
    assert "(APL)</ins>" in html and "<del>" in html
    bad = client.post(reverse("kb-edit", args=[fiche.id]), data | {"references_text": "CAF | pas-une-url"})
    assert "adresse invalide" in bad.content.decode()


def test_fiches_past_their_review_date_are_listed_for_editors(client, theme, demo):
    make_fiche(theme, id="perimee", title="Fiche à revoir", review_by=dt.date(2020, 1, 1)).publish(None, "v1")
    make_fiche(theme, id="a-jour", title="Fiche à jour", review_by=dt.date(2099, 1, 1)).publish(None, "v1")
    client.force_login(User.objects.get(username="redacteur"))
    html = client.get(reverse("space-editor")).content.decode()
    assert "Fiche à revoir" in html and "Fiche à jour" not in html


@pytest.mark.any_db
def test_a_long_reason_is_kept_whole_in_the_history(theme, demo):
    """PostgreSQL enforces column lengths: the reason of a version is free text."""
    fiche = make_fiche(theme)
    reason = "Correction proposée par un opérateur : " + "le montant a changé au 1er avril. " * 8
    fiche.publish(User.objects.get(username="redacteur"), reason)
    assert fiche.history.latest().history_change_reason == reason
