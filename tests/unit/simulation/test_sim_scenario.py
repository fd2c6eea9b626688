from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import pytest

from allo.simulation.cli import simulate_main, staffing_main
from allo.simulation.scenario import DEFAULT_SCENARIO, SCENARIOS, ScenarioError, load_scenario, parse_scenario
from allo.simulation.traffic import TrafficModel, lognormal_mean


def default_data() -> dict:
    with open(DEFAULT_SCENARIO, "rb") as f:
        return tomllib.load(f)


def test_default_scenario_models_the_seed():
    scn = load_scenario()
    assert scn.n1_agents == 60
    assert {c.domain for c in scn.n2_centres} == {"impots", "consommation", "cira"}
    assert sum(c.agents for c in scn.n2_centres if c.domain == "cira") == 27  # 9 centres x 3
    assert [c.agents for c in scn.n2_centres if c.domain != "cira"] == [12, 6]
    assert lognormal_mean(scn.talk1_median, scn.talk1_p90) + scn.wrap1 == pytest.approx(194, abs=1)
    traffic = TrafficModel(scn)
    assert traffic.expected_total == pytest.approx(100_000, rel=0.05)  # a 30-day month
    year = TrafficModel(scn, days=365)
    assert 1.1e6 < year.expected_total < 1.25e6


def test_topic_mix_is_shipped_with_the_product():
    rows = list(csv.DictReader(open(SCENARIOS / "topics.csv", encoding="utf-8")))
    assert list(rows[0]) == ["id", "theme", "level2", "popularity"]
    assert len(rows) > 100 and {r["level2"] for r in rows} <= {"", "impots", "consommation", "cira"}
    assert "shared" not in load_scenario().source


def test_transfer_share_is_calibrated():
    scn = load_scenario()
    traffic = TrafficModel(scn)
    weights = traffic.topic_weights
    assert float((weights * traffic.p_transfer).sum()) == pytest.approx(0.15)
    for topic, p in zip(scn.topics, traffic.p_transfer, strict=True):
        assert (p > 0) == bool(topic.level2)


def test_holidays_and_sundays_have_no_calls():
    scn = load_scenario()
    traffic = TrafficModel(scn, days=400)
    import datetime as dt

    assert traffic.expected_calls(dt.date(2026, 5, 1)) == 0  # Labour Day
    assert traffic.expected_calls(dt.date(2026, 3, 8)) == 0  # Sunday
    monday, wednesday = traffic.expected_calls(dt.date(2026, 3, 9)), traffic.expected_calls(dt.date(2026, 3, 11))
    assert monday / wednesday == pytest.approx(1.2)
    # the topical peak raises the theme's days
    assert traffic.expected_calls(dt.date(2026, 3, 17)) > traffic.expected_calls(dt.date(2026, 3, 17), False)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["n1"].__setitem__("agents", "sixty"), "n1.agents"),
        (lambda d: d["n1"].__setitem__("agents", 0), "n1.agents"),
        (lambda d: d["n1"].pop("talk_median_s"), "n1.talk_median_s"),
        (lambda d: d["n1"].__setitem__("hours", {"lun": [["08:00", "19:00"]]}), "n1.hours"),
        (lambda d: d["n1"].__setitem__("staffing", "magic"), "n1.staffing"),
        (lambda d: d["traffic"]["peaks"][0].__setitem__("theme", "nope"), "traffic.peaks[0].theme"),
        (lambda d: d["traffic"].__setitem__("weekday_profile", [1, -2]), "traffic.weekday_profile[1]"),
        (lambda d: d["simulation"].__setitem__("start", "2026-13-01"), "simulation.start"),
        (lambda d: d["n2"]["centres"][0].pop("domain"), "n2.centres[0].domain"),
        (lambda d: d["n2"].__setitem__("transfer_share", 0.9), "n2.transfer_share"),
        (lambda d: d.pop("n1"), "[n1]"),
    ],
)
def test_invalid_scenario_names_the_field(mutate, field):
    data = default_data()
    mutate(data)
    with pytest.raises(ScenarioError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario(data)


def test_invalid_scenario_file_exits_2_with_a_clear_message(tmp_path: Path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_SCENARIO.read_text().replace("agents = 60", "agents = -3"))
    assert simulate_main(["--scenario", str(bad), "--json"]) == 2
    err = capsys.readouterr().err
    assert "n1.agents" in err and "must be >= 1" in err
    broken = tmp_path / "broken.toml"
    broken.write_text("[simulation\n")
    assert simulate_main(["--scenario", str(broken)]) == 2
    assert "invalid TOML" in capsys.readouterr().err
    assert simulate_main(["--scenario", str(tmp_path / "missing.toml")]) == 2
    assert staffing_main(["--scenario", str(bad)]) == 2


def test_staffing_per_interval(capsys):
    import json

    assert staffing_main(["--date", "2026-03-09", "--interval", "60", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "erlang_c" and data["interval_minutes"] == 60
    starts = [r["start"] for r in data["intervals"]]
    assert starts[0] == "08:00" and starts[-1] == "18:00"
    busiest = max(data["intervals"], key=lambda r: r["calls_per_hour"])
    assert busiest["start"] == "10:00" and 40 <= busiest["agents"] <= 60  # README: ~43-49 at the peak
    assert all(r["service_level"] >= 0.8 for r in data["intervals"])
    assert staffing_main(["--date", "2026-03-08"]) == 0  # a Sunday
    assert "closed all day" in capsys.readouterr().out


def test_allo_entry_point_exits_2_on_an_invalid_scenario(tmp_path: Path):
    """Through the real `allo` dispatcher, in a fresh interpreter (no Django loaded for pure commands)."""
    import subprocess
    import sys

    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_SCENARIO.read_text().replace('staffing = "erlang"', 'staffing = "magic"'))
    code = ("import sys; from allo.cli import main; rc = main(['simulate', '--scenario', sys.argv[1]]); "
            "assert 'django' not in sys.modules; sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code, str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "n1.staffing" in result.stderr and "magic" in result.stderr


def test_scenarios_can_extend_another(tmp_path: Path):
    partner = load_scenario(SCENARIOS / "topical-peak-partner.toml")
    assert partner.overflow_after_s == 15 and partner.partner_agents == 10
    assert partner.n1_agents == 60 and len(partner.n2_centres) == 11  # the rest from default.toml
    child = tmp_path / "child.toml"
    child.write_text('extends = "default.toml"\n[n1]\nagents = 70\n[traffic]\nweekday_factors = { mon = 1.5 }\n')
    scn = load_scenario(child)
    assert scn.n1_agents == 70 and scn.weekday_factors[0] == 1.5 and scn.weekday_factors[4] == 0.9  # tables merge
    loop = tmp_path / "loop.toml"
    loop.write_text('extends = "loop.toml"\n')
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(loop)
