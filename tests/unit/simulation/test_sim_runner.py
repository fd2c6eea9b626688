from __future__ import annotations

import json

import pytest

from allo.routing import events as E
from allo.routing.engine import replay
from allo.routing.kpi import KpiCollector
from allo.simulation.cli import simulate_main
from allo.simulation.runner import build_config, simulate
from allo.simulation.scenario import load_scenario

KEYS = ("calls", "service_level", "asa_s", "abandon_rate", "aht_n1_s", "n1_under_3min", "transfer_rate",
        "events", "wall_s")


@pytest.fixture(scope="module")
def two_days():
    """Monday and Tuesday of the default scenario, with the full engine log kept."""
    log = []
    result = simulate(load_scenario(), seed=7, days=2, sink=log.append)
    return result, log


def test_simulation_figures_are_plausible(two_days):
    result, _ = two_days
    s = result.summary
    assert 8000 < result.calls < 11000  # Monday 1.2 + Tuesday 1.0 of ~4,300 a mid-week day
    assert s["offered"] == result.calls  # every call arrives within opening hours
    assert 0.12 < s["transfer_rate"] < 0.18  # 15 % assumed
    assert 185 < s["aht_n1_s"] < 205  # ~194 s assumed
    assert 0.5 < s["n1_under_3min"] < 0.75  # lognormal median 150 s, p90 300 s: P(talk < 180 s) = 0.63
    assert 0.0 < s["abandon_rate"] < 0.1 and 0.6 < s["service_level"] <= 1.0
    assert set(s["transfers_by_domain"]) == {"impots", "consommation", "cira"}
    assert 0.5 < s["occupancy_n1"] < 1.0


def test_counts_are_conserved(two_days):
    result, log = two_days
    arrived = sum(1 for r in log if isinstance(r, E.ContactArrived))
    ended = sum(1 for r in log if isinstance(r, E.ContactEnded))
    assert arrived == result.calls
    assert arrived == ended + result.in_progress
    ends = [r.contact for r in log if isinstance(r, E.ContactEnded)]
    assert len(ends) == len(set(ends))  # exactly one terminal state each


def test_kpis_from_the_stored_log_match_the_streaming_figures(two_days):
    result, log = two_days
    stored = [E.to_dict(r) for r in log]
    rebuilt = KpiCollector.from_log(stored, interval_s=result.kpi.width, target_s=20.0)
    live = dict(result.summary)
    again = rebuilt.summary()
    for key in ("offered", "answered", "abandoned", "service_level", "asa_s", "aht_n1_s", "transfer_rate",
                "occupancy_n1", "callbacks_proposed"):
        assert again[key] == pytest.approx(live[key]), key


def test_the_simulation_log_replays_to_the_same_decisions(two_days):
    _, log = two_days
    head = log[:20000]
    config = build_config(load_scenario()).to_dict()
    _, decisions = replay(config, head)
    assert decisions == [r for r in head if not isinstance(r, E.EVENT_TYPES)][: len(decisions)]


def test_same_seed_same_figures():
    a = simulate(load_scenario(), seed=3, days=1, calls=2000).to_json()
    b = simulate(load_scenario(), seed=3, days=1, calls=2000).to_json()
    c = simulate(load_scenario(), seed=4, days=1, calls=2000).to_json()
    drop = {"wall_s", "events_per_s"}
    assert {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}
    assert a["calls"] != c["calls"] or a["asa_s"] != c["asa_s"]


def test_simulate_command_json_and_report(tmp_path, capsys):
    code = simulate_main(["--days", "1", "--calls", "1500", "--seed", "2", "--json", "--report", str(tmp_path)])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    for key in KEYS:
        assert key in data, key
    assert data["daily"][0]["start"] == "2026-03-02" and data["daily"][0]["offered"] == data["calls"]
    for name in ("volume.png", "service_level.png", "queue.png", "agents.png", "daily.png", "index.html"):
        assert (tmp_path / name).stat().st_size > 1000, name
    assert "volume.png" in (tmp_path / "index.html").read_text()


def test_interval_series_add_up_to_the_day(two_days):
    result, _ = two_days
    hours = result.series(3600.0)
    days = result.series(86400.0)
    assert hours[0]["start"] == "2026-03-02T08:00"
    assert sum(h["offered"] for h in hours) == sum(d["offered"] for d in days) == result.calls
    quarter = result.series(900.0)
    assert sum(q["answered"] for q in quarter) == result.summary["answered"]
    busiest = max(hours, key=lambda h: h["offered"])
    assert busiest["start"][11:13] in {"09", "10", "11"}  # the morning peak
    assert 0 < busiest["agents_busy_n1"] <= busiest["agents_logged_n1"] <= 51


