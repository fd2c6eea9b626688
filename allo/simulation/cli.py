"""`allo simulate`, `allo erlang`, `allo staffing`: pure commands, no Django."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys

from allo.routing.kpi import SERVICE_LEVEL_S
from allo.simulation import erlang as erl
from allo.simulation.scenario import ScenarioError, load_scenario

EXIT_USAGE = 2


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not value > 0 or (kind is float and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
        return value

    return parse


def _json_default(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _clean(obj):
    """JSON has no infinity: an unbounded wait is reported as null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    return obj


def _print_json(data) -> None:
    print(json.dumps(_clean(data), ensure_ascii=False, default=_json_default))


def _print_table(data: dict) -> None:
    width = max(len(k) for k in data)
    for key, value in data.items():
        if isinstance(value, float):
            text = f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
        else:
            text = str(value)
        print(f"{key:<{width}}  {text}")


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def simulate_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="allo simulate", description="Simulate the contact centre with the routing engine.")
    p.add_argument("--scenario", help="scenario TOML file (default: the shipped default scenario)")
    p.add_argument("--calls", type=_positive(int), help="total calls to generate (scales the scenario's volume)")
    p.add_argument("--days", type=_positive(int), help="number of days to simulate from the scenario's start")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1): same seed, same figures")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--report", metavar="DIR", help="write PNG charts and index.html to DIR")
    p.add_argument("--interval", type=int, choices=(15, 30, 60),
                   help="KPI interval in minutes for the report charts and the JSON 'intervals' list")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--log", metavar="FILE",
                   help="write the engine log (events and decisions, one JSON object a line) for replay")
    p.add_argument("--surges", action="store_true",
                   help="find topical surges among the simulated calls, per fiche and theme, as the live scan "
                        "does (docs/surges.md; try --scenario surge.toml)")
    mmc = p.add_argument_group("M/M/c validation mode (one queue, one agent group, the same engine)")
    mmc.add_argument("--mmc", action="store_true", help="pure M/M/c: exponential service, Poisson arrivals")
    mmc.add_argument("--rate-per-hour", type=_positive(float))
    mmc.add_argument("--aht", type=_positive(float), help="mean service time in seconds")
    mmc.add_argument("--agents", type=_positive(int))
    mmc.add_argument("--patience", type=_positive(float), help="mean patience in seconds (M/M/c+M, Erlang A)")
    mmc.add_argument("--target-seconds", type=float, default=SERVICE_LEVEL_S)
    args = p.parse_args(argv)
    progress = not args.json and not args.no_progress and sys.stderr.isatty()

    if args.mmc:
        missing = [f"--{n.replace('_', '-')}" for n in ("rate_per_hour", "aht", "agents") if getattr(args, n) is None]
        if missing:
            return _error(f"--mmc needs {', '.join(missing)}")
        from allo.simulation.runner import simulate_mmc

        result = simulate_mmc(args.rate_per_hour, args.aht, args.agents, args.calls or 100_000, args.patience,
                              args.seed, args.target_seconds, progress)
        theory = erl.figures(args.rate_per_hour, args.aht, args.agents, args.target_seconds, args.patience)
        data = result.to_json()
        data["theory"] = {"model": "erlang_a" if args.patience else "erlang_c", **theory.to_dict()}
    else:
        try:
            scenario = load_scenario(args.scenario)
        except ScenarioError as exc:
            return _error(f"invalid scenario: {exc}")
        from allo.simulation.runner import simulate

        log_file = sink = None
        if args.log:
            from allo.routing.events import to_dict

            try:
                log_file = open(args.log, "w", encoding="utf-8")  # closed in the finally below
            except OSError as exc:
                return _error(f"--log: {exc.strerror}: {args.log}")

            def sink(record):
                log_file.write(json.dumps(to_dict(record), default=_json_default) + "\n")

        arrivals: list[tuple[float, str]] = []
        if args.surges:
            from allo.routing.events import ContactArrived

            log_sink = sink

            def sink(record):
                if type(record) is ContactArrived and record.channel == "call" and record.topic:
                    arrivals.append((record.t, record.topic))
                if log_sink is not None:
                    log_sink(record)

        try:
            result = simulate(scenario, args.seed, args.days, args.calls, progress, sink)
        except ValueError as exc:
            return _error(str(exc))
        finally:
            if log_file is not None:
                log_file.close()
        data = result.to_json()
        data["scenario"] = scenario.source
        data["daily"] = result.series(86400.0)
        if result.days > 31:
            data["monthly"] = result.monthly()
        if args.interval:
            data["intervals"] = result.series(args.interval * 60.0)
        if args.surges:
            data["surges"] = _surges(scenario, arrivals)
    if args.report:
        from allo.simulation.report import write_report

        index = write_report(result, args.report, args.interval * 60 if args.interval else None)
        data["report"] = str(index)
    if args.json:
        _print_json(data)
    else:
        _print_table({k: v for k, v in data.items() if not isinstance(v, dict | list)})
        for s in data.get("surges", []):
            print(f"surge  {s['dim']} {s['key']}: {s['start']} to {s['end'] or 'end of run'}, peak "
                  f"{s['peak_observed']} calls in an hour for {s['peak_expected']} expected (x{s['peak_ratio']}), "
                  f"{s['extra_agents']} extra agents")
    return 0


