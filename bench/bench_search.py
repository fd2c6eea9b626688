"""Benchmark the fiche search (not a test; prints figures).

    .venv/bin/python bench/bench_search.py [--questions ../shared/eval/questions-dev.csv] [--fiches DIR]

Prints, in one run: dev-set metrics of our engine and of a plain BM25 baseline (bm25s on raw
lower-cased tokens of the same docs), latency p50/p95 on the demo KB and on a synthetic
5,000-fiche KB built by recombining the demo fiches' text, and index build times.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import bm25s

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from allo.kb.search import SearchDoc, SearchIndex, evaluate, load_demo_docs, load_synonyms, read_questions  # noqa: E402

DEFAULT_QUESTIONS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "questions-dev.csv"
DEFAULT_EXTRA = Path(__file__).resolve().parent.parent / "tests" / "unit" / "kb_search" / "own_questions.csv"


def doc_text(d: SearchDoc) -> str:
    return "\n".join([d.title, d.subtheme, " ".join(d.keywords), "\n".join(d.phrasings), d.short_answer, d.body])


@dataclass
class _Hit:
    id: str


@dataclass
class _Response:
    hits: list
    low_confidence: bool = False


class BM25Baseline:
    """bm25s over raw lower-cased tokens (no stop words, no stemming, no synonyms)."""

    def __init__(self, docs: list[SearchDoc]):
        self.ids = [d.id for d in docs]
        tokens = bm25s.tokenize([doc_text(d) for d in docs], stopwords=None, return_ids=False,
                                show_progress=False)
        self.vocab = {t for doc in tokens for t in doc}
        self.model = bm25s.BM25()
        self.model.index(tokens, show_progress=False)

    def search(self, query: str, limit: int = 10) -> _Response:
        q = [t for t in bm25s.tokenize([query], stopwords=None, return_ids=False, show_progress=False)[0]
             if t in self.vocab]
        if not q:
            return _Response([])
        res, scores = self.model.retrieve([q], k=min(limit, len(self.ids)), show_progress=False)
        return _Response([_Hit(self.ids[int(i)]) for i, s in zip(res[0], scores[0], strict=True) if s > 0])


def synthetic_kb(docs: list[SearchDoc], size: int, seed: int = 7) -> list[SearchDoc]:
    """`size` fiches recombining the demo fiches' text (title, phrasings, keywords, body)."""
    rng = random.Random(seed)
    out = []
    for k in range(size):
        a, b = docs[k % len(docs)], rng.choice(docs)
        half = len(a.phrasings) // 2
        out.append(replace(
            a,
            id=f"{a.id}-syn{k:05d}",
            title=a.title if k < len(docs) else f"{a.title} ({b.subtheme or b.title})",
            keywords=a.keywords[: len(a.keywords) // 2] + b.keywords[len(b.keywords) // 2:],
            phrasings=a.phrasings[:half] + b.phrasings[half:],
            body=a.body + "\n" + b.short_answer,
            popularity=rng.randint(1, 5),
        ))
    return out


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def row(name: str, m: dict) -> str:
    return (f"{name:<22} hit@1 {m['hit_at_1']:.3f}  hit@3 {m['hit_at_3']:.3f}  MRR {m['mrr']:.3f}  "
            f"OOS prec {m['oos_precision']:.3f}  OOS recall {m['oos_recall']:.3f}  "
            f"p50 {m['p50_ms']:.2f} ms  p95 {m['p95_ms']:.2f} ms  n={m['n']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", default=str(DEFAULT_QUESTIONS))
    parser.add_argument("--fiches", default=None)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--extra", default=str(DEFAULT_EXTRA), help="another question CSV to report")
    parser.add_argument("--quick", action="store_true", help="a 1,000-fiche synthetic base instead of 5,000 (make bench)")
    args = parser.parse_args(argv)
    if args.quick:
        args.size = 1000

    docs = load_demo_docs(args.fiches)
    synonyms = load_synonyms()
    rows = read_questions(args.questions)
    known = {d.id for d in docs}
    missing = sorted({e for _, exp in rows for e in exp} - known)
    print(f"demo KB: {len(docs)} fiches; questions: {len(rows)}"
          + (f"; {len(missing)} expected ids not in the KB" if missing else ""))

    ours, t_ours = timed(SearchIndex, docs, synonyms)
    base, t_base = timed(BM25Baseline, docs)
    m_ours, m_base = evaluate(ours, rows), evaluate(base, rows)
    print(row("allo search", m_ours))
    print(row("BM25 baseline (bm25s)", m_base))
    print(f"hit@3 gain over baseline: {100 * (m_ours['hit_at_3'] - m_base['hit_at_3']):+.1f} points; "
          f"hit@1 gain: {100 * (m_ours['hit_at_1'] - m_base['hit_at_1']):+.1f} points")
    if missing:
        sub = [(q, e) for q, e in rows if not e or set(e) & known]
        m_sub, m_bsub = evaluate(ours, sub), evaluate(base, sub)
        print("restricted to questions whose fiche exists:")
        print(row("  allo search", m_sub))
        print(row("  BM25 baseline", m_bsub))
    print(f"index build: ours {t_ours * 1000:.0f} ms, baseline {t_base * 1000:.0f} ms")

    if args.extra and Path(args.extra).exists():
        extra = [(q, e) for q, e in read_questions(args.extra) if not e or set(e) & known]
        print(f"extra questions ({Path(args.extra).name}, indirect, written by the search team): {len(extra)}")
        print(row("  allo search", evaluate(ours, extra)))
        print(row("  BM25 baseline", evaluate(base, extra)))

    # ablation: the same fiches without their "ways of asking", i.e. only the administrative text
    bare = [replace(d, phrasings=[]) for d in docs]
    sub = [(q, e) for q, e in rows if not e or set(e) & known]
    print("ablation, fiches without phrasings (generalisation to unseen wording):")
    print(row("  allo search", evaluate(SearchIndex(bare, synonyms), sub)))
    print(row("  BM25 baseline", evaluate(BM25Baseline(bare), sub)))

    big = synthetic_kb(docs, args.size)
    big_index, t_big = timed(SearchIndex, big, synonyms)
    queries = [(q, []) for q, _ in rows]
    evaluate(big_index, queries[:20])  # warm-up
    m_big = evaluate(big_index, queries)
    print(f"synthetic KB: {len(big)} fiches, index build {t_big:.1f} s, "
          f"latency p50 {m_big['p50_ms']:.2f} ms, p95 {m_big['p95_ms']:.2f} ms over {m_big['n']} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
