"""Dense vectors (the packaged multilingual sentence encoder), their reuse across builds, the learned
re-ranking of a corpus big enough for them, and the fitted files shipped with the engine."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from allo.kb.search import IndexData, SearchDoc, SearchIndex, dense, load_demo_docs, load_synonyms, rerank
from allo.kb.search.build import build, dense_cache


def test_vectors_are_unit_length_and_close_for_paraphrases_in_french():
    v = dense.encode(["Mon propriétaire veut me mettre dehors, il a le droit ?",
                      "Expulsion du locataire : procédure et délais",
                      "Pêche de loisir en mer : tailles minimales des captures"])
    assert v.shape == (3, dense.DIM)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-3)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1


def test_a_vector_is_reused_when_the_text_did_not_change(monkeypatch):
    texts = ["Carte grise : changement d'adresse", "Congé de maternité"]
    keys, vecs = dense.encode_docs(texts)
    calls = []
    real = dense.encode
    monkeypatch.setattr(dense, "encode", lambda t: calls.append(list(t)) or real(t))
    cache = dict(zip(keys.tolist(), vecs, strict=True))
    keys2, vecs2 = dense.encode_docs(texts + ["Passeport perdu"], cache)
    assert calls == [["Passeport perdu"]]  # only the new text is encoded
    assert np.array_equal(vecs2[:2], vecs) and keys2[:2].tolist() == keys.tolist()


def test_the_shipped_adapter_and_domain_model_fit_the_encoder():
    assert dense.adapter().shape == (dense.DIM, dense.DIM)
    assert dense.domain().shape == (dense.DIM + 1,)
    raw = dense.encode(["Comment refaire ma carte d'identité perdue ?", "Quelle est la recette du tiramisu ?"])
    assert dense.off_domain(raw[1]) > dense.off_domain(raw[0])
    assert abs(np.linalg.norm(dense.adapt(raw[0])) - 1.0) < 1e-5


@pytest.fixture(scope="module")
def big_index():
    """The demo fiches and recombined copies: enough fiches (>= 300) for LSA and dense vectors."""
    docs = load_demo_docs()
    copies = [replace(d, id=f"{d.id}-bis", title=f"{d.title} (autre cas)", phrasings=[]) for d in docs]
    return SearchIndex(docs + copies, load_synonyms())


def test_a_big_corpus_is_reranked_with_dense_vectors(big_index):
    assert big_index.uvec is not None and big_index.uvec.shape[1] == dense.DIM
    response = big_index.search("j'ai perdu ma carte grise")
    assert response.hits and response.hits[0].score == 1.0
    assert all(0 < h.score <= 1.0 for h in response.hits)
    assert len(big_index.last_features) == len(rerank.TOP_FEATURES)
    first = big_index.first_pass("j'ai perdu ma carte grise")
    cand, features = big_index.rerank_inputs(first)
    assert features.shape == (len(cand), len(rerank.RANK_FEATURES))
    assert len(cand) <= rerank.CANDIDATES + rerank.DENSE_CANDIDATES and len(set(cand.tolist())) == len(cand)
    assert "carte-grise" in response.hits[0].id or "carte-grise" in response.hits[1].id


def test_a_question_about_nothing_the_line_answers_is_flagged(big_index):
    assert big_index.search("quelle est la recette de la pâte à crêpes ?").low_confidence
    assert not big_index.search("je voudrais refaire ma carte d'identité").low_confidence


def test_a_theme_filter_limits_the_dense_candidates_too(big_index):
    theme = big_index.search("carte grise").hits[0].theme
    hits = big_index.search("je déménage, que dois-je faire ?", theme=theme, limit=50).hits
    assert hits and {h.theme for h in hits} == {theme}


def test_saved_dense_vectors_map_back_and_serve_the_next_build(big_index, tmp_path, monkeypatch):
    folder = big_index.data.save(tmp_path / "index")
    data = IndexData.load(folder)
    loaded = SearchIndex(synonyms=load_synonyms(), data=data)
    assert loaded.search("aide pour payer le loyer") == big_index.search("aide pour payer le loyer")
    assert len(dense_cache(data)) == data.n
    encoded = []
    real = dense.encode
    monkeypatch.setattr(dense, "encode", lambda t: encoded.append(len(t)) or real(t))
    docs = load_demo_docs()
    docs = docs + [replace(d, id=f"{d.id}-bis", title=f"{d.title} (autre cas)", phrasings=[]) for d in docs]
    docs[0] = replace(docs[0], title=docs[0].title + " (modifiée)")
    build(docs, reuse=data)
    assert encoded == [1]  # the one fiche whose text changed


def test_an_overlay_fiche_gets_its_dense_vector(big_index):
    new = SearchDoc(id="zz-nouvelle", title="Adopter un chat abandonné au refuge", theme="social-sante",
                    short_answer="Le refuge vous confie un animal après un entretien.")
    changed = big_index.with_changes([new])
    assert changed.uvec is not None and changed.uvec.shape[0] == changed.n
    assert changed.search("adopter un chat au refuge").hits[0].id == "zz-nouvelle"


def test_a_small_knowledge_base_ranks_without_dense_vectors():
    index = SearchIndex(load_demo_docs(), load_synonyms())
    assert index.uvec is None
    assert index.search("carte grise perdue").hits


def test_the_parsed_tokenizer_is_kept_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setattr(dense, "_cache_dir", None)
    dense.set_cache_dir(tmp_path)
    tokenizer = dense._encoder()._sp
    dense._save_tokenizer(tokenizer)
    assert list(tmp_path.glob("use-tokenizer-*.pickle"))
    again = dense._cached_tokenizer()
    text = "Je voudrais refaire ma carte grise"
    assert again.encode(text, out_type=int) == tokenizer.encode(text, out_type=int)


def test_a_search_made_while_the_encoder_loads_is_provisional(big_index, monkeypatch):
    assert not big_index.search("j'ai perdu ma carte grise").provisional
    monkeypatch.setattr(dense, "query_raw", lambda query: None)  # a process's first seconds
    response = big_index.search("j'ai perdu ma carte grise")
    assert response.provisional and response.hits  # ranked by the first pass: shown, not to be kept
    small = SearchIndex(load_demo_docs(), load_synonyms())  # no dense vectors at all: complete as it is
    assert not small.search("j'ai perdu ma carte grise").provisional
