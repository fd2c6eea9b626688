"""The learned re-ranking of a search's candidates, its confidence and its out-of-scope decision.

The engine's first pass (BM25F fused with the latent cosine, index.py) finds the candidates: its best
CANDIDATES fiches plus the DENSE_CANDIDATES nearest by the dense vector (dense.py), which finds fiches
that share no word with the question. Each candidate gets the features below, and a linear score
`RANK . features` orders them. The weights were fitted by bench/fit_search.py (pairwise logistic
regression: the expected fiche above each other candidate) on questions we wrote for the purpose,
bench/real_fit_questions.csv, never on the evaluation sets; docs/search.md gives the figures.

Then two logistic models read the first hit's features: CONFIDENCE, the chance that it answers (shown
on the desk, calibrated on the dev set: docs/search.md), and OUT_OF_SCOPE, the chance that no fiche
does (« aucune fiche pertinente » from OUT_OF_SCOPE_FROM).
"""

from __future__ import annotations

import math

import numpy as np

CANDIDATES = 60
DENSE_CANDIDATES = 15

RANK_FEATURES = ("first_pass", "lexical", "latent", "title_closeness", "coverage", "log_rank", "dense", "dense_gap")
# fitted by bench/fit_search.py on bench/real_fit_questions.csv
RANK = (1.099, 1.581, 2.136, -0.033, 2.808, -0.340, 8.039, 8.039)

# The line's own fiches (written for the phone, with callers' phrasings) before DILA's on the same topic
# when they cover the question, as LOCAL_PRIOR does in the first pass: the fit questions have no local
# fiche to learn it from, so it is set on the search team's own questions about the demo fiches
# (tests/unit/kb_search/own_questions.csv) in an index holding both collections (bench_search.py --real).
LOCAL_BONUS = 1.0  # own questions in a shared index hit@1 0.47 -> 0.56 (2.0: 0.65), real fit questions 0.56 -> 0.52 (0.47)

TOP_FEATURES = ("coverage", "log_lexical", "title_closeness", "latent", "dense", "unknown_words", "margin",
                "dense_best", "off_domain")
CONFIDENCE = (-6.016, -0.403, 0.834, 0.507, 0.931, 0.998, -0.853, 0.658, 0.252, -0.348)  # intercept, then TOP_FEATURES
OUT_OF_SCOPE = (9.587, -0.894, -1.995, -0.302, 0.476, -0.253, 0.291, -0.107, -0.233, 2.114)
# shown scores: exp((s - best) / SCORE_SCALE), 1 for the first hit; the portal hides hits under 0.2 of the
# best, i.e. more than 2 x 1.6 = 3.2 below it (1.0 showed only 3 to 5 hits for a short query, 3.0 up to 35)
SCORE_SCALE = 2.0
OUT_OF_SCOPE_FROM = 0.5


def logistic(weights: tuple[float, ...], features) -> float:
    x = weights[0] + sum(w * float(f) for w, f in zip(weights[1:], features, strict=True))
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def candidate_features(first_pass: np.ndarray, lexical: np.ndarray, latent: np.ndarray, closeness: np.ndarray,
                       coverage: np.ndarray, dense: np.ndarray) -> np.ndarray:
    """(candidates, RANK_FEATURES) for the candidates' values of each signal (same order)."""
    rank = np.empty(len(first_pass))
    rank[np.argsort(-first_pass, kind="stable")] = np.arange(len(first_pass))
    return np.column_stack([
        first_pass / (first_pass.max() or 1.0), lexical, latent, closeness, coverage, np.log1p(rank),
        dense, dense - dense.max(),
    ])


def top_features(coverage: float, lexical_raw: float, closeness: float, latent: float, dense: float,
                 unknown: float, margin: float, dense_best: float, off_domain: float) -> tuple[float, ...]:
    return (coverage, math.log(max(lexical_raw, 1e-3)), closeness, latent, dense, unknown, margin, dense_best,
            off_domain)
