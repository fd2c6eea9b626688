from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allo.simulation.erlang import (
    agents_needed,
    erlang_a_figures,
    erlang_b,
    erlang_c,
    erlang_c_figures,
)


def test_erlang_b_table_values():
    # classic Erlang B table entries
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_b(5, 2.0) == pytest.approx(0.0367, abs=5e-5)
    assert erlang_b(10, 5.0) == pytest.approx(0.0184, abs=5e-5)
    assert erlang_b(0, 3.0) == 1.0


def test_erlang_c_exact_values():
    assert erlang_c(1, 0.7) == pytest.approx(0.7)  # M/M/1: P(wait) = rho
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)  # 2 agents of 3 busy on average
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(5, 5.0) == 1.0 and erlang_c(5, 0.0) == 0.0


@pytest.mark.parametrize(
    ("agents", "p_wait", "asa"),
    # the published worked example: 100 calls per 30 min, AHT 180 s (10 Erlangs)
    [(11, 0.6821, 122.8), (12, 0.4494, 40.4), (13, 0.2853, 17.1), (14, 0.1741, 7.8), (15, 0.1020, 3.7)],
)
def test_erlang_c_textbook_worked_example(agents, p_wait, asa):
    f = erlang_c_figures(200, 180, agents, 20)
    assert f.p_wait == pytest.approx(p_wait, abs=5e-5)
    assert f.asa_s == pytest.approx(asa, abs=0.05)
    # service level: 1 - C exp(-(N - A) T / AHT)
    assert f.service_level == pytest.approx(1 - f.p_wait * math.exp(-(agents - 10) * 20 / 180))
    assert f.occupancy == pytest.approx(10 / agents)


def test_large_centres_are_numerically_stable():
    b = erlang_b(1000, 950.0)
    assert 0 < b < 0.01
    c = erlang_c(1000, 950.0)
    assert 0 < c < 0.2 and math.isfinite(c)
    f = erlang_a_figures(950 * 3600 / 180, 180, 1000, 20, 120)
    assert 0 < f.p_wait < 1 and 0 <= f.abandon_rate < 0.05


def test_overload_has_no_finite_erlang_c_answer():
    f = erlang_c_figures(3600, 60, 50, 20)  # 60 Erlangs on 50 agents
    assert f.p_wait == 1.0 and math.isinf(f.asa_s)
    # with abandonment the system is stable and the abandon rate absorbs the overload
    a = erlang_a_figures(3600, 60, 50, 20, 60)
    assert a.abandon_rate == pytest.approx(1 - 50 / 60, abs=0.05)
    assert a.occupancy <= 1.0


def test_erlang_a_in_deep_overload_with_patient_callers_stays_finite():
    # 100 Erlangs on 10 agents, 1,000 s patience: the queue tail peaks ~900 callers out
    f = erlang_a_figures(3600, 100, 10, 20, 1000)
    assert f.p_wait == pytest.approx(1.0)
    assert f.abandon_rate == pytest.approx(1 - 10 / 100, abs=1e-3)
    assert f.occupancy == pytest.approx(1.0, abs=1e-3)
    assert math.isfinite(f.asa_s) and f.service_level < 1e-6
    # near-infinite patience in overload: the fluid limit
    g = erlang_a_figures(3600, 100, 10, 20, 1e12)
    assert g.abandon_rate == pytest.approx(0.9) and g.p_wait == 1.0


def test_erlang_a_tends_to_erlang_c_with_infinite_patience():
    c = erlang_c_figures(480, 60, 10, 20)
    a = erlang_a_figures(480, 60, 10, 20, 1e9)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-5)
    assert a.asa_s == pytest.approx(c.asa_s, rel=1e-4)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-5)


def test_erlang_a_matches_a_brute_force_birth_death_chain():
    lam, mu, theta, c = 480 / 3600, 1 / 60, 1 / 120, 10
    # unnormalised stationary law of M/M/c+M, truncated far in the tail
    p = [1.0]
    for n in range(1, 400):
        death = min(n, c) * mu + max(0, n - c) * theta
        p.append(p[-1] * lam / death)
    total = sum(p)
    p_wait = sum(p[c:]) / total
    p_abandon = sum((n - c) * theta * p[n] for n in range(c, 400)) / total / lam
    a = erlang_a_figures(480, 60, c, 20, 120)
    assert a.p_wait == pytest.approx(p_wait, rel=1e-9)
    assert a.abandon_rate == pytest.approx(p_abandon, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(10, 2000), st.floats(30, 600), st.integers(1, 80), st.floats(5, 600))
def test_erlang_a_figures_are_probabilities(rate, aht, agents, patience):
    f = erlang_a_figures(rate, aht, agents, 20, patience)
    for value in (f.p_wait, f.service_level, f.abandon_rate, f.occupancy):
        assert -1e-9 <= value <= 1 + 1e-9
    assert f.asa_s >= 0 and f.service_level <= 1 - f.abandon_rate + 1e-9


@settings(max_examples=60, deadline=None)
@given(st.floats(0.1, 80), st.integers(1, 120))
def test_more_agents_never_hurt(load, agents):
    assert erlang_c(agents + 1, load) <= erlang_c(agents, load) + 1e-12
    assert erlang_b(agents + 1, load) <= erlang_b(agents, load) + 1e-12


def test_agents_needed_reaches_the_target_with_the_fewest_agents():
    n = agents_needed(200, 180, 20, 0.8)
    assert n == 14  # 13 agents give 79.6 %, 14 give 88.8 %
    assert agents_needed(0, 180, 20, 0.8) == 0
    # with patience (Erlang A) fewer agents reach the same target
    assert agents_needed(200, 180, 20, 0.8, patience_s=120) <= n


def test_erlang_command_json_keys(capsys):
    import json

    from allo.simulation.cli import erlang_main

    assert erlang_main(["--rate-per-hour", "200", "--aht", "180", "--agents", "13", "--target-seconds", "20",
                        "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"p_wait", "asa_s", "service_level", "occupancy"} <= set(data)
    assert data["p_wait"] == pytest.approx(0.2853, abs=5e-5) and data["model"] == "erlang_c"
    assert erlang_main(["--rate-per-hour", "200", "--aht", "180", "--agents", "13", "--patience", "120",
                        "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "erlang_a" and 0 < data["abandon_rate"] < 0.1
    # overload: no finite ASA, printed as null rather than an invalid JSON Infinity
    assert erlang_main(["--rate-per-hour", "400", "--aht", "180", "--agents", "13", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["asa_s"] is None
    with pytest.raises(SystemExit) as exc:
        erlang_main(["--rate-per-hour", "-1", "--aht", "180", "--agents", "13"])
    assert exc.value.code == 2
