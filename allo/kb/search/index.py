"""French search over fiches: BM25F on stems and bigrams, query-side synonyms, a "closest question"
boost, typo tolerance, and a calibrated confidence.

An index is a base (`IndexData`, built from documents or memory-mapped from files) plus an optional
small overlay of fiches changed since the base was built: searching it never rebuilds anything.
Synonyms (the shipped dictionary, the groups read from the corpus, the editors') act on the query
only, so adding one is immediate. Docs are numbered by id and ties are broken by id, so results
depend only on the content, never on the order a database returned it.
"""

from __future__ import annotations

import bisect
import html
import math
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from . import blas, dense, french_words, rerank, semantic
from .analysis import is_stop, stem, words
from .build import IndexData, build, keys_of
from .document import SearchDoc
from .lexicon import corpus_groups
from .synonyms import SynonymMatcher

MAX_QUERY_CHARS = 500

BIGRAM_WEIGHT = 0.6
ALT_WEIGHT = 0.9  # a synonym's match counts a little less than the caller's own word
CORRECTED_WEIGHT = 0.85
NUMBER_WEIGHT = 0.5  # numbers in a query (ages, amounts, years) are weak evidence
SEMANTIC_WEIGHT = 1.0  # the corpus-trained latent cosine, fused with the lexical score (max 1)
PHRASE_BOOST = 1.0  # score *= 1 + PHRASE_BOOST * similarity to the closest title/phrasing
# The words an editor says callers use for a fiche (its Allô notes: "se porter garant"), all of them in the
# question and making at least this share of it (idf-weighted), put that fiche first: the line said so.
# The learned re-ranking cannot weigh them (no fit question has any): there they moved a fiche one place
# at most. A local fiche's own phrasings are not forced so (the first pass weighs them; forced, they cost
# the demo's questions 2 points of hit@1).
SAID_SHARE = 0.5
# logistic(w0 + w . features) of SearchIndex._features, fitted on questions written for the purpose
# (bench/real_heldout_questions.csv, never the dev set): CONFIDENCE estimates the chance that the
# first hit answers, OUT_OF_SCOPE whether no fiche does. Fitting and reliability: docs/search.md.
CONFIDENCE = (-3.46, 1.04, 1.19, 0.53, 0.18, -2.23, 0.02)
# flagged from 0.7 (intercept 12.71 - ln(0.7/0.3)): on held-out questions the 0.5 cut flagged 4 of the
# 127 answerable questions for 9 of 10 out-of-scope ones, 0.7 flags 2 for 5
# a corpus too small for a latent space (the demo) reads the mean cosine of answered questions instead
COSINE_WITHOUT_SPACE = 0.55
OUT_OF_SCOPE = (11.86, -1.49, -3.52, -1.51, -1.78, -1.13, 0.06)
SNIPPET_SCAN_CHARS = 20_000

__all__ = ["Hit", "QueryError", "SearchDoc", "SearchIndex", "SearchResponse"]


class QueryError(ValueError):
    """The query cannot be searched; `str(error)` is a French message for the operator."""


@dataclass
class Hit:
    id: str
    title: str
    theme: str
    score: float
    confidence: float
    snippet: str  # HTML: escaped text, matched words in <mark>


@dataclass
class SearchResponse:
    query: str
    hits: list[Hit]
    low_confidence: bool
    suggestion: str | None = None
    confidence: float = 0.0
    # ranked without the dense vectors an index of this size uses (the encoder still loading in a
    # process's first seconds): right enough to show, not to keep in a cache
    provisional: bool = False


