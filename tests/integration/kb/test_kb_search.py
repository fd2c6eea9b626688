"""Search through the Django shell: API, partial, messages, database independence, evaluation."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from allo.kb import search_service
from allo.kb.models import Fiche, FicheNotes, Synonym
from allo.kb.search_service import search_docs, search_index

pytestmark = pytest.mark.django_db

# Questions of our own (not from the evaluation sets) with the demo fiche that answers them.
OWN_QUESTIONS = [
    ("j'ai égaré ma carte d'identité dans le métro", "cni-perte-vol"),
    ("renouveler mon passeport qui expire le mois prochain", "passeport-majeur"),
]


@pytest.fixture
def operator(client, login_as):
    return login_as("operateur")


def test_search_api_returns_ranked_hits_with_snippets_and_confidence(operator):
    response = operator.get(reverse("kb-search-api"), {"q": "carte d'identité perdue"})
    assert response.status_code == 200
    data = response.json()
    assert data["hits"], data
    top = data["hits"][0]
    assert set(top) >= {"id", "title", "theme", "confidence", "snippet"}
    assert 0 <= top["confidence"] <= 1
    assert Fiche.objects.filter(pk=top["id"], status="published").exists()


@pytest.mark.parametrize("query, message", [("   ", "saisissez quelques mots"), ("x" * 501, "500")])
def test_empty_and_over_long_queries_get_a_clear_message(operator, query, message):
    response = operator.get(reverse("kb-search-api"), {"q": query})
    assert response.status_code == 400
    assert message in response.json()["error"]
    page = operator.get(reverse("kb-search"), {"q": query})
    assert page.status_code == 200 and message in page.content.decode()


def test_gibberish_is_flagged_low_confidence(operator):
    data = operator.get(reverse("kb-search-api"), {"q": "zorglub wxqk plimp"}).json()
    assert data["low_confidence"] is True


def test_htmx_gets_the_results_partial_only(operator):
    response = operator.get(reverse("kb-search"), {"q": "passeport"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="resultats"' in html and "<html" not in html


@pytest.mark.parametrize("question, expected", OWN_QUESTIONS)
def test_demo_kb_answers_our_own_questions_in_the_top_three(demo, question, expected):
    hits = [hit.id for hit in search_index().search(question).hits[:3]]
    assert expected in hits


def test_editor_synonyms_change_the_index(demo):
    before = search_index()
    assert before.search("zorglouf").low_confidence
    Synonym.objects.create(terms="zorglouf, carte d'identité")
    after = search_index()
    assert after is not before
    via_synonym = after.search("zorglouf")
    assert not via_synonym.low_confidence
    assert via_synonym.hits[0].id == after.search("carte d'identité").hits[0].id


def test_callers_words_in_a_fiches_notes_find_that_fiche(demo):
    fiche = Fiche.objects.get(pk="passeport-majeur")
    assert fiche.id not in [h.id for h in search_index().search("bidule à tampons").hits[:3]]
    FicheNotes.objects.create(fiche=fiche, synonyms=["bidule à tampons"])
    assert search_index().search("bidule à tampons").hits[0].id == fiche.id
    notes = FicheNotes.objects.get(fiche=fiche)
    notes.synonyms = []
    notes.save()
    assert fiche.id not in [h.id for h in search_index().search("bidule à tampons").hits[:3]]


@pytest.mark.any_db
def test_results_are_identical_to_the_pure_engine_on_this_database(demo):
    """The ranking is the pure engine over the published fiches, so SQLite and PostgreSQL agree."""
    from allo.kb.search import SearchIndex, load_demo_docs
    from allo.kb.search.synonyms import groups_to_dict

    # an earlier test's fiches may still be in this process's index, removed through the overlay but
    # still counted in its statistics until the next build: compare a freshly built one
    from_db = search_service.SearchIndexes().index()
    groups = sorted(s.term_list for s in Synonym.objects.all())
    callers_words = dict(FicheNotes.objects.exclude(synonyms=[]).values_list("fiche_id", "synonyms"))
    assert callers_words  # the demo's notes add callers' words to a few fiches: the index has them too
    docs = load_demo_docs()
    for doc in docs:
        doc.callers_words = callers_words.get(doc.id, [])
    from_files = SearchIndex(docs, synonyms=groups_to_dict(groups))
    assert len(search_docs()) == len(load_demo_docs())
    for query in ["carte grise", "allocation logement étudiant", "pacs", "impots en ligne", "perte permis"]:
        got = [(h.id, round(h.score, 9)) for h in from_db.search(query).hits]
        want = [(h.id, round(h.score, 9)) for h in from_files.search(query).hits]
        assert got == want, query


def test_eval_command_prints_the_metrics_as_json(demo, tmp_path, capsys):
    questions = tmp_path / "q.csv"
    questions.write_text(
        "question,expected\n" + "\n".join(f'"{q}",{fid}' for q, fid in OWN_QUESTIONS) + "\nquelle heure est-il sur mars,\n",
        encoding="utf-8",
    )
    call_command("kb", "eval", "--questions", str(questions), "--json")
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) >= {"hit_at_1", "hit_at_3", "mrr", "oos_precision", "p50_ms", "p95_ms", "n"}
    assert metrics["n"] == 3


def test_a_big_knowledge_base_is_searched_from_saved_files_and_an_edit_reaches_it(demo, settings, tmp_path,
                                                                                  monkeypatch, request):
    """Above SMALL_KB fiches the index is the one `allo search_index` saved (memory-mapped), and a
    saved fiche is searchable through the overlay, without rebuilding the saved index."""
    from allo.bootstrap import bootstrap

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(search_service, "SMALL_KB", 10)
    services = bootstrap()  # a web process's indexes, made fresh (the default's stay as they are)
    request.addfinalizer(services.close)
    call_command("search_index")
    folder = search_service.index_dir()
    assert (folder / "meta.json").exists() and folder.is_relative_to(tmp_path)
    index = search_service.search_index()
    assert type(index.data.a["pimp"]).__name__ == "memmap"
    assert index.docs_count == Fiche.objects.published().count()

    fiche = Fiche.objects.published().order_by("id").first()
    fiche.title = f"{fiche.title} zorglubium"
    fiche.save()
    edited = search_service.search_index()
    assert edited.data is index.data  # the same saved index, with an overlay
    assert edited.search("zorglubium").hits[0].id == fiche.id

    other = Fiche.objects.published().exclude(pk=fiche.pk).order_by("id").last()
    FicheNotes.objects.create(fiche=other, synonyms=["truc à zigouigoui"])
    with_notes = search_service.search_index()
    assert with_notes.data is index.data
    assert with_notes.search("truc à zigouigoui").hits[0].id == other.id
    assert with_notes.search("un truc à zigouigoui pour ma mère").hits[0].id == other.id  # the editor's words in a question

    fiche.status = Fiche.Status.ARCHIVED
    fiche.save()
    assert fiche.id not in [h.id for h in search_service.search_index().search("zorglubium").hits]


def test_the_composition_root_installs_its_own_search_indexes_and_a_change_reaches_every_one(demo):
    """bootstrap() builds this process's search indexes and installs them; close() gives the default
    back (a command, a test without the router's fixture search it). A fiche saved in this process is
    seen at once by both, not up to STAMP_SECONDS later."""
    from allo.bootstrap import bootstrap

    default = search_service.indexes()
    default.index()  # checked now: only the model's signal makes it ask the database again this second
    services = bootstrap()
    try:
        assert search_service.indexes() is services.search and services.search is not default
        assert search_index() is services.search.index()
        fiche = Fiche.objects.published().order_by("id").first()
        fiche.title = f"{fiche.title} zorglubium"
        fiche.save()
        assert search_index().search("zorglubium").hits[0].id == fiche.id
    finally:
        services.close()
    assert search_service.indexes() is default
    assert search_index().search("zorglubium").hits[0].id == fiche.id
