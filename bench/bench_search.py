"""Benchmark the fiche search (not a test; prints figures).

    .venv/bin/python bench/bench_search.py [--questions ../shared/eval/questions-dev.csv] [--fiches DIR]
    .venv/bin/python bench/bench_search.py --real [--loader legacy|new]

--real: the real service-public.fr corpus (../shared/kb/service-public-real, both archives merged by
id), quality on ../shared/eval/real-questions-dev.csv, on our held-out questions
(bench/real_heldout_questions.csv, fiches not in the dev set, never fitted on) and on the questions the
re-ranking was fitted on (bench/real_fit_questions.csv, bench/fit_search.py), beside plain BM25 on the
same fiches; the reliability of the confidence on the dev set; then build, save and load times,
latency, first search and memory of a fresh process holding the saved index, and the time for an
edited fiche to be searchable.

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


REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "kb" / "service-public-real"
REAL_DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "real-questions-dev.csv"
HELD_OUT = Path(__file__).resolve().parent / "real_heldout_questions.csv"
FITTED = Path(__file__).resolve().parent / "real_fit_questions.csv"


class FoldedBM25:
    """The issue's baseline: bm25s over title + introduction + text, accents stripped, French stop
    words, no stemming."""

    def __init__(self, docs: list[SearchDoc]):
        from allo.kb.search import fold

        self.fold = fold
        self.ids = [d.id for d in docs]
        texts = [fold("\n".join([d.title, d.short_answer, d.body])) for d in docs]
        tokens = bm25s.tokenize(texts, stopwords="fr", return_ids=False, show_progress=False)
        self.vocab = {t for doc in tokens for t in doc}
        self.model = bm25s.BM25()
        self.model.index(tokens, show_progress=False)

    def search(self, query: str, limit: int = 10) -> _Response:
        q = [t for t in bm25s.tokenize([self.fold(query)], stopwords="fr", return_ids=False,
                                       show_progress=False)[0] if t in self.vocab]
        if not q:
            return _Response([], True)
        res, scores = self.model.retrieve([q], k=min(limit, len(self.ids)), show_progress=False)
        return _Response([_Hit(self.ids[int(i)]) for i, s in zip(res[0], scores[0], strict=True) if s > 0])


def reliability(index: SearchIndex, rows, bins=(0.0, 0.2, 0.4, 0.6, 0.8, 1.01)) -> str:
    """The reliability table of the first hit's confidence (answerable and out-of-scope questions:
    an out-of-scope question's first hit is wrong)."""
    seen = []
    for q, expected in rows:
        r = index.search(q, limit=1, snippets=0)
        if r.hits:
            seen.append((r.hits[0].confidence, r.hits[0].id in expected))
    lines = ["  | confidence shown | questions | mean confidence | first hit right |", "  |---|---|---|---|"]
    for lo, hi in zip(bins, bins[1:], strict=False):
        inside = [(c, ok) for c, ok in seen if lo <= c < hi]
        if inside:
            lines.append(f"  | {lo * 100:.0f}–{min(hi, 1) * 100:.0f} % | {len(inside)} | "
                         f"{100 * sum(c for c, _ in inside) / len(inside):.0f} % | "
                         f"{100 * sum(ok for _, ok in inside) / len(inside):.0f} % |")
    return "\n".join(lines)


def real_docs(loader: str) -> list[SearchDoc]:
    """Both archives, merged by id (a fiche on two sites is one fiche), as the index sees them."""
    from allo.kb.search import doc_from_mapping

    archives = [REAL / "part.zip", REAL / "pro.zip"]
    if loader == "new":  # the importer's search fields (allo.kb.importers.dila.search_fields)
        from allo.kb.importers.dila import read_corpus, search_fields

        corpus = read_corpus(archives)
        return [doc_from_mapping({"id": i, "title": r["title"], "theme": r.get("theme", ""), "popularity": 1,
                                  "collection": "service-public", "search": search_fields(r)})
                for i, r in sorted(corpus.fiches.items())]
    from allo.kb.importers.dila_legacy import parse_archive  # the importer before the official layer
    records: dict[str, dict] = {}
    for archive in archives:
        for record in parse_archive(archive):
            records.setdefault(record["id"], record)
    return [doc_from_mapping(r) for _, r in sorted(records.items())]


_PROCESS = """
import json, os, sys, time
t0 = time.perf_counter()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allo.project.settings")
import django
django.setup()
import allo.kb.views, allo.portal.views  # a web process has the project's code loaded
from allo.kb.search import IndexData, SearchIndex, dense, load_synonyms, read_questions
def rss(key="VmRSS"):  # VmHWM: this process's peak (ru_maxrss would count the parent's at fork)
    return int(next(l for l in open("/proc/self/status") if l.startswith(key)).split()[1]) // 1024
base = rss()
t1 = time.perf_counter()
dense.set_cache_dir(sys.argv[3])  # as a web process: the tokenizer the build parsed, read back
index = SearchIndex(synonyms=load_synonyms(), data=IndexData.load(sys.argv[1]))
t2 = time.perf_counter()
index.search("je voudrais refaire ma carte grise", limit=10)  # while the encoder loads in the background
t3 = time.perf_counter()
dense.available()
t4 = time.perf_counter()
for q, _ in read_questions(sys.argv[2]) * 2:
    index.search(q, limit=10)
print(json.dumps({"django_mb": base, "load_s": t2 - t1, "first_search_s": t3 - t2, "rss_mb": rss(),
                  "peak_mb": rss("VmHWM"), "dense_ready_s": t4 - t2}))
"""


