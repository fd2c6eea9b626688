"""In-memory French search over fiches: BM25F on stems, bigrams and synonym concepts.

Built once from a list of `SearchDoc`, immutable afterwards. Docs are sorted by id at build time
and ties are broken by id, so results only depend on the docs' content, never on the order in
which a database returned them.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .analysis import is_stop, stem, words
from .synonyms import SynonymMatcher

MAX_QUERY_CHARS = 500

# field -> (weight, length normalisation b)
FIELDS: dict[str, tuple[float, float]] = {
    "title": (4.0, 0.5),
    "phrasings": (2.5, 0.5),
    "keywords": (2.5, 0.5),
    "subtheme": (1.0, 0.3),
    "short_answer": (1.2, 0.6),
    "body": (0.5, 0.75),
}
K1 = 1.2
BIGRAM_WEIGHT = 0.6
CONCEPT_WEIGHT = 1.0
CORRECTED_WEIGHT = 0.85
NUMBER_WEIGHT = 0.5  # numbers in a query (ages, amounts, years) are weak evidence
PHRASE_BOOST = 1.0  # score *= 1 + PHRASE_BOOST * similarity to the closest title/phrasing
POPULARITY_STEP = 0.03  # +/-3 % per popularity point around 3
# confidence (see SearchIndex._confidence); below LOW_CONFIDENCE the response says so
CONF_COVERAGE_MID, CONF_SCORE_MID, CONF_SCORE_RATIO, CONF_SLOPE = 0.25, 10.0, 1.0, 6.0
LOW_CONFIDENCE = 0.5


class QueryError(ValueError):
    """The query cannot be searched; `str(error)` is a French message for the operator."""


@dataclass
class SearchDoc:
    id: str
    title: str
    theme: str = ""
    subtheme: str = ""
    audience: str = ""
    short_answer: str = ""
    body: str = ""
    keywords: list[str] = field(default_factory=list)
    phrasings: list[str] = field(default_factory=list)
    popularity: int = 3


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


@dataclass
class _Query:
    weights: dict[str, float]  # term -> query weight
    units: list[tuple[float, set[str], float]]  # per query word: (idf, terms satisfying it, credit)
    highlight: set[str]  # stems and concepts to mark in snippets
    suggestion: str | None


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


def _segment_terms(stems: list[str], matches: list[tuple[int, int, str]]) -> list[str]:
    """Index terms of one segment: stems, adjacent-stem bigrams, synonym concepts."""
    return stems + [f"{a}|{b}" for a, b in zip(stems, stems[1:], strict=False)] + [c for _, _, c in matches]


_DOUBLE = re.compile(r"(.)\1+")


def _skeleton(word: str) -> str:
    return _DOUBLE.sub(r"\1", word)


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


class SearchIndex:
    def __init__(self, docs: list[SearchDoc], synonyms: dict[str, list[str]] | None = None):
        self.docs: tuple[SearchDoc, ...] = tuple(sorted(docs, key=lambda d: d.id))
        ids = [d.id for d in self.docs]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate fiche ids")
        self.matcher = SynonymMatcher(synonyms)
        n = len(self.docs)
        self.n = n
        self.themes = np.array([d.theme for d in self.docs], dtype=object)
        self.prior = np.array([1.0 + POPULARITY_STEP * (min(max(int(d.popularity or 3), 1), 5) - 3)
                               for d in self.docs])

        # per doc, per field term frequencies and lengths
        self._sentences: list[tuple] = []  # per doc: (text, word spans, stems, concept spans, prior)
        doc_questions: list[list[set[str]]] = []  # per doc: term sets of its title and phrasings
        field_tf: dict[str, list[Counter]] = {f: [] for f in FIELDS}
        field_len: dict[str, list[int]] = {f: [] for f in FIELDS}
        surface: Counter = Counter()
        display: dict[str, str] = {}  # folded word -> its first spelling in the docs
        for d in self.docs:
            segments = {
                "title": [d.title],
                "phrasings": list(d.phrasings),
                "keywords": list(d.keywords),
                "subtheme": [d.subtheme],
                "short_answer": _SENTENCE.split(d.short_answer or ""),
                "body": _SENTENCE.split(d.body or ""),
            }
            seen_words: set[str] = set()
            sentences = []
            questions: list[set[str]] = []
            for f, segs in segments.items():
                tf: Counter = Counter()
                length = 0
                for seg in segs:
                    ws = [(s, e, w) for s, e, w in words(seg or "") if not is_stop(w)]
                    for s, e, w in ws:
                        if w not in seen_words:
                            seen_words.add(w)
                            if w not in display:
                                display[w] = seg[s:e].lower()
                    stems = [stem(w) for _, _, w in ws]
                    length += len(stems)
                    matches = self.matcher.match(stems)
                    terms = _segment_terms(stems, matches)
                    tf.update(terms)
                    if f in ("title", "phrasings") and stems:
                        questions.append({t for t in terms if "|" not in t})
                    if f in ("short_answer", "body") and ws:
                        spans = [(s, e) for s, e, _ in ws]
                        concepts = tuple(matches)
                        prior = (1.2 if f == "short_answer" else 1.0) * (0.6 if len(ws) < 6 else 1.0)
                        sentences.append((seg, tuple(spans), tuple(stems), concepts, prior))
                field_tf[f].append(tf)
                field_len[f].append(length)
            surface.update(seen_words)
            self._sentences.append(tuple(sentences))
            doc_questions.append(questions or [set()])
        avg = {f: max(sum(v) / max(n, 1), 1.0) for f, v in field_len.items()}

        df: Counter = Counter()
        for i in range(n):
            terms = set()
            for f in FIELDS:
                terms.update(field_tf[f][i])
            df.update(terms)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        # an unknown query word weighs like a fairly rare term in the confidence
        self.idf_unknown = 0.75 * math.log(1 + (n + 0.5) / 1.5)

        postings: dict[str, tuple[list[int], list[float]]] = {}
        for i in range(n):
            pseudo: Counter = Counter()
            for f, (w, b) in FIELDS.items():
                norm = 1 - b + b * field_len[f][i] / avg[f]
                for t, c in field_tf[f][i].items():
                    pseudo[t] += w * c / norm
            for t in sorted(pseudo):
                x = pseudo[t]
                p = postings.setdefault(t, ([], []))
                p[0].append(i)
                p[1].append(self.idf[t] * x * (K1 + 1) / (K1 + x))
        self.postings = {t: (np.array(ix, dtype=np.int32), np.array(v)) for t, (ix, v) in postings.items()}

        # title and phrasings, one by one: how closely the query matches the nearest of them
        q_post: dict[str, list[int]] = {}
        starts, norms = [], []
        for qs in doc_questions:
            starts.append(len(norms))
            for terms in qs:
                for t in terms:
                    q_post.setdefault(t, []).append(len(norms))
                norms.append(sum(self.idf[t] for t in sorted(terms)))
        self.q_post = {t: np.array(v, dtype=np.int32) for t, v in q_post.items()}
        self.q_norm = np.array(norms)
        self.q_starts = np.array(starts, dtype=np.int64)

        # vocabulary for typo tolerance: folded words of the docs and of the synonym terms
        for w in self.matcher.surface:
            if not is_stop(w):
                surface[w] += 0
        self.surface_df = dict(surface)
        self.vocab = sorted(w for w in surface if len(w) >= 4 and not w.isdigit())
        self.vocab_by_len: dict[int, list[str]] = {}
        for w in self.vocab:
            self.vocab_by_len.setdefault(len(w), []).append(w)
        self.words_by_prefix: dict[str, list[str]] = {}
        for w in self.vocab:
            if len(w) >= 5:
                self.words_by_prefix.setdefault(w[:5], []).append(w)
        self.by_skeleton: dict[str, str] = {}
        for w in sorted(self.vocab, key=lambda w: (-self.surface_df[w], w)):
            self.by_skeleton.setdefault(_skeleton(w), w)
        self.display = display
        self.stems_by_prefix: dict[str, list[str]] = {}
        for t in self.postings:
            if "|" not in t and not t.startswith("~") and len(t) >= 5:
                self.stems_by_prefix.setdefault(t[:5], []).append(t)
        # upper bound of a query term's contribution, for score normalisation
        self.max_impact = {t: float(v.max()) for t, (_, v) in self.postings.items()}

    # ---------------------------------------------------------------- query analysis
    def _correct(self, w: str) -> str | None:
        """The closest indexed word: Levenshtein distance <= 1 (<= 2 from 9 letters), 5+ letters."""
        if len(w) < 5 or any(ch.isdigit() for ch in w):
            return None
        max_d = 1 if len(w) <= 8 else 2
        pool = [v for n in range(len(w) - max_d, len(w) + max_d + 1) for v in self.vocab_by_len.get(n, ())]
        cands = process.extract(w, pool, scorer=Levenshtein.distance, score_cutoff=max_d, limit=20)
        if not cands:
            return None
        best = min(cands, key=lambda c: (c[1], c[0][0] != w[0], -self.surface_df.get(c[0], 0), c[0]))
        return best[0]

    def _near_stem(self, s: str) -> str | None:
        """A known stem that differs from an unknown one by its ending (stemmer inconsistencies)."""
        if len(s) < 6:
            return None
        cands = [t for t in self.stems_by_prefix.get(s[:5], ())
                 if (t.startswith(s) or s.startswith(t)) and abs(len(t) - len(s)) <= 2]
        if not cands:
            return None
        return min(cands, key=lambda t: (abs(len(t) - len(s)), -len(self.postings[t][0]), t))

    def _near_word(self, w: str) -> str | None:
        """An indexed word that extends or shortens an unknown one by a few letters (conjugation)."""
        if len(w) < 6:
            return None
        cands = [v for v in self.words_by_prefix.get(w[:5], ())
                 if (v.startswith(w) or w.startswith(v)) and abs(len(v) - len(w)) <= 3]
        if not cands:
            return None
        return min(cands, key=lambda v: (abs(len(v) - len(w)), -self.surface_df[v], v))

    def _analyze_query(self, query: str) -> _Query:
        stems: list[str] = []
        stem_weight: list[float] = []
        corrections: list[tuple[int, int, str]] = []
        for s, e, w in words(query):
            if is_stop(w):
                continue
            st = stem(w)
            weight = 1.0
            if w not in self.surface_df and st not in self.postings and st not in self.matcher.stems:
                same = self.by_skeleton.get(_skeleton(w)) if len(w) >= 5 else None
                near = None
                if not same:
                    near = self._near_stem(st)
                    if near is None and (nw := self._near_word(w)) is not None:
                        near = stem(nw)
                fixed = same or (None if near is not None else self._correct(w))
                if near is not None:  # another form of a known word: no suggestion needed
                    st = near
                elif fixed is not None:
                    if stem(fixed) != st:
                        corrections.append((s, e, self.display.get(fixed, fixed)))
                    st, weight = stem(fixed), CORRECTED_WEIGHT
            stems.append(st)
            stem_weight.append(weight)

        weights: dict[str, float] = {}

        def add(term: str, wt: float) -> None:
            weights[term] = max(weights.get(term, 0.0), wt)

        for st, wt in zip(stems, stem_weight, strict=True):
            add(st, wt * NUMBER_WEIGHT if st.isdigit() else wt)
        for a, b in zip(stems, stems[1:], strict=False):
            add(f"{a}|{b}", BIGRAM_WEIGHT)
        covers: list[set[str]] = [{st} for st in stems]
        concepts = set()
        for i, j, c in self.matcher.match(stems):
            add(c, CONCEPT_WEIGHT)
            concepts.add(c)
            for k in range(i, j):
                covers[k].add(c)
        units = []
        for cov, wt in zip(covers, stem_weight, strict=True):
            idf = max([self.idf.get(t, 0.0) for t in cov if t in self.idf] or [self.idf_unknown])
            units.append((idf, cov, wt))

        suggestion = None
        if corrections:
            out, pos = [], 0
            for s, e, rep in corrections:
                out += [query[pos:s], rep]
                pos = e
            suggestion = "".join(out) + query[pos:]
        return _Query(weights, units, set(stems) | concepts, suggestion)

    # ---------------------------------------------------------------- search
    def search(self, query: str, limit: int = 10, theme: str | None = None,
               snippets: int | None = None) -> SearchResponse:
        """The best `limit` fiches for `query`; only the first `snippets` hits (all by default) get
        their highlighted snippet, the costliest part of a search."""
        query = validate(query)
        limit = max(1, min(int(limit), 100))
        q = self._analyze_query(query)
        scores = np.zeros(self.n)
        for t in sorted(q.weights):
            p = self.postings.get(t)
            if p is not None:
                scores[p[0]] += q.weights[t] * p[1]
        scores *= self.prior * (1.0 + PHRASE_BOOST * self._nearest_question(q))
        if theme:
            scores[self.themes != theme] = 0.0
        scores = np.round(scores, 9)
        order = np.argsort(-scores, kind="stable")[:limit]
        order = [int(i) for i in order if scores[i] > 0]
        if not order:
            return SearchResponse(query, [], True, q.suggestion, 0.0)

        top = order[0]
        conf = self._confidence(q, top, float(scores[top]))
        hits = []
        with_snippet = len(order) if snippets is None else snippets
        for rank, i in enumerate(order):
            d = self.docs[i]
            rel = float(scores[i] / scores[top])
            hits.append(Hit(d.id, d.title, d.theme, round(float(scores[i]), 4), round(conf * rel, 3),
                            self._snippet(i, q.highlight) if rank < with_snippet else ""))
        return SearchResponse(query, hits, conf < LOW_CONFIDENCE, q.suggestion, round(conf, 3))

    def _nearest_question(self, q: _Query) -> np.ndarray:
        """Per doc, Dice similarity (idf-weighted) between the query and its closest title/phrasing."""
        shared = np.zeros(len(self.q_norm))
        q_norm = 0.0
        for t in sorted(q.weights):
            if "|" in t or t not in self.idf:
                continue
            w = self.idf[t] * min(q.weights[t], 1.0)
            q_norm += w
            p = self.q_post.get(t)
            if p is not None:
                shared[p] += w
        if q_norm == 0:
            return np.zeros(self.n)
        sim = 2 * shared / (q_norm + self.q_norm + 1e-9)
        return np.maximum.reduceat(sim, self.q_starts)

    def _has(self, term: str, i: int) -> bool:
        p = self.postings.get(term)
        if p is None:
            return False
        k = int(np.searchsorted(p[0], i))
        return k < len(p[0]) and p[0][k] == i

    def _features(self, q: _Query, top: int) -> tuple[float, float]:
        """(coverage, matched): idf-weighted share of the query words the fiche contains, and their
        summed idf (unknown words weigh as much as the rarest indexed term)."""
        total = sum(w for w, _, _ in q.units) or 1.0
        matched = sum(w * credit for w, cov, credit in q.units if any(self._has(t, top) for t in cov))
        return matched / total, matched

    def _confidence(self, q: _Query, top: int, score: float) -> float:
        """0..1 from how much of the query the best fiche covers and how strongly it scores.

        logistic(CONF_SLOPE * ((coverage - CONF_COVERAGE_MID) + CONF_SCORE_RATIO * ln(score / CONF_SCORE_MID))),
        calibrated so that 0.5 (the low-confidence threshold) separates questions the knowledge base
        answers from unrelated ones: unrelated questions share one or two generic words with a fiche.
        """
        coverage, _ = self._features(q, top)
        x = (coverage - CONF_COVERAGE_MID) + CONF_SCORE_RATIO * math.log(max(score, 1e-9) / CONF_SCORE_MID)
        return 1.0 / (1.0 + math.exp(-CONF_SLOPE * x))

    # ---------------------------------------------------------------- snippets
    def _snippet(self, i: int, marks: set[str], max_words: int = 32) -> str:
        best, best_key = None, None
        for rank, (sent, spans, stems, concepts, prior) in enumerate(self._sentences[i]):
            hit = {k for k, st in enumerate(stems) if st in marks}
            found = {stems[k] for k in hit}
            for a, b, c in concepts:
                if c in marks:
                    hit.update(range(a, b))
                    found.add(c)
            if not hit and best is not None:
                continue
            key = (-round(prior * sum(self.idf.get(t, 1.0) for t in sorted(found)), 9), rank)
            if best_key is None or key < best_key:
                best, best_key = (sent, spans, hit), key
        if best is None:
            return html.escape(self.docs[i].title)
        sent, spans, hit = best
        lo, hi = 0, len(spans)
        if len(spans) > max_words:
            first = min(hit) if hit else 0
            lo = max(0, min(first - 5, len(spans) - max_words))
            hi = lo + max_words
        start = spans[lo][0] if lo else 0
        end = spans[hi - 1][1] if hi < len(spans) else len(sent)
        out, pos = [], start
        for k in sorted(hit):
            if lo <= k < hi:
                s, e = spans[k]
                out += [html.escape(sent[pos:s]), "<mark>", html.escape(sent[s:e]), "</mark>"]
                pos = e
        out.append(html.escape(sent[pos:end]))
        text = "".join(out).strip()
        return ("… " if lo else "") + text + (" …" if hi < len(spans) else "")
