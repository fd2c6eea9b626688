"""Surges in a simulated run (allo/surges/simulated.py, `allo simulate --surges`)."""

from __future__ import annotations

import datetime as dt
import json

from allo.forecast import staffing as stf
from allo.simulation.cli import simulate_main
from allo.simulation.scenario import SCENARIOS, load_scenario
from allo.surges import detector
from allo.surges.simulated import detect

INPUTS = stf.Inputs(aht_s=200.0, patience_s=180.0, target=0.8, target_s=20.0, shrinkage=0.0)
DAY = 86400


def _steady(days, per_hour, topic, start_h=9, end_h=17, offset=0.0):
    """`per_hour` calls evenly spread over each day's open hours."""
    out = []
    for day in days:
        for h in range(start_h, end_h):
            out += [(day * DAY + h * 3600 + (i + offset) * 3600 / per_hour, topic) for i in range(per_hour)]
    return out


def test_a_planted_surge_is_found_once_with_its_theme_and_nothing_else():
    weekdays = [d for d in range(26) if d % 7 < 5]
    arrivals = _steady(weekdays, 4, "a") + _steady(weekdays, 6, "b", offset=0.5)
    # day 22 (fourth week's Tuesday), 10:00-12:00: « a » at 30 an hour instead of 4
    arrivals += _steady([22], 26, "a", start_h=10, end_h=12, offset=0.25)
    found = detect(sorted(arrivals), {"a": "t1", "b": "t1"}, INPUTS)
    assert [(s.dim, s.key) for s in found] == [("fiche", "a"), ("theme", "t1")]
    fiche = found[0]
    # it starts within the hour that began at 10:00, and ends once the hour without the excess passes
    assert 22 * 96 + 40 <= fiche.started <= 22 * 96 + 43
    assert 22 * 96 + 48 <= fiche.ended <= 22 * 96 + 52
    assert (fiche.peak_observed, fiche.peak_expected) == (30, 4.0)
    # the most the excess needed: 26 extra calls an hour while the line took 36 (30 + 6)
    assert fiche.extra_agents == detector.extra_agents(36, 26, INPUTS) >= 1
    assert fiche.to_json(dt.date(2026, 3, 2))["start"].startswith("2026-03-24T10:")


def test_the_first_week_is_history_only():
    # a key never seen, 20 calls an hour on day 2: nothing known before it, nothing reported
    assert detect(_steady([2], 20, "x"), {"x": "t"}, INPUTS) == []


def test_simulate_surges_finds_the_scenarios_surge_and_the_theme_peak_only(capsys):
    assert simulate_main(["--scenario", str(SCENARIOS / "surge.toml"), "--surges", "--json", "--no-progress"]) == 0
    data = json.loads(capsys.readouterr().out)
    scenario = load_scenario(SCENARIOS / "surge.toml")
    theme_of = {t.id: t.theme for t in scenario.topics}
    planted = [s for s in data["surges"] if s["key"] == "cheque-energie"]
    assert len(planted) == 1 and planted[0]["start"].startswith("2026-03-26")
    assert planted[0]["peak_ratio"] >= 3 and planted[0]["extra_agents"] >= 1
    # everything else belongs to the default scenario's peak: argent-impots-consommation at 2.5x, 17-19 March
    others = [s for s in data["surges"] if s["key"] != "cheque-energie"]
    assert others
    for s in others:
        theme = s["key"] if s["dim"] == "theme" else theme_of[s["key"]]
        assert theme == "argent-impots-consommation" and "2026-03-17" <= s["start"][:10] <= "2026-03-19", s
