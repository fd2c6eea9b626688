"""`python -m allo.kb.search.evalcli --questions FILE.csv [--json] [--fiches DIR]`.

Evaluates the search over the demo fiches (the Django `allo kb eval` command runs the same
`evaluate()` over the database's published fiches).
"""

from __future__ import annotations

import argparse
import json
import sys

from .evaluation import evaluate, read_questions
from .index import SearchIndex
from .loader import load_demo_docs
from .synonyms import load_synonyms

KEYS = ("hit_at_1", "hit_at_3", "mrr", "oos_precision", "p50_ms", "p95_ms", "n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="allo-kb-eval", description="Evaluate the fiche search.")
    parser.add_argument("--questions", required=True, help="CSV with columns question,expected")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--fiches", default=None, help="folder of YAML fiches (default: demo fiches)")
    parser.add_argument("--synonyms", default=None, help="synonym YAML (default: shipped dictionary)")
    parser.add_argument("--misses", action="store_true", help="list questions not ranked first")
    args = parser.parse_args(argv)
    try:
        rows = read_questions(args.questions)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    docs = load_demo_docs(args.fiches)
    index = SearchIndex(docs, load_synonyms(args.synonyms))
    misses: list = []
    result = evaluate(index, rows, misses=misses)
    if args.json:
        print(json.dumps({k: result[k] for k in KEYS} | {"oos_recall": result["oos_recall"]}))
    else:
        print(f"fiches: {len(docs)}  questions: {result['n']}")
        for k, v in result.items():
            print(f"{k:>16}: {v}")
    if args.misses:
        for q, exp, got in misses:
            print(f"MISS {q!r} expected={exp or '-'} got={got}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