def real(args) -> int:
    import json
    import statistics
    import subprocess
    import tempfile

    from allo.kb.search import IndexData

    encoder_cache = tempfile.mkdtemp(prefix="allo-encoder-")  # the parsed tokenizer, as under ALLO_DATA_DIR
    from allo.kb.search import dense

    dense.set_cache_dir(encoder_cache)
    t0 = time.perf_counter()
    docs = real_docs(args.loader)
    t_parse = time.perf_counter() - t0
    dev, held_out, fitted = read_questions(REAL_DEV), read_questions(HELD_OUT), read_questions(FITTED)
    print(f"real corpus: {len(docs)} fiches ({args.loader} importer, parsed in {t_parse:.0f} s); "
          f"dev questions {len(dev)}, held-out questions {len(held_out)}, fit questions {len(fitted)}")
    ours, t_build = timed(SearchIndex, docs, load_synonyms())
    base, t_base = timed(FoldedBM25, docs)

    class Quality:  # the ranking only: snippets are measured with the latency below
        def search(self, q, limit=10):
            return ours.search(q, limit=limit, snippets=0)

    for name, rows in (("dev set", dev), ("held-out (never fitted on)", held_out),
                       ("fit questions (the re-ranking was fitted on them)", fitted)):
        m_ours, m_base = evaluate(Quality(), rows), evaluate(base, rows)
        print(f"{name}:")
        print(row("  allo search", m_ours) + f"  answerable flagged {m_ours['in_scope_flagged']:.3f}")
        print(row("  BM25 (bm25s)", m_base))
        print(f"  hit@1 x{m_ours['hit_at_1'] / max(m_base['hit_at_1'], 1e-9):.2f}, "
              f"hit@3 x{m_ours['hit_at_3'] / max(m_base['hit_at_3'], 1e-9):.2f} the baseline")
    print("confidence shown on the desk (first hit) against how often that hit is right, dev set:")
    print(reliability(ours, dev))

    # with the line's own fiches in the same index (a separate collection, as in the demo)
    local = load_demo_docs()
    both = ours.with_changes(local)
    print(f"real + {len(local)} local demo fiches in one index (overlay):")
    print(row("  real dev set", evaluate(both, dev)))
    demo_rows = read_questions(DEFAULT_QUESTIONS)
    print(row("  demo dev set", evaluate(both, demo_rows)))
    print(row("  demo dev, demo only", evaluate(SearchIndex(local, load_synonyms()), demo_rows)))

    # latency with snippets for the 10 hits a desk shows, after a warm-up
    for q, _ in dev[:20]:
        ours.search(q)
    times = []
    for q, _ in (dev + held_out[:150]) * args.rounds:
        t = time.perf_counter()
        ours.search(q, limit=10)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"latency, 10 hits with snippets, {len(times)} searches: p50 {statistics.median(times):.1f} ms, "
          f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "index"
        _, t_save = timed(ours.data.save, folder)
        size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
        print(f"build {t_build:.1f} s (BM25 baseline {t_base:.1f} s), save {t_save:.2f} s, {size:.0f} MB of files")
        out = subprocess.run([sys.executable, "-c", _PROCESS, str(folder), str(REAL_DEV), encoder_cache],
                             capture_output=True,
                             text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
        p = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"fresh process: map the index {p['load_s']:.2f} s, first search {p['first_search_s'] * 1000:.0f} ms after "
              f"it (by the first pass: the dense encoder, loading in the background, is ready "
              f"{p['dense_ready_s']:.1f} s after the map); "
              f"RSS {p['django_mb']} MB with Django, {p['rss_mb']} MB after loading the index and "
              f"{2 * len(dev)} searches (peak {p['peak_mb']} MB)")

        # an edited fiche: the overlay of changed fiches, scored with the base's statistics
        data = IndexData.load(folder)
        mapped = SearchIndex(synonyms=load_synonyms(), data=data)
        doc = next(d for d in docs if d.id == "F1")
        edited = replace(doc, title=doc.title + " (zorglubium)")
        t = time.perf_counter()
        changed = mapped.with_changes([edited])
        found = changed.search("zorglubium", limit=3).hits[0].id == "F1"
        t_edit = time.perf_counter() - t
        print(f"edit -> searchable: overlay built and searched in {t_edit * 1000:.0f} ms (found: {found}); "
              "a web process checks the database at most once a second")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", default=str(DEFAULT_QUESTIONS))
    parser.add_argument("--fiches", default=None)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--extra", default=str(DEFAULT_EXTRA), help="another question CSV to report")
    parser.add_argument("--quick", action="store_true", help="a 1,000-fiche synthetic base instead of 5,000 (make bench)")
    parser.add_argument("--real", action="store_true", help="the real service-public.fr corpus (see module doc)")
    parser.add_argument("--loader", choices=("legacy", "new"), default="new",
                        help="--real: which DILA importer reads the archives")
    parser.add_argument("--rounds", type=int, default=2, help="--real: latency rounds over the questions")
    args = parser.parse_args(argv)
    if args.real:
        return real(args)
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
