"""Forecast accuracy on held-out weeks against the seasonal-naive forecast (not a test; prints figures).

    .venv/bin/python bench/bench_forecast.py [--weeks 8] [--interval 60]

Two generated histories (no real call records are available: ../shared/traffic/ holds the figures of the
real line, not its calls):

- `scenario`: two years (2025-2026) of the default simulation scenario, built on ../shared/traffic's
  figures: Monday-Friday 08:00-19:00 and Saturday 09:00-14:00, closed on public holidays, a morning and
  an afternoon peak, Monday +20 %, Friday -10 %, 100,000 calls a month, its topical peak; plus what real
  series have and the scenario has not: day-level noise that persists (AR(1), phi 0.6, sd 8 %), +6 % a
  year of trend, callers who called on a bridge day a third less and the day after a holiday 15 % more;
- `bench_history`: bench/bench_history.py's year (1.2 M calls, uniform over Monday-Saturday 08:00-19:00,
  open on holidays: nothing to learn but the level).

Rolling origin: for each of the last `--weeks` weeks, the model is fitted on everything before its
Monday and forecasts its 7 days (horizon 1 = the Monday); seasonal-naive repeats the week before.
Errors per interval: MAE, WAPE (sum |error| / sum actual), MAPE (intervals with calls only),, the same
without the AR's correction (« no AR »), and the coverage of the 90 % prediction interval. Exits 1 if the
forecast does not beat seasonal-naive (WAPE over the held-out weeks) on the scenario.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from allo.forecast import calendar as cal  # noqa: E402
from allo.forecast import model  # noqa: E402


def scenario_history(first: dt.date, days: int, slots: int, seed: int = 7) -> np.ndarray:
    from allo.simulation.scenario import load_scenario
    from allo.simulation.traffic import TrafficModel

    scn = load_scenario(None)
    traffic = TrafficModel(scn, days=1)
    traffic.peak_days = {first + dt.timedelta(days=200 + i): p for i, p in enumerate(traffic.peak_days.values())}
    rng = np.random.default_rng(seed)
    out = np.zeros((days, slots))
    width = 86400 // slots
    noise = 0.0
    for i in range(days):
        day = first + dt.timedelta(days=i)
        noise = 0.6 * noise + rng.normal(0, 0.08)
        factor = 1.06 ** (i / 365.25) * np.exp(noise)
        if cal.is_bridge(day):
            factor *= 0.67
        elif cal.is_day_after(day):
            factor *= 1.15
        expected = traffic.expected_calls(day) * factor
        if expected <= 0:
            continue
        start, weights = traffic.profile(day)
        lam = np.zeros(slots)
        for k, w in enumerate(weights):  # half-hour weights into slots
            t0 = start + 1800 * k
            for sub in range(6):  # 5-minute pieces
                t = t0 + 300 * sub
                lam[int(t // width)] += expected * w / 6
        out[i] = rng.poisson(lam)
    return out


def bench_history_history(first: dt.date, days: int, slots: int, calls: int = 1_200_000, seed: int = 1) -> np.ndarray:
    """Counts of bench_history.generate()'s calls (the same draws, binned instead of written)."""
    rng = np.random.default_rng(seed)
    all_days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    open_days = [d for d in all_days if d.weekday() < 6]
    per_day = rng.multinomial(calls, np.full(len(open_days), 1 / len(open_days)))
    out = np.zeros((days, slots))
    width = 86400 // slots
    for day, n in zip(open_days, per_day, strict=True):
        secs = rng.integers(8 * 3600, 19 * 3600, n)
        rng.exponential(25, n), rng.random(n), rng.lognormal(5.0, 0.5, n)  # keep the generator's draws
        rng.integers(0, 5, n), rng.integers(0, 60, n), rng.integers(0, 26, n), rng.integers(0, 4, n)
        i = (day - first).days
        if 0 <= i < days:
            out[i] = np.bincount(secs // width, minlength=slots)
    return out


def evaluate(name: str, counts: np.ndarray, first: dt.date, weeks: int) -> dict:
    n_days = len(counts)
    last = first + dt.timedelta(days=n_days - 1)
    monday = last - dt.timedelta(days=last.weekday())
    if monday + dt.timedelta(days=6) > last:
        monday -= dt.timedelta(days=7)
    errs = {h: {"m": [], "n": [], "a": [], "m0": [], "in": []} for h in range(1, 8)}
    fit_s = []
    for w in range(weeks, 0, -1):
        origin = monday - dt.timedelta(days=7 * (w - 1))
        hist = counts[: (origin - first).days]
        started = time.perf_counter()
        fitted = model.fit(hist, first)
        days = model.predict(fitted, origin, origin + dt.timedelta(days=6))
        fit_s.append(time.perf_counter() - started)
        no_ar = model.fit(hist, first, ar=False)
        days0 = model.predict(no_ar, origin, origin + dt.timedelta(days=6))
        for h, (f, f0) in enumerate(zip(days, days0, strict=True), start=1):
            actual = counts[(f.day - first).days]
            naive = model.seasonal_naive(hist, first, f.day)
            errs[h]["m"].append(f.mean)
            errs[h]["m0"].append(f0.mean)
            errs[h]["n"].append(naive)
            errs[h]["a"].append(actual)
            errs[h]["in"].append(((actual >= f.low) & (actual <= f.high))[(f.mean > 0) | (actual > 0)])
    print(f"\n{name}: {n_days} days of history to {last}, {counts.sum():,.0f} calls, {counts.shape[1]} slots a "
          f"day; {weeks} held-out weeks; a fit and its week's forecast {np.median(fit_s) * 1000:.0f} ms (median)")
    print(f"{'horizon':>8} {'WAPE':>7} {'naive':>7} {'no AR':>7} {'MAE':>7} {'naive':>7} {'MAPE':>7} {'naive':>7} "
          f"{'cover90':>8}")
    summary = {}
    rows = [(str(h), [h]) for h in range(1, 8)] + [("1-3", [1, 2, 3]), ("4-7", [4, 5, 6, 7]), ("all", range(1, 8))]
    for label, hs in rows:
        a = np.concatenate([np.concatenate(errs[h]["a"]) for h in hs])
        if not a.sum():
            print(f"{label:>8}  no call (closed)")
            continue
        m = np.concatenate([np.concatenate(errs[h]["m"]) for h in hs])
        m0 = np.concatenate([np.concatenate(errs[h]["m0"]) for h in hs])
        n = np.concatenate([np.concatenate(errs[h]["n"]) for h in hs])
        cover = np.concatenate([np.concatenate(errs[h]["in"]) for h in hs])
        pos = a > 0

        def wape(f, a=a):
            return np.abs(f - a).sum() / a.sum()

        def mape(f, a=a, pos=pos):
            return float(np.mean(np.abs(f[pos] - a[pos]) / a[pos]))

        figures = {"wape": wape(m), "wape_naive": wape(n), "wape_no_ar": wape(m0), "mae": np.abs(m - a).mean(),
                   "mae_naive": np.abs(n - a).mean(), "mape": mape(m), "mape_naive": mape(n),
                   "coverage": cover.mean()}
        summary[label] = figures
        print(f"{label:>8} {figures['wape']:>7.1%} {figures['wape_naive']:>7.1%} {figures['wape_no_ar']:>7.1%} "
              f"{figures['mae']:>7.1f} {figures['mae_naive']:>7.1f} {figures['mape']:>7.1%} "
              f"{figures['mape_naive']:>7.1%} {figures['coverage']:>8.1%}")
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--weeks", type=int, default=8, help="held-out weeks (rolling origin)")
    p.add_argument("--interval", type=int, choices=(15, 30, 60), default=60)
    args = p.parse_args(argv)
    slots = 1440 // args.interval
    first = dt.date(2025, 1, 1)
    scenario = scenario_history(first, 730, slots)
    summary = evaluate("scenario (../shared/traffic figures)", scenario, first, args.weeks)
    # the held-out weeks of the scenario's first May (Labour day, Victory day, Ascension and its bridges)
    may = scenario[: (dt.date(2025, 6, 9) - first).days]
    evaluate("scenario, its May 2025 (holidays, bridge days)", may, first, 5)
    uniform = bench_history_history(first, 365, slots)
    evaluate("bench_history year", uniform, first, args.weeks)
    ok = summary["all"]["wape"] < summary["all"]["wape_naive"]
    print(f"\nforecast {'beats' if ok else 'does NOT beat'} seasonal-naive on the scenario's held-out weeks")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
