"""The engine's index as files, its overlay of changed fiches, the corpus lexicon and the importer's
search fields; and the engine's purity (no Django in its import graph)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import allo.kb.search
from allo.kb.search import IndexData, SearchDoc, SearchIndex, doc_from_mapping, load_demo_docs, load_synonyms
from allo.kb.search.lexicon import corpus_groups


def test_the_search_engine_imports_without_django():
    root = Path(allo.kb.search.__file__).parent
    modules = ["allo.kb.search"] + [i.name for i in pkgutil.walk_packages([str(root)], prefix="allo.kb.search.")]
    assert "allo.kb.search.index" in modules and "allo.kb.search.semantic" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


@pytest.fixture(scope="module")
def demo_index():
    return SearchIndex(load_demo_docs(), load_synonyms())


QUERIES = ["carte grise perdue", "aide pour le loyer", "je voudrais me pacser", "retraite progressive", "zorglub"]


def test_a_saved_index_memory_maps_back_with_the_same_results(demo_index, tmp_path):
    folder = demo_index.data.save(tmp_path / "index")
    loaded = SearchIndex(synonyms=load_synonyms(), data=IndexData.load(folder))
    assert loaded.data.a["pimp"].__class__.__name__ == "memmap"  # mapped, not read into memory
    for q in QUERIES:
        assert loaded.search(q) == demo_index.search(q), q


def test_saving_over_an_index_replaces_it_whole(demo_index, tmp_path):
    folder = tmp_path / "index"
    SearchIndex([SearchDoc(id="a", title="Ancien index")]).data.save(folder)
    old = IndexData.load(folder)  # a process still reading the old files keeps them
    demo_index.data.save(folder)
    assert IndexData.load(folder).n == demo_index.data.n
    assert old.ids == ["a"] and old.titles == ["Ancien index"]
    assert [p.name for p in tmp_path.iterdir()] == ["index"]  # no temporary folder left


def test_an_index_of_another_format_is_refused(demo_index, tmp_path):
    import json

    folder = demo_index.data.save(tmp_path / "index")
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps(meta | {"format": -1}))
    with pytest.raises(ValueError, match="format"):
        IndexData.load(folder)


def test_the_overlay_adds_replaces_and_removes_fiches(demo_index):
    docs = {d.id: d for d in load_demo_docs()}
    edited = SearchDoc(**{**docs["rsa"].__dict__, "title": "Revenu de solidarité active (zorglubium)"})
    new = SearchDoc(id="zz-nouvelle", title="Fiche sur le quarkonium", theme="social-sante",
                    short_answer="Le quarkonium se demande en mairie.")
    changed = demo_index.with_changes([edited, new], removed={"pacs-conclure"})
    assert changed.search("zorglubium").hits[0].id == "rsa"
    assert changed.search("quarkonium").hits[0].id == "zz-nouvelle"
    assert "quarkonium" in changed.search("quarkonium").hits[0].snippet
    assert "pacs-conclure" not in [h.id for h in changed.search("conclure un pacs", limit=50).hits]
    assert "pacs-conclure" in [h.id for h in demo_index.search("conclure un pacs", limit=50).hits]
    # the other fiches rank as in the base
    assert [h.id for h in changed.search("carte grise perdue").hits[:3]] == \
        [h.id for h in demo_index.search("carte grise perdue").hits[:3]]


def test_synonyms_change_without_rebuilding(demo_index):
    before = demo_index.search("zorglouf")
    after = demo_index.with_synonyms({**load_synonyms(), "zorglouf": ["carte grise"]})
    assert after.data is demo_index.data
    assert not before.hits or before.low_confidence
    assert after.search("zorglouf").hits[0].id == demo_index.search("carte grise").hits[0].id


def test_the_corpus_lexicon_reads_acronyms_glossaries_and_former_names():
    docs = [
        SearchDoc(id="F1", title="Complémentaire santé solidaire (ex-CMU-C)"),
        SearchDoc(id="F2", title="Rupture du contrat", body="Un contrat à durée indéterminée (CDI) peut être rompu."),
        SearchDoc(id="F3", title="Élus", definitions=[("CSE", "Comité social et économique")]),
        SearchDoc(id="F4", title="Titulaire et cotitulaires du certificat d'immatriculation (ex-carte grise)"),
        SearchDoc(id="F5", title="Mots", body="Une phrase (TOTO) sans rapport avec ses voisins."),
    ]
    groups = corpus_groups(docs)
    assert ["CMU-C", "Complémentaire santé solidaire"] in groups
    assert ["CDI", "contrat à durée indéterminée"] in groups
    assert ["CSE", "Comité social et économique"] in groups
    assert ["carte grise", "certificat d'immatriculation"] in groups
    assert not any("TOTO" in g for g in groups)  # initials that spell nothing before it


def test_corpus_synonyms_reach_the_fiche_through_the_query():
    docs = [SearchDoc(id="F1", title="Complémentaire santé solidaire (ex-CMU-C)", short_answer="Une aide."),
            SearchDoc(id="F2", title="Santé au travail", short_answer="La médecine du travail.")]
    index = SearchIndex(docs)
    assert index.search("j'avais la CMU-C").hits[0].id == "F1"


def test_the_importers_search_fields_map_onto_the_document():
    record = {"id": "F123", "title": "ignored", "theme": "logement", "popularity": 1, "search": {
        "title": "Dépôt de garantie", "description": "Ce que le bailleur peut retenir.", "intro": "Le dépôt...",
        "headings": ["Montant", "Restitution"], "body": "Texte.", "keywords": ["caution"],
        "definitions": [["Bailleur", "Propriétaire qui loue"]], "crumbs": ["Logement", "Location"],
        "kind": "information", "audiences": ["particulier"]}}
    doc = doc_from_mapping(record)
    assert (doc.title, doc.description, doc.short_answer) == ("Dépôt de garantie", "Ce que le bailleur peut retenir.",
                                                              "Le dépôt...")
    assert doc.headings == ["Montant", "Restitution"] and doc.keywords == ["caution"]
    assert doc.definitions == [("Bailleur", "Propriétaire qui loue")] and doc.crumbs == ["Logement", "Location"]
    assert doc.collection == "service-public" and doc.kind == "information"
    assert SearchIndex([doc]).search("restitution du dépôt").hits[0].id == "F123"


def test_markdown_headings_and_glossary_are_read_back_from_sections():
    doc = doc_from_mapping({"id": "x", "title": "T", "sections": {
        "other": "### Qui est concerné ?\n\n**Cas : Vous êtes locataire**\n\nTexte.\n\n### Définitions\n\n"
                 "- **CAF** : Caisse d'allocations familiales"}})
    assert doc.headings == ["Qui est concerné ?", "Vous êtes locataire"]
    assert doc.definitions == [("CAF", "Caisse d'allocations familiales")]
    assert doc.collection == "locale"
