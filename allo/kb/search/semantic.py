"""Latent semantic vectors trained on the corpus itself (LSA): nothing downloaded, nothing shipped.

Words that occur in the same fiches get close vectors ("accouchement" and "naissance", "fusil" and
"arme"), so a caller's question lands near the fiches of its topic even when it shares few exact words
with the right one. The term-document matrix (log tf x idf, stems of the title, introduction,
headings, keywords and the start of the body) is factorised by a truncated SVD at build time (scipy);
a document's vector is its row projected on the term vectors (so an overlay fiche is projected the same
way), and a query's is the idf-weighted sum of its terms' vectors. The cosine is fused with the lexical
score (index.py, SEMANTIC_WEIGHT): alone it ranks poorly (hit@3 ~0.3 on the dev set), fused it adds
3 to 5 points of hit@3 (docs/search.md).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from .analysis import stems_fast
from .document import SearchDoc


def keys_of(terms):
    from .build import keys_of as k

    return k(terms)

DIMENSIONS = 200
BODY_CHARS = 3000  # the start of a fiche says what it is about; its cases and details blur the topic
MIN_DF = 2
MIN_DOCS = 300


def lsa_text(d: SearchDoc) -> list[str]:
    parts = [d.title] * 3 + [d.short_answer, d.description] * 2 + list(d.headings[:30]) + list(d.keywords)
    parts += list(d.phrasings) + [(d.body or "")[:BODY_CHARS]]
    return stems_fast("\n".join(p for p in parts if p))


def _row(d: SearchDoc, find) -> tuple[np.ndarray, np.ndarray]:
    """(columns, weights) of one doc's L2-normalised log-tf x idf row; `find(terms)` gives each
    term's column (-1 if unknown) and idf."""
    counts = Counter(lsa_text(d))
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    cols, idf = find(list(counts))
    w = (1 + np.log(np.array(list(counts.values()), dtype=np.float64))) * idf
    keep = cols >= 0
    cols, w = cols[keep], w[keep]
    return cols, w / (np.linalg.norm(w) + 1e-12)


def train(docs: list[SearchDoc]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """(term keys sorted, their idf, term vectors (terms x k), doc vectors (docs x k, unit length)), or
    None when the corpus is too small for a latent space to mean anything."""
    if len(docs) < MIN_DOCS:
        return None
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import svds

    df: Counter = Counter()
    for d in docs:
        df.update(set(lsa_text(d)))
    terms = [t for t, n in df.items() if n >= MIN_DF and not t.isdigit()]
    keys = keys_of(terms)
    order = np.argsort(keys)
    keys = keys[order]
    terms = [terms[k] for k in order]
    idf = np.log(len(docs) / np.array([df[t] for t in terms], dtype=np.float64))
    find = _finder(keys, idf)
    r, c, v = [], [], []
    for i, d in enumerate(docs):
        cols, w = _row(d, find)
        r.append(np.full(len(cols), i)), c.append(cols), v.append(w)
    x = csr_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(len(docs), len(terms)))
    k = min(DIMENSIONS, min(x.shape) - 1)
    # a fixed start vector: the same corpus always gives the same vectors
    _, _, vt = svds(x, k=k, v0=np.ones(min(x.shape)) / np.sqrt(min(x.shape)))
    tvec = np.ascontiguousarray(vt.T, dtype=np.float32)  # (terms, k)
    dvec = np.asarray(x @ tvec, dtype=np.float32)
    dvec /= np.linalg.norm(dvec, axis=1, keepdims=True) + 1e-9
    return keys, idf.astype(np.float32), tvec, dvec


def _finder(keys: np.ndarray, idf: np.ndarray):
    def find(terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        q = keys_of(terms)
        pos = np.minimum(np.searchsorted(keys, q), max(len(keys) - 1, 0))
        hit = (keys[pos] == q) if len(keys) else np.zeros(len(q), dtype=bool)
        return np.where(hit, pos, -1), np.where(hit, idf[pos] if len(keys) else 0.0, 0.0)
    return find


def project(docs: list[SearchDoc], keys: np.ndarray, idf: np.ndarray, tvec: np.ndarray) -> np.ndarray:
    """Unit-length vectors of `docs` in a trained space (an overlay's fiches)."""
    out = np.zeros((len(docs), tvec.shape[1] if tvec.ndim == 2 else 0), dtype=np.float32)
    if not out.shape[1]:
        return out
    find = _finder(np.asarray(keys), np.asarray(idf, dtype=np.float64))
    for i, d in enumerate(docs):
        cols, w = _row(d, find)
        if len(cols):
            out[i] = w @ np.asarray(tvec)[cols]
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-9
    return out


def query_vector(stems: list[str], keys: np.ndarray, idf: np.ndarray, tvec: np.ndarray) -> np.ndarray | None:
    if tvec.ndim != 2 or not len(keys):
        return None
    cols, w = _finder(np.asarray(keys), np.asarray(idf, dtype=np.float64))(stems)
    keep = cols >= 0
    if not keep.any():
        return None
    v = w[keep] @ np.asarray(tvec)[cols[keep]]
    n = np.linalg.norm(v)
    return v / n if n > 0 else None
