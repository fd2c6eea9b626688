"""The surge detector (allo/surges/detector.py): pure, deterministic, no database."""

from __future__ import annotations

import subprocess
import sys

import pytest

from allo.forecast import staffing as stf
from allo.surges import detector as d

RULE = d.Rule(ratio=3.0, end_ratio=1.5, min_count=10, floor=1.0)


def test_expected_is_the_mean_of_past_weeks_without_the_highest_with_a_floor():
    assert d.expected([4, 6, 5, 100], RULE) == 5.0  # one past surge week does not raise the bar
    assert d.expected([4, 6], RULE) == 5.0  # under three weeks, all count
    assert d.expected([0, 0, 1], RULE) == 1.0  # a rare key: the floor
    assert d.expected([], RULE) == 1.0  # no past week known
    assert d.expected([8], RULE) == 8


def test_chance_is_the_exact_test_of_two_poisson_rates():
    # 12 in the last hour against 2 an hour over two weeks of three hours (12 calls in 6 hours):
    # binomial(24, 1/7) >= 12
    assert d.chance(12, [2, 2], RULE) == pytest.approx(3.6147e-05, rel=1e-3)
    # the same ratio on a longer baseline is less likely to be chance
    assert d.chance(12, [2, 2, 2, 2], RULE) < d.chance(12, [2, 2], RULE)
    # no past week: the Poisson tail at the floor, P(X >= 10 | 1)
    assert d.chance(10, [], RULE) == pytest.approx(1.1142e-07, rel=1e-3)


def test_a_surge_needs_the_ratio_the_minimum_count_and_no_chance():
    # 3 calls instead of 1: ratio 3, but not a surge
    assert not d.assess("f", 3, [1, 1, 1], False, RULE).surging
    # 30 against a usual 10: ratio 3, and not chance over 4 weeks of 3 hours
    r = d.assess("f", 30, [10, 9, 11, 10], False, RULE)
    assert r.surging and r.started and not r.ended
    assert (r.expected, r.ratio) == (29 / 3, 30 / (29 / 3))
    # 29 against 10: just under
    assert not d.assess("f", 29, [10, 10, 10, 10], False, RULE).surging
    # 6 times the usual and over the minimum, but chance explains it (p = 3.6e-5)
    assert not d.assess("f", 12, [2, 2], False, RULE).surging
    assert d.assess("f", 30, [2, 2], False, RULE).surging
    # a fiche never asked before, asked 12 times: against the floor
    r = d.assess("new", 12, [], False, RULE)
    assert r.surging and r.ratio == 12.0


def test_a_surge_ends_below_the_lower_bar_only():
    # still twice the usual: goes on (1.5 x is the end bar, 3 x the start bar; no chance test)
    r = d.assess("f", 20, [10, 10], True, RULE)
    assert r.surging and not r.started and not r.ended
    r = d.assess("f", 14, [10, 10], True, RULE)
    assert not r.surging and r.ended
    # a high ratio on a handful of calls ends too (under half the minimum)
    r = d.assess("f", 4, [], True, RULE)
    assert r.ended


def test_scan_reads_every_key_seen_or_surging_before():
    readings = d.scan({"a": 40, "b": 2}, {"a": [10, 12], "c": [10]}, {"c"}, RULE)
    by_key = {r.key: r for r in readings}
    assert sorted(by_key) == ["a", "b", "c"]
    assert by_key["a"].started and by_key["a"].expected == 11
    assert not by_key["b"].surging
    # a surging key with no count at all in the window ends
    assert by_key["c"].ended and by_key["c"].observed == 0
    # deterministic: the same input, the same readings
    assert readings == d.scan({"b": 2, "a": 40}, {"c": [10], "a": [12, 10]}, ["c"], RULE)


def test_extra_agents_from_erlang_a():
    inputs = stf.Inputs(aht_s=180.0, patience_s=180.0, target=0.8, target_s=20.0, shrinkage=0.0)
    # 100 extra calls an hour on a line taking 300: Erlang A's need with and without them
    expected = stf.need(300, 60, inputs).agents - stf.need(200, 60, inputs).agents
    assert d.extra_agents(300, 100, inputs) == expected
    assert expected >= 5  # 100 calls x 3 min = 5 Erlangs of extra load
    assert d.extra_agents(300, 0, inputs) == 0
    # the line's count is lower than the surge's own (calls counted at wrap-up): the surge is the load
    assert d.extra_agents(0, 50, inputs) == stf.need(50, 60, inputs).agents


@pytest.mark.parametrize(("observed", "exp", "shown"), [(30, 10, 3.0), (35, 10, 3.5), (125, 10, 12.0), (7, 2, 3.5)])
def test_window_ratio_for_people(observed, exp, shown):
    assert d.window_ratio(observed, exp) == shown


def test_detector_imports_without_django():
    code = ("import sys, allo.surges.detector\n"
            "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
            "assert not bad, bad\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