@dataclass
class _FirstPass:
    units: list
    suggestion: str | None
    scores: np.ndarray | None  # fused lexical + latent, 0 for fiches removed or outside the theme
    lexical: np.ndarray | None  # lexical score / the best one
    lexical_top: float
    cos: np.ndarray | None  # latent cosine
    qsim: np.ndarray | None  # closeness of the question to each fiche's title
    matched: np.ndarray | None  # (units, docs): which query units each fiche holds
    allowed: np.ndarray | None  # fiches alive and in the theme asked
    dense: np.ndarray | None  # dense cosine (None: no dense vectors)
    off_domain: float  # logit of "the question is about nothing the line answers" (dense.off_domain)
    said: np.ndarray | None = None  # share of the question the callers' words of each fiche make (SAID_SHARE)


@dataclass
class _Unit:
    """One query word, or a run of words a synonym group matched."""
    phrases: list[tuple[tuple[str, ...], float]]  # (stem sequence, weight): the words, then synonyms
    weight: float
    idf: float
    span: tuple[int, int]


def _logistic(weights: tuple[float, ...], features: tuple[float, ...]) -> float:
    x = weights[0] + sum(w * f for w, f in zip(weights[1:], features, strict=True))
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def validate(query: object) -> str:
    if not isinstance(query, str):
        raise QueryError("La recherche doit être un texte.")
    query = query.strip()
    if not query:
        raise QueryError("La recherche est vide : saisissez quelques mots décrivant la demande.")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(
            f"La recherche est trop longue ({len(query)} caractères) : {MAX_QUERY_CHARS} caractères "
            "au maximum. Résumez la demande en quelques mots."
        )
    return query


_DOUBLE = re.compile(r"(.)\1+")


def _skeleton(word: str) -> str:
    return _DOUBLE.sub(r"\1", word)


_NEWLINES = re.compile(r"\n+")
_FOLDED_WORD = re.compile(r"[^\W_]+")