def _surges(scenario, arrivals: list[tuple[float, str]]) -> list[dict]:
    """The topical surges among the run's calls (allo/surges/simulated.py), with the scenario's handle
    time, patience and service-level target for the extra agents."""
    from allo.forecast.staffing import Inputs
    from allo.simulation.traffic import lognormal_mean
    from allo.surges.simulated import detect

    inputs = Inputs(aht_s=lognormal_mean(scenario.talk1_median, scenario.talk1_p90) + scenario.wrap1,
                    patience_s=scenario.patience1, target=scenario.sl_target, target_s=scenario.sl_seconds,
                    shrinkage=0.0)
    found = detect(arrivals, {t.id: t.theme for t in scenario.topics}, inputs)
    return [s.to_json(scenario.start) for s in found]


def erlang_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="allo erlang", description="Erlang C (or Erlang A with --patience) figures.")
    p.add_argument("--rate-per-hour", type=_positive(float), required=True)
    p.add_argument("--aht", type=_positive(float), required=True, help="mean handle time in seconds")
    p.add_argument("--agents", type=_positive(int), required=True)
    p.add_argument("--target-seconds", type=float, default=SERVICE_LEVEL_S)
    p.add_argument("--patience", type=_positive(float), help="mean caller patience in seconds (Erlang A)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    f = erl.figures(args.rate_per_hour, args.aht, args.agents, args.target_seconds, args.patience)
    data = {"p_wait": f.p_wait, "asa_s": f.asa_s, "service_level": f.service_level, "occupancy": f.occupancy}
    if args.patience:
        data["abandon_rate"] = f.abandon_rate
    data["load_erlangs"] = args.rate_per_hour * args.aht / 3600.0
    data["model"] = "erlang_a" if args.patience else "erlang_c"
    if args.json:
        _print_json(data)
    else:
        _print_table(data)
    return 0


def staffing_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="allo staffing",
                                description="N1 agents needed per interval for a target service level, from a scenario's forecast.")
    p.add_argument("--scenario", help="scenario TOML file (default: the shipped default scenario)")
    p.add_argument("--date", help="day to plan, YYYY-MM-DD (default: the scenario's start)")
    p.add_argument("--interval", type=int, choices=(15, 30, 60), default=30, help="minutes (default 30)")
    p.add_argument("--target", type=float, help="service level to reach, 0-1 (default: the scenario's)")
    p.add_argument("--target-seconds", type=float, help="answer within this many seconds (default: the scenario's)")
    p.add_argument("--erlang-a", action="store_true", help="count caller patience (Erlang A) instead of Erlang C")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        return _error(f"invalid scenario: {exc}")
    try:
        day = dt.date.fromisoformat(args.date) if args.date else scenario.start
    except ValueError:
        return _error(f"--date: expected YYYY-MM-DD, got {args.date!r}")
    if args.target is not None and not 0 < args.target < 1:
        return _error("--target: expected a service level between 0 and 1, e.g. 0.8")
    from allo.simulation.traffic import TrafficModel, lognormal_mean

    target = args.target if args.target is not None else scenario.sl_target
    seconds = args.target_seconds if args.target_seconds is not None else scenario.sl_seconds
    patience = scenario.patience1 if args.erlang_a else None
    traffic = TrafficModel(scenario, days=1)
    aht = lognormal_mean(scenario.talk1_median, scenario.talk1_p90) + scenario.wrap1
    width = args.interval * 60
    rows = []
    for k in range(int(86400 // width)):
        start = k * width
        # mean forecast rate over the interval (the profile is per half hour)
        step = 300
        rate = sum(traffic.rate_per_hour(day, s + step / 2) for s in range(start, start + width, step)) / (width / step)
        if rate <= 0:
            continue
        need = erl.agents_needed(rate, aht, seconds, target, patience)
        f = erl.figures(rate, aht, need, seconds, patience)
        rows.append({"start": (dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=start)).strftime("%H:%M"),
                     "calls_per_hour": round(rate, 1), "load_erlangs": round(rate * aht / 3600, 2), "agents": need,
                     "service_level": round(f.service_level, 4), "asa_s": round(f.asa_s, 1),
                     "occupancy": round(f.occupancy, 3)})
    data = {"date": day.isoformat(), "interval_minutes": args.interval, "aht_s": round(aht, 1),
            "target": target, "target_seconds": seconds, "model": "erlang_a" if patience else "erlang_c",
            "expected_calls": round(traffic.expected_calls(day, with_peaks=False)),
            "peak_agents": max((r["agents"] for r in rows), default=0),
            "agent_hours": round(sum(r["agents"] for r in rows) * width / 3600, 1),
            "rostered_n1": scenario.n1_agents, "intervals": rows}
    if args.json:
        _print_json(data)
        return 0
    print(f"{day:%A %Y-%m-%d}: {data['expected_calls']} calls forecast, AHT {aht:.0f} s, "
          f"target {target:.0%} within {seconds:g} s ({data['model']})")
    if not rows:
        print("closed all day")
        return 0
    print(f"{'start':>5}  {'calls/h':>8}  {'erlangs':>7}  {'agents':>6}  {'SL':>6}  {'ASA s':>6}  {'occ':>5}")
    for r in rows:
        print(f"{r['start']:>5}  {r['calls_per_hour']:>8.1f}  {r['load_erlangs']:>7.2f}  {r['agents']:>6}  "
              f"{r['service_level']:>6.1%}  {r['asa_s']:>6.1f}  {r['occupancy']:>5.1%}")
    print(f"peak {data['peak_agents']} agents on the phones, {data['agent_hours']} agent-hours "
          f"({scenario.n1_agents} rostered)")
    return 0