def test_kpi_definitions_on_a_hand_made_log():
    kpi = KpiCollector(interval_s=900, target_s=20)
    log = [
        E.ContactArrived(0, 1, "n1"), E.Assign(0, 1, "a", "n1", 1, 0.0),
        E.ContactArrived(10, 2, "n1"), E.Queued(10, 2, "n1", 1, 1, 30.0), E.Assign(40, 2, "b", "n1", 1, 30.0),
        E.ContactArrived(20, 3, "n1"), E.Queued(20, 3, "n1", 1, 1, 30.0),
        E.ContactEnded(23, 3, "abandoned", 1, 3.0, "n1"),  # short abandon: left out of the SL base
        E.ContactArrived(30, 4, "n1"), E.Queued(30, 4, "n1", 1, 1, 30.0),
        E.ContactEnded(90, 4, "abandoned", 1, 60.0, "n1"),
        E.AgentStateChanged(100, "a", 1, "on_call", "wrap_up", 0.0, 1),
        E.Transferred(100, 1, "impots", "tax"),
        E.AgentStateChanged(120, "a", 1, "wrap_up", "available", 100.0),
        E.AgentStateChanged(400, "b", 1, "on_call", "wrap_up", 40.0, 2),
        E.AgentStateChanged(420, "b", 1, "wrap_up", "available", 400.0),
    ]
    kpi.feed_many(log)
    s = kpi.summary()
    assert (s["offered"], s["answered"], s["abandoned"], s["abandoned_short"]) == (4, 2, 2, 1)
    assert s["service_level"] == pytest.approx(1 / 3)  # 1 answered within 20 s / (4 - 1 short)
    assert s["asa_s"] == pytest.approx(15.0)
    assert s["aht_n1_s"] == pytest.approx((100 + 20 + 360 + 20) / 2)
    assert s["n1_under_3min"] == pytest.approx(0.5)
    assert s["transfer_rate"] == pytest.approx(0.5) and s["n1_resolution_rate"] == pytest.approx(0.5)
    assert s["transfer_rate_by_domain"] == {"impots": 0.5}
    assert s["p_wait"] == pytest.approx(3 / 4)
    # 15-min intervals: everything here falls in the first one
    assert kpi.series(1800)[0][1]["offered"] == 4


def test_overflow_to_a_partner_team_and_fixed_staffing():
    import tomllib

    from allo.simulation.scenario import DEFAULT_SCENARIO, parse_scenario

    data = tomllib.loads(DEFAULT_SCENARIO.read_text())
    data["n1"].update({"overflow_after_s": 30, "partner_agents": 4, "staffing": "fixed", "agents": 40})
    scn = parse_scenario(data)
    log = []
    result = simulate(scn, seed=5, days=1, calls=4000, sink=log.append)
    overflowed = [r for r in log if isinstance(r, E.Overflowed)]
    assert overflowed and all(r.to_queue == "n1-partner" for r in overflowed)
    partner_answers = [r for r in log if isinstance(r, E.Assign) and r.agent.startswith("partner")]
    assert partner_answers and all(r.waited >= 30 for r in partner_answers)
    logged = {r.agent for r in log if isinstance(r, E.AgentStateChanged) and r.prev == "offline"}
    assert sum(a.startswith("n1-") for a in logged) == 34  # fixed: 40 x 0.85 all day
    assert result.summary["offered"] == result.calls


def test_a_year_has_monthly_figures():
    result = simulate(load_scenario(), seed=1, days=62, calls=6000)
    months = result.monthly()
    assert [m["month"] for m in months] == ["2026-03", "2026-04", "2026-05"]
    assert sum(m["offered"] for m in months) == result.calls


def test_logged_run_replays_exactly(tmp_path, capsys):
    """`--log` writes the engine log; replaying its events recomputes every stored decision."""
    path = tmp_path / "run.jsonl"
    assert simulate_main(["--days", "1", "--calls", "400", "--seed", "9", "--log", str(path), "--json"]) == 0
    capsys.readouterr()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    event_types = {cls.__name__ for cls in E.EVENT_TYPES}
    stored = [r for r in records if r["type"] not in event_types]
    _, decisions = replay(build_config(load_scenario()).to_dict(), records)
    assert [json.loads(json.dumps(E.to_dict(d))) for d in decisions] == stored


def test_web_callback_requests_are_scheduled_contacts_called_back_by_n1():
    import tomllib

    from allo.simulation.scenario import DEFAULT_SCENARIO, parse_scenario

    data = tomllib.loads(DEFAULT_SCENARIO.read_text())
    data["traffic"].update({"web_callback_share": 0.05, "web_callback_delay_s": 1800})
    log = []
    result = simulate(parse_scenario(data), seed=3, days=2, calls=6000, sink=log.append)
    requests = [r for r in log if isinstance(r, E.ContactArrived) and r.channel == "callback"]
    assert result.extra["web_callback_requests"] == len(requests) > 150
    assert result.summary["offered"] == result.calls - len(requests)  # only calls are offered
    web_ids = {r.contact for r in requests}
    outbound = [r for r in log if isinstance(r, E.Assign) and r.contact in web_ids]
    assert outbound and all(r.outbound and r.level == 1 for r in outbound if r.queue == "n1")
    ends = {r.contact: r.state for r in log if isinstance(r, E.ContactEnded) and r.contact in web_ids}
    assert "abandoned" not in ends.values()  # nobody waits on the line for a web callback
    assert {"completed", "unreached"} <= set(ends.values())