class SearchIndex:
    def __init__(self, docs: list[SearchDoc] | None = None, synonyms: dict[str, list[str]] | None = None, *,
                 data: IndexData | None = None, overlay: IndexData | None = None, removed: frozenset = frozenset(),
                 matcher: SynonymMatcher | None = None, reuse: IndexData | None = None):
        if data is None:  # `reuse`: a previous index whose dense vectors serve the unchanged fiches
            data = build(list(docs or []), reuse=reuse)
            data.meta["lexicon"] = corpus_groups(list(docs or []))
        self.data = data
        self.overlay = overlay
        self.synonyms = synonyms or {}
        self.matcher = matcher or SynonymMatcher(self.synonyms, data.meta.get("lexicon") or [])
        self.parts = [data] + ([overlay] if overlay is not None else [])
        self.offsets = [0, data.n] + ([data.n + overlay.n] if overlay is not None else [])
        self.n = self.offsets[-1]
        self.removed = frozenset(removed)
        shadowed = set(self.removed) | (set(overlay.ids) if overlay is not None else set())
        self.ids = list(data.ids) + (list(overlay.ids) if overlay is not None else [])
        self.alive = np.array([i not in shadowed for i in data.ids] + [True] * (self.n - data.n), dtype=bool)
        self.prior = np.concatenate([np.asarray(p.a["prior"], dtype=np.float64) for p in self.parts])
        self.local = ~np.concatenate([np.asarray(p.a["official"], dtype=bool) for p in self.parts])
        self.id_rank = np.argsort(np.argsort(np.array(self.ids, dtype=object), kind="stable"), kind="stable")
        self.n_stats = int(data.meta["n_stats"])
        dims = {p.a["dvec"].shape[1] for p in self.parts if p.n}
        self.dvec = (np.concatenate([np.asarray(p.a["dvec"]) for p in self.parts]) if len(dims) == 1 and 0 not in dims
                     else None)
        # dense vectors (dense.py), as float32 in memory (3,500 fiches: 7 MB) for a fast product
        udims = {p.a["uvec"].shape[1] for p in self.parts if p.n}
        self.uvec = (np.concatenate([np.asarray(p.a["uvec"], dtype=np.float32) for p in self.parts])
                     if self.dvec is not None and len(udims) == 1 and 0 not in udims else None)
        if self.uvec is not None:
            dense.preload()  # in the background: searches rank without it until it is there
        french_words.preload()
        self.idf_unknown = 0.75 * math.log(1 + (self.n_stats + 0.5) / 1.5)

    # ---------------------------------------------------------------- derived views
    def with_changes(self, docs: list[SearchDoc], removed: set[str] | frozenset = frozenset()) -> SearchIndex:
        """The base of this index with `docs` added or replacing theirs and `removed` ids gone (an
        overlay scored with the base's statistics: milliseconds, not the base's half-minute). Any
        previous overlay is dropped: pass every doc changed since the base."""
        overlay = build(docs, base=self.data) if docs else None
        return SearchIndex(synonyms=self.synonyms, data=self.data, overlay=overlay,
                           removed=frozenset(removed) | {d.id for d in docs}, matcher=self.matcher)

    def with_synonyms(self, synonyms: dict[str, list[str]]) -> SearchIndex:
        return SearchIndex(synonyms=synonyms, data=self.data, overlay=self.overlay, removed=self.removed,
                           matcher=SynonymMatcher(synonyms, self.data.meta.get("lexicon") or []))

    @property
    def docs_count(self) -> int:
        return int(self.alive.sum())

    @cached_property
    def _vocab(self) -> dict[str, int]:
        """Folded surface word -> document frequency (base and overlay), and the synonyms' words."""
        out: dict[str, int] = {}
        for part in self.parts:
            for w, df in zip(part.words, np.asarray(part.a["words_df"]).tolist(), strict=True):
                out[w] = out.get(w, 0) + int(df)
        for w in self.matcher.surface:
            if not is_stop(w):
                out.setdefault(w, 0)
        return out

    @cached_property
    def _by_len(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for w in sorted(self._vocab):
            if len(w) >= 4 and not w.isdigit():
                out.setdefault(len(w), []).append(w)
        return out

    @cached_property
    def _by_prefix(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for w in sorted(self._vocab):
            if len(w) >= 5:
                out.setdefault(w[:5], []).append(w)
        return out

    @cached_property
    def _by_skeleton(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for w in sorted(self._vocab, key=lambda w: (-self._vocab[w], w)):
            if len(w) >= 4:
                out.setdefault(_skeleton(w), w)
        return out

    def _rows(self, terms: list[str]) -> list[np.ndarray]:
        keys = keys_of(terms)
        return [p.find(keys) for p in self.parts]

    def _known(self, st: str) -> bool:
        return any(int(r[0]) >= 0 for r in self._rows([st])) or st in self.matcher.stems

    # ---------------------------------------------------------------- query analysis
    def _correct(self, w: str) -> str | None:
        """The closest indexed word: Levenshtein distance <= 1 (<= 2 from 9 letters), 5+ letters."""
        if len(w) < 5 or any(ch.isdigit() for ch in w):
            return None
        max_d = 1 if len(w) <= 8 else 2
        pool = [v for n in range(len(w) - max_d, len(w) + max_d + 1) for v in self._by_len.get(n, ())]
        cands = process.extract(w, pool, scorer=Levenshtein.distance, score_cutoff=max_d, limit=20)
        if not cands:
            return None
        best = min(cands, key=lambda c: (c[1], c[0][0] != w[0], -self._vocab.get(c[0], 0), c[0]))
        return best[0]

    def _near_word(self, w: str) -> str | None:
        """An indexed word that extends or shortens an unknown one by a few letters (conjugation)."""
        if len(w) < 6:
            return None
        cands = [v for v in self._by_prefix.get(w[:5], ())
                 if (v.startswith(w) or w.startswith(v)) and abs(len(v) - len(w)) <= 3]
        if not cands:
            return None
        return min(cands, key=lambda v: (abs(len(v) - len(w)), -self._vocab[v], v))

    def _idf(self, terms: list[str]) -> list[float | None]:
        out: list[float | None] = [None] * len(terms)
        for part, rows in zip(self.parts, self._rows(terms), strict=True):
            idf = part.a["idf"]
            for k, r in enumerate(rows.tolist()):
                if r >= 0 and out[k] is None:
                    out[k] = float(idf[r])
        return out

    def _analyze_query(self, query: str) -> tuple[list[_Unit], list[str], str | None]:
        stems: list[str] = []
        weights: list[float] = []
        corrections: list[tuple[int, int, str]] = []
        for s, e, w in words(query):
            if is_stop(w):
                continue
            st = stem(w)
            weight = 1.0
            if w not in self._vocab and not self._known(st):
                same = self._by_skeleton.get(_skeleton(w)) if len(w) >= 5 else None
                near = None if same else self._near_word(w)
                # a real French word the corpus lacks is no typo: it stays unknown (« tarte » is not « tante »)
                fixed = same or (None if near is not None or french_words.is_french_word(w) else self._correct(w))
                if near is not None:  # another form of a known word: no suggestion needed
                    st = stem(near)
                elif fixed is not None:
                    if stem(fixed) != st:
                        corrections.append((s, e, fixed))
                    st, weight = stem(fixed), CORRECTED_WEIGHT
            stems.append(st)
            weights.append(weight * (NUMBER_WEIGHT if st.isdigit() else 1.0))

        idfs = self._idf(stems)
        # synonym runs: longest first, no overlap
        spans: dict[tuple[int, int], set[str]] = {}
        for i, j, concept in self.matcher.match(stems):
            spans.setdefault((i, j), set()).add(concept)
        taken = [False] * len(stems)
        units: list[_Unit] = []
        for (i, j), concepts in sorted(spans.items(), key=lambda x: (-(x[0][1] - x[0][0]), x[0])):
            if any(taken[i:j]):
                continue
            taken[i:j] = [True] * (j - i)
            own = tuple(stems[i:j])
            alts = sorted({seq for c in concepts for seq in self.matcher.members.get(c, ())} - {own})
            idf = sum(x if x is not None else self.idf_unknown for x in idfs[i:j])
            units.append(_Unit([(own, 1.0)] + [(a, ALT_WEIGHT) for a in alts], min(weights[i:j]), idf, (i, j)))
        for k, st in enumerate(stems):
            if not taken[k]:
                idf = idfs[k] if idfs[k] is not None else self.idf_unknown
                units.append(_Unit([((st,), 1.0)], weights[k], idf, (k, k + 1)))
        units.sort(key=lambda u: u.span)

        suggestion = None
        if corrections:
            out, pos = [], 0
            for s, e, rep in corrections:
                out += [query[pos:s], rep]
                pos = e
            suggestion = "".join(out) + query[pos:]
        return units, stems, suggestion

    # ---------------------------------------------------------------- scoring
    def _impacts(self, terms: list[str]) -> np.ndarray:
        """(len(terms), n) BM25F impacts of each term in each doc."""
        out = np.zeros((len(terms), self.n), dtype=np.float64)
        for part, off, rows in zip(self.parts, self.offsets, self._rows(terms), strict=False):
            for k, r in enumerate(rows.tolist()):
                if r >= 0:
                    d, v = part.postings(r)
                    out[k, off + np.asarray(d)] = v
        return out

    def _question_sim(self, units: list[_Unit]) -> tuple[np.ndarray, np.ndarray]:
        """Per doc, Dice similarity (idf-weighted) between the query and its closest question-like
        segment (title, or a caller's phrasing); a synonym of a query word counts as that word. And per
        doc, the largest share of the query its callers' words (Allô's notes) make when the query
        holds all of them (0 below SAID_SHARE)."""
        sims, saids = [], []
        for part in self.parts:
            n_seg = len(part.a["seg_norm"])
            shared = np.zeros(n_seg)
            q_norm = 0.0
            for u in units:
                w = u.idf * min(u.weight, 1.0)
                q_norm += w
                has = np.zeros(n_seg, dtype=bool)
                for seq, _ in u.phrases:
                    rows = part.find(keys_of(list(seq)))
                    if (rows < 0).any():
                        continue
                    present = np.ones(n_seg, dtype=bool)
                    for r in rows.tolist():
                        mask = np.zeros(n_seg, dtype=bool)
                        mask[np.asarray(part.segments(r))] = True
                        present &= mask
                    has |= present
                shared[has] += w
            if q_norm == 0 or not n_seg:
                sims.append(np.zeros(part.n))
                saids.append(np.zeros(part.n))
                continue
            seg_norm = np.asarray(part.a["seg_norm"])
            sim = 2 * shared / (q_norm + seg_norm + 1e-9)
            whole = (shared >= seg_norm * (1 - 1e-6)) & (seg_norm > 0) & np.asarray(part.a["seg_said"])
            said = np.where(whole & (shared >= SAID_SHARE * q_norm), shared / q_norm, 0.0)
            starts = np.asarray(part.a["seg_start"])
            sims.append(np.maximum.reduceat(sim, starts) if part.n else np.zeros(0))
            saids.append(np.maximum.reduceat(said, starts) if part.n else np.zeros(0))
        return np.concatenate(sims), np.concatenate(saids)

    def _score(self, units: list[_Unit]) -> tuple[np.ndarray, np.ndarray]:
        """(scores per doc, matched per unit and doc)."""
        terms: list[str] = []
        for u in units:
            for seq, _ in u.phrases:
                terms.extend(seq)
                terms.extend(f"{a}|{b}" for a, b in zip(seq, seq[1:], strict=False))
        for a, b in zip(units, units[1:], strict=False):  # bigrams across units (query word order)
            terms.append(f"{a.phrases[0][0][-1]}|{b.phrases[0][0][0]}")
        terms = sorted(set(terms))
        col = {t: k for k, t in enumerate(terms)}
        imp = self._impacts(terms)
        scores = np.zeros(self.n)
        matched = np.zeros((len(units), self.n), dtype=bool)
        for k, u in enumerate(units):
            span = u.span[1] - u.span[0]
            best = np.zeros(self.n)
            for seq, alt_w in u.phrases:
                v = imp[[col[t] for t in seq]].sum(axis=0)
                if len(seq) > 1:
                    v += BIGRAM_WEIGHT * imp[[col[f"{a}|{b}"] for a, b in zip(seq, seq[1:], strict=False)]].sum(axis=0)
                    v *= span / len(seq)
                np.maximum(best, alt_w * v, out=best)
            scores += u.weight * best
            matched[k] = best > 0
        for a, b in zip(units, units[1:], strict=False):
            scores += BIGRAM_WEIGHT * imp[col[f"{a.phrases[0][0][-1]}|{b.phrases[0][0][0]}"]]
        return scores, matched

    # ---------------------------------------------------------------- search
    def search(self, query: str, limit: int = 10, theme: str | None = None,
               snippets: int | None = None) -> SearchResponse:
        """The best `limit` fiches for `query`; only the first `snippets` hits (all by default) get
        their highlighted snippet, the costliest part of a search."""
        query = validate(query)
        limit = max(1, min(int(limit), 100))
        with blas.single_thread():
            first = self.first_pass(query, theme)
            if first.scores is None:
                return SearchResponse(query, [], True, first.suggestion, 0.0)
            provisional = self.uvec is not None and first.dense is None
            if first.dense is not None:
                order, shown, conf, out_of_scope = self._reranked(first, limit)
            else:
                order, shown, conf, out_of_scope = self._first_pass_ranked(first, limit)
            if first.said is not None and first.said.any():
                order, shown = self._said_first(first.said, order, shown, limit)
                out_of_scope = False
        units = first.units
        marks = {st for u in units for seq, _ in u.phrases for st in seq}
        idf_of = {st: u.idf / max(len(u.phrases[0][0]), 1) for u in units for seq, _ in u.phrases for st in seq}
        prefixes = sorted({m[:4] for m in marks if m}, key=len, reverse=True)
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, prefixes)) + r")[^\W_]*") if prefixes else None
        hits = []
        with_snippet = len(order) if snippets is None else snippets
        for rank, (i, score) in enumerate(zip(order, shown, strict=True)):
            part, j = self._locate(i)
            hits.append(Hit(part.ids[j], part.titles[j], part.themes[j], round(float(score), 4),
                            round(conf * float(score / shown[0]), 3),
                            self._snippet(part, j, marks, idf_of, pattern) if rank < with_snippet else ""))
        return SearchResponse(query, hits, out_of_scope, first.suggestion, round(conf, 3), provisional)

    def _said_first(self, said: np.ndarray, order: list[int], shown, limit: int):
        """The fiches whose callers' words the question holds (SAID_SHARE) first, the most of the question
        first, scored as the best hit; then the ranking as it was."""
        named = np.flatnonzero(said)
        named = named[np.lexsort((self.id_rank[named], -said[named]))].tolist()
        top = float(shown[0]) if len(shown) else 1.0
        score_of = dict(zip(order, (float(x) for x in shown), strict=True))
        first = set(named)
        new_order = (named + [i for i in order if i not in first])[:limit]
        return new_order, np.array([top if i in first else score_of[i] for i in new_order])

    def first_pass(self, query: str, theme: str | None = None, dense_query: np.ndarray | None = None,
                   off_domain: float | None = None) -> _FirstPass:
        """The lexical and latent scores of every fiche, and the dense vector's cosine when the index
        has dense vectors (`scores` None when nothing in the query can be searched or nothing matches).
        `dense_query`, `off_domain`: the question's adapted dense vector and domain logit when the caller
        has them (bench/fit_search.py)."""
        units, stems, suggestion = self._analyze_query(query)
        nothing = _FirstPass(units, suggestion, None, None, 0.0, None, None, None, None, None, 0.0)
        if not units:
            return nothing
        scores, matched = self._score(units)
        qsim, said = self._question_sim(units)
        scores *= self.prior * (1.0 + PHRASE_BOOST * qsim)
        lexical_top = float(scores[self.alive].max()) if self.alive.any() else 0.0
        lexical = scores / (lexical_top or 1.0)
        cos = None
        if self.dvec is not None:
            qv = semantic.query_vector([st for u in units for seq, _ in u.phrases for st in seq],
                                       self.data.a["lsa_keys"], self.data.a["lsa_idf"], self.data.a["lsa_tvec"])
            if qv is not None:
                cos = np.maximum(self.dvec @ qv.astype(np.float32), 0.0)
                scores = lexical + SEMANTIC_WEIGHT * cos
        allowed = self.alive.copy()
        if theme:
            allowed &= np.array([t == theme for p in self.parts for t in p.themes], dtype=bool)
        scores[~allowed] = 0.0
        scores = np.round(scores, 9)
        if not (scores > 0).any():
            return nothing
        dense_cos, domain = None, 0.0
        if self.uvec is not None and cos is not None:
            if dense_query is None:
                raw = dense.query_raw(query)  # None while the model loads (a process's first seconds)
                if raw is not None:
                    dense_query, off_domain = dense.adapt(raw), dense.off_domain(raw)
            if dense_query is not None:
                dense_cos, domain = self.uvec @ dense_query, float(off_domain or 0.0)
        return _FirstPass(units, suggestion, scores, lexical, lexical_top, cos, qsim, matched, allowed, dense_cos,
                          domain, np.where(allowed, said, 0.0))

    def _first_pass_ranked(self, first: _FirstPass, limit: int):
        """Without dense vectors (a small knowledge base, or the encoder not installed): the fused
        lexical + latent score ranks, and the first models read its first hit."""
        scores = first.scores
        candidates = np.flatnonzero(scores > 0)
        order = candidates[np.lexsort((self.id_rank[candidates], -scores[candidates]))][:limit]
        top = int(order[0])
        features = self._features(first.units, first.matched[:, top], first.lexical_top, float(first.qsim[top]),
                                  float(first.cos[top]) if first.cos is not None else COSINE_WITHOUT_SPACE,
                                  float(scores[order[1]] / scores[top]) if len(order) > 1 else 0.0)
        self.last_features = features
        conf = _logistic(CONFIDENCE, features)
        return order.tolist(), scores[order], conf, _logistic(OUT_OF_SCOPE, features) >= 0.5

    def rerank_inputs(self, first: _FirstPass) -> tuple[np.ndarray, np.ndarray]:
        """(candidate doc numbers, their rerank.RANK_FEATURES): the first pass's best and the dense
        vector's nearest (bench/fit_search.py fits the weights on these)."""
        scores = first.scores
        lexical_cands = np.flatnonzero(scores > 0)
        lexical_cands = lexical_cands[np.lexsort((self.id_rank[lexical_cands], -scores[lexical_cands]))]
        lexical_cands = lexical_cands[:rerank.CANDIDATES]
        near = np.where(first.allowed, first.dense, -np.inf)
        k = min(rerank.DENSE_CANDIDATES, int(first.allowed.sum()))
        dense_cands = np.argpartition(-near, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)
        dense_cands = dense_cands[np.lexsort((self.id_rank[dense_cands], -near[dense_cands]))]
        seen = set(lexical_cands.tolist())
        cand = np.array(lexical_cands.tolist() + [i for i in dense_cands.tolist() if i not in seen], dtype=np.int64)
        weights = np.array([u.idf * u.weight for u in first.units])
        coverage = (weights[:, None] * first.matched[:, cand]).sum(axis=0) / (weights.sum() or 1.0)
        features = rerank.candidate_features(scores[cand], first.lexical[cand], first.cos[cand], first.qsim[cand],
                                             coverage, first.dense[cand])
        return cand, features

    def top_inputs(self, first: _FirstPass, cand: np.ndarray, features: np.ndarray, ranked: np.ndarray,
                   margin: float) -> tuple[float, ...]:
        """rerank.TOP_FEATURES of the first hit (`ranked[0]`, a position in `cand`)."""
        t = int(ranked[0])
        unknown = sum(1 for u in first.units if u.idf == self.idf_unknown) / len(first.units)
        best = float(first.dense[first.allowed].max()) if first.allowed.any() else 0.0
        return rerank.top_features(float(features[t, 4]), first.lexical_top, float(features[t, 3]),
                                   float(features[t, 2]), float(features[t, 6]), unknown, margin, best,
                                   first.off_domain)

    def _reranked(self, first: _FirstPass, limit: int):
        cand, features = self.rerank_inputs(first)
        s = np.round(features @ np.array(rerank.RANK) + rerank.LOCAL_BONUS * self.local[cand], 9)
        ranked = np.lexsort((self.id_rank[cand], -s))
        margin = float(s[ranked[0]] - s[ranked[1]]) if len(ranked) > 1 else 5.0
        top = self.top_inputs(first, cand, features, ranked, margin)
        self.last_features = top
        conf = rerank.logistic(rerank.CONFIDENCE, top)
        out_of_scope = rerank.logistic(rerank.OUT_OF_SCOPE, top) >= rerank.OUT_OF_SCOPE_FROM
        ranked = ranked[:limit]
        # shown scores: 1 for the first hit, exp(-difference) below it (the portal hides hits under a share)
        shown = np.exp((s[ranked] - s[ranked[0]]) / rerank.SCORE_SCALE)
        return cand[ranked].tolist(), shown, conf, out_of_scope

    def _locate(self, i: int) -> tuple[IndexData, int]:
        if i >= self.data.n and self.overlay is not None:
            return self.overlay, i - self.data.n
        return self.data, i

    def _features(self, units: list[_Unit], matched: np.ndarray, lexical: float, qsim: float, cos: float,
                  ratio: float) -> tuple[float, ...]:
        """What the confidence and the out-of-scope decision read: how much of the query (idf-weighted)
        the best fiche holds, how strongly it matches (log lexical score), how close its title is to
        the question, its latent cosine, and how far it is ahead of the next (score ratio)."""
        total = sum(u.idf * u.weight for u in units) or 1.0
        coverage = sum(u.idf * u.weight for u, m in zip(units, matched.tolist(), strict=True) if m) / total
        unknown = sum(1 for u in units if u.idf == self.idf_unknown) / len(units)
        return (coverage, math.log(max(lexical, 1e-3)), qsim, cos, ratio, unknown)

    # ---------------------------------------------------------------- snippets
    def _snippet(self, part: IndexData, j: int, marks: set[str], idf_of: dict[str, float],
                 pattern: re.Pattern | None, max_words: int = 32) -> str:
        """The sentence of the fiche that holds most of the query's words (idf-weighted), with them
        marked; read from the text of this one fiche, never from all of them."""
        text, folded = part.text(j)
        if len(folded) > SNIPPET_SCAN_CHARS:  # huge fiches: the best sentence is nearly always early
            cut = folded.rfind("\n", 0, SNIPPET_SCAN_CHARS)
            cut = cut if cut > 0 else SNIPPET_SCAN_CHARS
            text, folded = text[:cut], folded[:cut]
        if not text.strip():
            return html.escape(part.titles[j])
        # candidate words by prefix in one regex pass, then checked by their stem
        hits: list[tuple[int, int, str]] = []
        if pattern is not None:
            for w in pattern.finditer(folded):
                st = stem(w.group())
                if st in marks and not is_stop(w.group()):
                    hits.append((w.start(), w.end(), st))
        # a "sentence" is a line (a paragraph or list item of the fiche): cheap to find
        bounds = [0] + [m.end() for m in _NEWLINES.finditer(folded)] + [len(folded)]
        best = None  # (score, -rank, start, end)
        by_sentence: dict[int, list[tuple[int, int, str]]] = {}
        for h in hits:
            by_sentence.setdefault(bisect.bisect_right(bounds, h[0]) - 1, []).append(h)
        for k, hs in by_sentence.items():
            start, end = bounds[k], bounds[k + 1]
            found = {st for _, _, st in hs}
            key = sum(idf_of.get(st, 1.0) for st in sorted(found)) * (0.7 if end - start < 40 else 1.0)
            if best is None or (key, -k) > (best[0], -best[1]):
                best = (key, k, start, end)
        if best is None:
            k = next((k for k in range(len(bounds) - 1) if folded[bounds[k]:bounds[k + 1]].strip()), 0)
            best = (0.0, k, bounds[k], bounds[k + 1])
        _, k, start, end = best
        spans = [(s, e) for s, e, _ in by_sentence.get(k, [])]
        sent_words = [(w.start(), w.end()) for w in _FOLDED_WORD.finditer(folded, start, end)]
        if not sent_words:
            return html.escape(part.titles[j])
        lo, hi = 0, len(sent_words)
        if len(sent_words) > max_words:
            first = next((x for x, (s, _) in enumerate(sent_words) if spans and s == spans[0][0]), 0)
            lo = max(0, min(first - 5, len(sent_words) - max_words))
            hi = lo + max_words
        cut_start = sent_words[lo][0]
        cut_end = sent_words[hi - 1][1] if hi < len(sent_words) else end
        out, pos = [], cut_start
        for s, e in spans:
            if s >= cut_start and e <= cut_end:
                out += [html.escape(text[pos:s]), "<mark>", html.escape(text[s:e]), "</mark>"]
                pos = e
        out.append(html.escape(text[pos:cut_end]))
        snippet = "".join(out).strip()
        return ("… " if lo else "") + snippet + (" …" if hi < len(sent_words) else "")
