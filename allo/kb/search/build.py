"""Documents -> the compact arrays the engine searches (`IndexData`), and back to and from files.

Everything a search reads is a flat numpy array, so an index can be written once and memory-mapped by
every web process (pages are shared and only those touched become resident):

- terms (stems, adjacent-stem bigrams "a|b") are 64-bit hashes, sorted (`keys`); a term's postings are
  `pdoc[ptr[t]:ptr[t+1]]` (doc numbers) and `pimp` (its BM25F impact in each doc, idf included);
- `qptr`/`qseg`: the question-like segments (title, callers' phrasings) holding each unigram, for the
  "closest question" boost; `seg_norm` (their summed idf), `seg_start` (first segment of each doc) and
  `seg_said` (the segment is callers' words an editor put in the fiche's Allô notes);
- the text snippets are cut from (`text`, `ftext` folded with the same offsets), fetched per shown hit;
- the surface vocabulary (`words`, `words_df`) for typo tolerance;
- `uvec`: each fiche's dense sentence vector (dense.py, float16) and `ukeys` the hash of the text it
  was computed from, so the next build reuses it when that text did not change.

No Python object per term or per sentence is kept: a 3,700-fiche index is ~100 MB of files of which a
search touches a few pages, against 1.1 GB of Python objects before.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from . import dense, semantic
from .analysis import fold_same_length, folded_words_fast, is_stop, stems_fast
from .document import OFFICIAL, SearchDoc

FORMAT = 6  # bump when the arrays or their meaning change: older files are rebuilt, never misread

# field -> (weight, length normalisation b) of BM25F
FIELDS: dict[str, tuple[float, float]] = {
    "title": (4.0, 0.5),
    "phrasings": (2.5, 0.5),
    "keywords": (2.0, 0.5),
    "headings": (1.0, 0.5),
    "crumbs": (0.6, 0.3),
    "intro": (1.2, 0.6),
    "body": (0.5, 0.75),
}
K1 = 1.2
BIGRAM_FIELDS = frozenset(FIELDS)  # all: "dépôt de garantie" in a body is evidence too
POPULARITY_STEP = 0.03  # +/-3 % per popularity point around 3
# The line's own fiches are written for the phone (what to say, callers' phrasings): when one covers
# the question it comes before DILA's text on the topic. 1.15 keeps the demo questions' hit@1 at
# 0.72 in a shared index (0.58 without) for 4 points less on the real dev set (bench_search --real).
LOCAL_PRIOR = 1.15
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n+")
_QUESTION_PREFIX = re.compile(r"^[^-–:?]{3,60}\s[-–]\s")  # "Impôt sur le revenu - Faut-il ... ?"

ARRAYS = ("keys", "ptr", "pdoc", "pimp", "idf", "df", "qptr", "qseg", "seg_norm", "seg_start", "seg_said", "prior",
          "theme_idx", "official", "text", "text_off", "ftext", "ftext_off", "words_df",
          "lsa_keys", "lsa_idf", "lsa_tvec", "dvec", "ukeys", "uvec")


def term_key(term: str) -> int:
    """A term's stable 64-bit key (Python's hash() changes between processes)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "little")


def keys_of(terms) -> np.ndarray:
    return np.array([term_key(t) for t in terms], dtype=np.uint64)


def field_texts(d: SearchDoc) -> dict[str, list[str]]:
    """The text of each indexed field, as segments (no bigram crosses a segment)."""
    keywords = list(d.keywords) + [t for t, _ in d.definitions]
    return {
        "title": [d.title],
        "phrasings": list(d.phrasings) + list(d.callers_words),
        "keywords": keywords,
        "headings": list(d.headings),
        "crumbs": list(dict.fromkeys([*d.crumbs, d.subtheme])),
        "intro": [d.description, d.short_answer],
        "body": [d.body] + [x for _, x in d.definitions if x not in (d.body or "")],
    }


def question_segments(d: SearchDoc) -> list[str]:
    """Texts a caller's question may closely resemble: the title (a question for Q/R fiches, also
    without its "Theme - " prefix), the local fiches' phrasings and the callers' words of Allô's notes
    (last: `seg_said` marks them)."""
    out = [d.title]
    bare = _QUESTION_PREFIX.sub("", d.title or "")
    if bare != d.title:
        out.append(bare)
    return out + list(d.phrasings) + list(d.callers_words)


