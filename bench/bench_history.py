"""Benchmark the history: import a year of call records, then report from the stored aggregates (not a
test; prints figures).

    .venv/bin/python bench/bench_history.py [--calls 1200000] [--database-url postgresql://postgres@127.0.0.1:5432/bench_history]

Generates a year (2025) of calls as a previous system would export them (Monday–Saturday 08:00–19:00,
4 queues, 60 agents, 22 themes, 3 dialed numbers; seeded), into a fresh database (a temporary SQLite file
by default; with --database-url, that database is dropped and created again): `allo history import`
(timed, peak memory), then `allo report` over the year as a command (Django's start included), and
in this process the reads the « bilan » makes (a year per day, a month per 15 minutes, a month per agent).
Target of issue 12: a year of 1.2 M calls reports in <= 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from allo_workspace import peak_child_mb, run, workspace


def generate(path: Path, calls: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    days = [d for d in days if d.weekday() < 6]
    per_day = rng.multinomial(calls, np.full(len(days), 1 / len(days)))
    queues = np.array(["n1", "n1", "n1", "impots-ancien", "conso-ancien"])
    agents = np.array([f"agent{i:02d}" for i in range(60)])
    themes = np.array([f"Thème {i}" for i in range(22)] + [""] * 4)
    origins = np.array(["3939", "0800123456", "0140000000", ""])
    with open(path, "w", encoding="utf-8") as f:
        f.write("arrived_at,queue,outcome,waited_s,talk_s,agent,theme,origin\n")
        for day, n in zip(days, per_day, strict=True):
            offset = "+02:00" if dt.date(2025, 3, 30) <= day < dt.date(2025, 10, 26) else "+01:00"
            secs = np.sort(rng.integers(8 * 3600, 19 * 3600, n))
            waited = np.round(rng.exponential(25, n), 1)
            answered = rng.random(n) < 0.85
            talk = np.where(answered, np.round(rng.lognormal(5.0, 0.5, n), 1), 0)
            q, a = rng.integers(0, len(queues), n), rng.integers(0, len(agents), n)
            th, o = rng.integers(0, len(themes), n), rng.integers(0, len(origins), n)
            stamp = day.isoformat()
            f.writelines(
                f"{stamp}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}{offset},{queues[q[i]]},"
                f"{'answered' if answered[i] else 'abandoned'},{waited[i]},{talk[i]},"
                f"{agents[a[i]] if answered[i] else ''},{themes[th[i]]},{origins[o[i]]}\n"
                for i, s in enumerate(secs.tolist()))


def best_of(fn, n: int = 5) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="", help="a PostgreSQL database to recreate and use")
    parser.add_argument("--calls", type=int, default=1_200_000)
    args = parser.parse_args(argv)
    work, env = workspace("allo-bench-history-", args.database_url)
    try:
        csv_path = work / "calls.csv"
        started = time.perf_counter()
        generate(csv_path, args.calls)
        print(f"generated {args.calls:,} calls ({csv_path.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - started:.1f} s")
        run(["init"], env)
        took = run(["history", "import", str(csv_path)], env)
        peak = peak_child_mb()
        print(f"allo history import: {took:.1f} s ({args.calls / took:,.0f} calls/s), peak memory {peak:.0f} MB")
        took = run(["report", "--from", "2025-01-01", "--to", "2025-12-31", "--json"], env)
        print(f"allo report, a year per day (a whole command, Django's start included): {took * 1000:.0f} ms "
              f"(target <= 1 s)")
        took = run(["report", "--from", "2025-01-01", "--to", "2025-12-31", "--queue", "n1", "--json"], env)
        print(f"allo report --queue n1, a year per day (the same): {took * 1000:.0f} ms")

        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allo.project.settings")
        import django

        django.setup()
        from allo.history import services
        from allo.history.models import CallRecord, Stat

        year = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
        march = (dt.date(2025, 3, 1), dt.date(2025, 3, 31))
        print(f"stored: {CallRecord.objects.count():,} records, {Stat.objects.count():,} bins")
        print(f"  report, a year per day (the line): {best_of(lambda: services.report(*year)):.1f} ms")
        print(f"  report, a year per day (--queue n1): {best_of(lambda: services.report(*year, 'n1')):.1f} ms")
        print(f"  a month per 15 minutes (the line): "
              f"{best_of(lambda: services.series(*march, grain='15m')):.1f} ms")
        def per_agent():
            return [services.series(*year, grain="1M", dim="agent", key=f"agent{i:02d}") for i in range(60)]

        print(f"  a year per month per agent (60 agents): {best_of(per_agent):.1f} ms")
        started = time.perf_counter()
        bins = services.rebuild(*march)
        print(f"  rebuild of March (its records and those of the weeks across its ends read again, "
              f"{bins:,} bins written): {time.perf_counter() - started:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
