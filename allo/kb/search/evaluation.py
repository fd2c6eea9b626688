"""Offline evaluation of the search on labelled questions."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable
from pathlib import Path

from . import dense
from .index import SearchIndex


def read_questions(path: str | Path) -> list[tuple[str, list[str]]]:
    """CSV with columns question,expected (ids separated by '|', empty = out of scope)."""
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"question", "expected"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected columns 'question,expected'")
        for row in reader:
            q = (row["question"] or "").strip()
            if q:
                rows.append((q, [x.strip() for x in (row["expected"] or "").split("|") if x.strip()]))
    return rows


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def evaluate(index: SearchIndex, rows: Iterable[tuple[str, list[str]]], limit: int = 10,
             misses: list | None = None) -> dict:
    """Run every question and measure the ranking and the out-of-scope detection.

    - hit_at_1, hit_at_3, mrr: over in-scope questions (non-empty expected ids); a question counts
      as found when any expected id is among the first 1 / 3 hits; MRR uses the best-ranked
      expected id within `limit` hits (0 if absent). Hits count even when flagged low-confidence.
    - oos_precision: among the questions the engine flags ``low_confidence``, the share that are
      truly out of scope (empty expected). If nothing is flagged it is 1.0 when the set has no
      out-of-scope question, else 0.0 (flagging nothing detects nothing).
    - oos_recall: among truly out-of-scope questions, the share flagged ``low_confidence``.
    - in_scope_flagged: share of in-scope questions wrongly flagged low-confidence.
    - p50_ms, p95_ms: latency of `index.search` per question; n: number of questions.

    If `misses` is a list, (question, expected, top-3 ids) is appended for every in-scope question
    not ranked first or flagged, and every out-of-scope question not flagged.
    """
    rows = list(rows)
    if getattr(index, "uvec", None) is not None:
        dense.available()  # a freshly mapped index loads its encoder in the background: measure with it
    h1 = h3 = 0
    rr = 0.0
    n_in = n_oos = flagged = flagged_oos = 0
    times = []
    misses = misses if misses is not None else []
    for question, expected in rows:
        t0 = time.perf_counter()
        res = index.search(question, limit=limit)
        times.append((time.perf_counter() - t0) * 1000)
        ids = [h.id for h in res.hits]
        if res.low_confidence:
            flagged += 1
        if not expected:
            n_oos += 1
            flagged_oos += res.low_confidence
            if not res.low_confidence:
                misses.append((question, "", ids[:3]))
            continue
        n_in += 1
        ranks = [ids.index(e) + 1 for e in expected if e in ids]
        best = min(ranks) if ranks else None
        h1 += best == 1
        h3 += best is not None and best <= 3
        rr += 1 / best if best else 0.0
        if best != 1 or res.low_confidence:
            misses.append((question, "|".join(expected), ids[:3]))
    if flagged:
        precision = flagged_oos / flagged
    else:
        precision = 0.0 if n_oos else 1.0
    return {
        "hit_at_1": round(h1 / n_in, 4) if n_in else 0.0,
        "hit_at_3": round(h3 / n_in, 4) if n_in else 0.0,
        "mrr": round(rr / n_in, 4) if n_in else 0.0,
        "oos_precision": round(precision, 4),
        "oos_recall": round(flagged_oos / n_oos, 4) if n_oos else 1.0,
        "in_scope_flagged": round((flagged - flagged_oos) / n_in, 4) if n_in else 0.0,
        "p50_ms": round(_percentile(times, 50), 3),
        "p95_ms": round(_percentile(times, 95), 3),
        "n": len(rows),
    }
