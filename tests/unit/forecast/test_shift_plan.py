"""The week's shift plan (CP-SAT) and its check through the routing engine (allo/forecast/shifts.py)."""

from __future__ import annotations

import numpy as np

from allo.forecast import shifts
from allo.forecast import staffing as stf

INPUTS = stf.Inputs(aht_s=190.0, patience_s=180.0, target=0.8, target_s=20.0, shrinkage=0.3)
TEMPLATES = [shifts.Template("matin", 8, 14, frozenset(range(6)), 360),
             shifts.Template("après-midi", 13, 19, frozenset(range(5)), 360),
             shifts.Template("journée", 9, 17, frozenset(range(5)), 480)]


def week(peak: float = 80.0) -> list[np.ndarray]:
    out = []
    for d in range(7):
        row = np.zeros(24)
        if d < 5:
            row[8:19], row[9:11] = 40.0, peak
        elif d == 5:
            row[9:14] = 20.0
        out.append(row)
    return out


def scheduled(expected):
    return [np.array([stf.need(c, 60, INPUTS).scheduled for c in row]) for row in expected]


def test_the_plan_covers_every_interval_at_least_cost():
    need = scheduled(week())
    plan = shifts.plan_week(need, list(range(7)), TEMPLATES)
    assert plan.status == "optimal"
    for d in range(7):
        assert (plan.on_shift[d] >= need[d]).all()
        assert not plan.short[d].any()
    # no cheaper cover exists: taking one agent off any shift of Monday leaves an interval short
    for name in plan.starts[0]:
        k = next(t for t in TEMPLATES if t.name == name)
        cover = plan.on_shift[0].copy()
        cover[k.start_slot:k.end_slot] -= 1
        assert (cover < need[0]).any()
    assert plan.starts[6] == {}  # Sunday: nobody needed, nobody planned


def test_what_no_template_covers_is_reported_short():
    need = scheduled(week())
    need[0][19] = 3  # 19:00 on Monday: after every template
    plan = shifts.plan_week(need, list(range(7)), TEMPLATES)
    assert plan.short[0][19] == 3 and plan.short[0].sum() == 3


def test_the_simulated_plan_reaches_the_target_and_a_short_one_does_not():
    expected = week()
    plan = shifts.plan_week(scheduled(expected), list(range(7)), TEMPLATES)
    on_phones = [np.floor(c * 0.7 + 1e-9).astype(int) for c in plan.on_shift]
    good = shifts.simulate_plan(expected, on_phones, 60, 190.0, 180.0, seed=3)
    assert good.offered > 2000
    assert good.service_level >= 0.8
    # half the agents on the phones: the engine's callers wait and leave
    half = shifts.simulate_plan(expected, [a // 2 for a in on_phones], 60, 190.0, 180.0, seed=3)
    assert half.service_level < 0.6 and half.abandon_rate > good.abandon_rate
    assert half.per_day[6]["offered"] == 0