class IndexData:
    """The arrays of an index plus its small metadata (ids, titles, themes, statistics)."""

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict, words: list[str]):
        self.a = arrays
        self.meta = meta
        self.ids: list[str] = meta["ids"]
        self.titles: list[str] = meta["titles"]
        self.themes: list[str] = meta["themes"]
        self.words = words
        self.n = len(self.ids)

    # ------------------------------------------------------------------ lookups
    def find(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key in `keys` (-1 when absent)."""
        k = self.a["keys"]
        if not len(k):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.searchsorted(k, keys)
        pos = np.minimum(pos, len(k) - 1)
        return np.where(k[pos] == keys, pos, -1)

    def postings(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = int(self.a["ptr"][row]), int(self.a["ptr"][row + 1])
        return self.a["pdoc"][lo:hi], self.a["pimp"][lo:hi]

    def segments(self, row: int) -> np.ndarray:
        lo, hi = int(self.a["qptr"][row]), int(self.a["qptr"][row + 1])
        return self.a["qseg"][lo:hi]

    def text(self, i: int) -> tuple[str, str]:
        """(text, folded text with the same offsets) of doc i, for its snippet."""
        t, o = self.a["text"], self.a["text_off"]
        f, fo = self.a["ftext"], self.a["ftext_off"]
        return (bytes(t[int(o[i]):int(o[i + 1])]).decode("utf-8"),
                bytes(f[int(fo[i]):int(fo[i + 1])]).decode("utf-8"))

    # ------------------------------------------------------------------ files
    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write into `folder` atomically: a temporary sibling is renamed into place, so a process
        reading the index sees the old files or the new ones, never half of them."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            for name in ARRAYS:
                np.save(tmp / f"{name}.npy", self.a[name], allow_pickle=False)
            (tmp / "words.txt").write_text("\n".join(self.words), encoding="utf-8")
            (tmp / "meta.json").write_text(json.dumps(self.meta, ensure_ascii=False), encoding="utf-8")
            if folder.exists():  # rename cannot replace a non-empty folder: move the old one aside
                old = folder.with_name(f".{folder.name}.old-{os.getpid()}-{time.monotonic_ns()}")
                os.rename(folder, old)
                os.rename(tmp, folder)
                shutil.rmtree(old, ignore_errors=True)  # mapped files stay readable until unmapped
            else:
                os.rename(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> IndexData:
        """Memory-map an index written by `save` (raises OSError/ValueError if absent or stale)."""
        folder = Path(folder)
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{folder}: index format {meta.get('format')}, expected {FORMAT}")
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
        text = (folder / "words.txt").read_text(encoding="utf-8")
        return cls(arrays, meta, text.split("\n") if text else [])


def dense_cache(data: IndexData | None) -> dict[int, np.ndarray]:
    """text key -> dense vector of a built index (what the next build may reuse)."""
    if data is None or "uvec" not in data.a or not data.a["uvec"].shape[-1]:
        return {}
    return dict(zip(np.asarray(data.a["ukeys"]).tolist(), np.asarray(data.a["uvec"]), strict=True))


def _dense(docs: list[SearchDoc], cache: dict[int, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    out = dense.encode_docs([dense.doc_text(d.title, d.description, d.short_answer) for d in docs], cache)
    if out is None:  # the encoder's package is not installed: the engine ranks without it
        return np.zeros(len(docs), dtype=np.uint64), np.zeros((len(docs), 0), dtype=np.float16)
    return out


def build(docs: list[SearchDoc], base: IndexData | None = None, *,
          reuse: IndexData | None = None) -> IndexData:
    """Index `docs` (sorted by id). With `base`, the corpus statistics (document count, average field
    lengths, idf) are the base's, so that scores of this small overlay compare with the base's.
    `reuse`: a previous index whose dense vectors are kept for the fiches whose text did not change
    (the base's are, for an overlay)."""
    docs = sorted(docs, key=lambda d: d.id)
    ids = [d.id for d in docs]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate fiche ids")
    n = len(docs)
    term_no: dict[str, int] = {}  # term -> number, by first appearance
    e_term, e_doc, e_field, e_count = [], [], [], []  # one entry per (term, doc, field)
    lengths = np.zeros((n, len(FIELDS)), dtype=np.float64)
    surface: Counter = Counter()
    questions: list[list[list[str]]] = []
    said: list[list[bool]] = []  # per doc and segment: callers' words from Allô's notes (True), or not
    for i, d in enumerate(docs):
        fields = field_texts(d)
        for k, (f, segs) in enumerate(fields.items()):
            c: Counter = Counter()
            for seg in segs:
                stems = stems_fast(seg) if seg else []
                if not stems:
                    continue
                lengths[i, k] += len(stems)
                c.update(stems)
                if f in BIGRAM_FIELDS:
                    c.update(map("|".join, zip(stems, stems[1:], strict=False)))
            if not c:
                continue
            for t in c:
                if t not in term_no:
                    term_no[t] = len(term_no)
            e_term.append(np.fromiter(map(term_no.__getitem__, c), dtype=np.int64, count=len(c)))
            e_count.append(np.fromiter(c.values(), dtype=np.float64, count=len(c)))
            e_doc.append(np.full(len(c), i, dtype=np.int32))
            e_field.append(np.full(len(c), k, dtype=np.int8))
        surface.update(folded_words_fast("\n".join(seg for segs in fields.values() for seg in segs)))
        segments = question_segments(d)
        questions.append([stems_fast(q) for q in segments] or [[]])
        said.append([k >= len(segments) - len(d.callers_words) for k in range(len(segments))] or [False])

    if base is not None:
        n_stats, avg = base.meta["n_stats"], np.array(base.meta["avg_len"])
    else:
        n_stats, avg = n, np.maximum(lengths.mean(axis=0) if n else np.ones(len(FIELDS)), 1.0)
    weights = np.array([w for w, _ in FIELDS.values()])
    bs = np.array([b for _, b in FIELDS.values()])
    norms = 1 - bs + bs * lengths / np.asarray(avg)  # (n, fields)

    terms = list(term_no)
    keys = keys_of(terms)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    row_of_no = np.empty(len(terms), dtype=np.int64)
    row_of_no[order] = np.arange(len(terms))
    terms = [terms[k] for k in order]

    def cat(parts, dtype):
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    rows_e, docs_e = row_of_no[cat(e_term, np.int64)], cat(e_doc, np.int32)
    fields_e, counts_e = cat(e_field, np.int8).astype(np.int64), cat(e_count, np.float64)
    contrib = weights[fields_e] * counts_e / norms[docs_e, fields_e]
    o = np.lexsort((docs_e, rows_e))
    rows_e, docs_e, contrib = rows_e[o], docs_e[o], contrib[o]
    first = np.ones(len(rows_e), dtype=bool)
    first[1:] = (rows_e[1:] != rows_e[:-1]) | (docs_e[1:] != docs_e[:-1])
    starts = np.flatnonzero(first)
    p_row_a, p_doc_a = rows_e[starts], docs_e[starts]
    p_pseudo_a = np.add.reduceat(contrib, starts) if len(starts) else np.zeros(0)
    df_arr = np.bincount(p_row_a, minlength=len(terms)).astype(np.int32)
    if base is not None:  # a term the base knows keeps the base's idf
        found = base.find(keys)
        base_idf = np.where(found >= 0, base.a["idf"][np.maximum(found, 0)], np.nan)
    else:
        base_idf = np.full(len(terms), np.nan)
    idf = np.log(1 + (n_stats - df_arr + 0.5) / (df_arr + 0.5))
    idf = np.where(np.isnan(base_idf), np.maximum(idf, 0.01), base_idf).astype(np.float32)
    pimp = (idf[p_row_a] * p_pseudo_a * (K1 + 1) / (K1 + p_pseudo_a)).astype(np.float32)
    ptr = np.zeros(len(terms) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(df_arr)
    row_of = {t: r for r, t in enumerate(terms)}

    # question-like segments
    q_row, q_seg, seg_norm, seg_start = [], [], [], []
    for segs in questions:
        seg_start.append(len(seg_norm))
        for seg_stems in segs:
            s = len(seg_norm)
            rows = sorted({row_of[t] for t in seg_stems if t in row_of})
            q_row.extend(rows)
            q_seg.extend([s] * len(rows))
            seg_norm.append(float(sum(idf[r] for r in rows)))
    q_row_a = np.array(q_row, dtype=np.int64)
    q_seg_a = np.array(q_seg, dtype=np.int32)
    o = np.lexsort((q_seg_a, q_row_a))
    q_row_a, q_seg_a = q_row_a[o], q_seg_a[o]
    qptr = np.zeros(len(terms) + 1, dtype=np.int64)
    np.add.at(qptr, q_row_a + 1, 1)
    qptr = np.cumsum(qptr)

    themes = sorted({d.theme for d in docs})
    theme_no = {t: k for k, t in enumerate(themes)}
    texts = ["\n".join(x for x in [d.short_answer, d.body] if x) for d in docs]
    blob, off = _blob(texts)
    fblob, foff = _blob([fold_same_length(t) for t in texts])
    vocab = sorted(w for w in surface if not is_stop(w))
    arrays = {
        "keys": keys, "ptr": ptr, "pdoc": p_doc_a.astype(np.int32), "pimp": pimp, "idf": idf, "df": df_arr,
        "qptr": qptr, "qseg": q_seg_a, "seg_norm": np.array(seg_norm, dtype=np.float32),
        "seg_start": np.array(seg_start, dtype=np.int64),
        "seg_said": np.array([flag for flags in said for flag in flags], dtype=bool),
        "prior": np.array([(1.0 + POPULARITY_STEP * (min(max(int(d.popularity or 3), 1), 5) - 3))
                           * (1.0 if d.collection == OFFICIAL else LOCAL_PRIOR) for d in docs], dtype=np.float32),
        "theme_idx": np.array([theme_no[d.theme] for d in docs], dtype=np.int32),
        "official": np.array([d.collection == OFFICIAL for d in docs], dtype=bool),
        "text": blob, "text_off": off, "ftext": fblob, "ftext_off": foff,
        "words_df": np.array([surface[w] for w in vocab], dtype=np.int32),
    }
    if base is None and n >= semantic.MIN_DOCS:
        arrays["ukeys"], arrays["uvec"] = _dense(docs, dense_cache(reuse))
    elif base is not None and base.a["uvec"].shape[-1]:
        arrays["ukeys"], arrays["uvec"] = _dense(docs, dense_cache(base))
    else:  # a small knowledge base (the demo, tests) ranks without dense vectors, like without LSA
        arrays["ukeys"], arrays["uvec"] = np.zeros(n, dtype=np.uint64), np.zeros((n, 0), dtype=np.float16)
    if base is None:
        space = semantic.train(docs)
        if space is None:
            space = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.float32), np.zeros((0, 0), dtype=np.float32),
                     np.zeros((n, 0), dtype=np.float32))
        arrays.update(zip(("lsa_keys", "lsa_idf", "lsa_tvec", "dvec"), space, strict=True))
    else:  # an overlay's fiches are projected on the base's space
        arrays.update(lsa_keys=np.zeros(0, dtype=np.uint64), lsa_idf=np.zeros(0, dtype=np.float32),
                      lsa_tvec=np.zeros((0, 0), dtype=np.float32),
                      dvec=semantic.project(docs, base.a["lsa_keys"], base.a["lsa_idf"], base.a["lsa_tvec"]))
    meta = {
        "format": FORMAT, "ids": ids, "titles": [d.title for d in docs], "themes": [d.theme for d in docs],
        "theme_names": themes, "n_stats": int(n_stats), "avg_len": [float(x) for x in avg],
        "built_at": time.time(),
    }
    return IndexData(arrays, meta, vocab)


def _blob(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    parts = [t.encode("utf-8") for t in texts]
    off = np.zeros(len(parts) + 1, dtype=np.int64)
    off[1:] = np.cumsum([len(p) for p in parts]) if parts else []
    return np.frombuffer(b"".join(parts), dtype=np.uint8).copy(), off


def idf_of(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
