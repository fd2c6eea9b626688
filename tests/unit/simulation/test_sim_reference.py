"""The simulator gives, for fixed seeds, exactly what the runner of commit 34e9191 gave (the 11-slot
list and the if/elif chain, before the event loop was shared with M/M/c): the same figures and the
same engine log to the last record (its SHA-256), on the default scenario, its partner-overflow
variant, web callback requests and M/M/c with and without patience. sim_reference.json was written
by `python tests/unit/simulation/sim_reference.py` on a checkout of 34e9191."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from sim_reference import runs  # beside this file

from allo.routing import events as E
from allo.routing.engine import replay
from allo.routing.kpi import KpiCollector
from allo.simulation.runner import build_config, simulate
from allo.simulation.scenario import load_scenario

RECORDED = json.loads((Path(__file__).parent / "sim_reference.json").read_text())


@pytest.fixture(scope="module")
def today():
    return runs()


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_same_figures_and_log_as_the_recorded_runner(today, case):
    # JSON round trip: the recorded file holds what json gives back (dict keys as strings)
    now = json.loads(json.dumps(today[case]))
    recorded = RECORDED[case]
    assert now.keys() == recorded.keys()
    # every recorded figure (figures added to the KPIs since may be new keys): counts exactly, averages to
    # 1e-12 relative (numpy's AVX-512 paths change their last bits: sim_reference.PLACES)
    for key, value in recorded["figures"].items():
        if isinstance(value, float):
            assert math.isclose(now["figures"][key], value, rel_tol=1e-12), key
        else:
            assert now["figures"][key] == value, key
    assert {k: v for k, v in now.items() if k != "figures"} == {k: v for k, v in recorded.items() if k != "figures"}


def test_the_streaming_figures_equal_an_independent_recomputation_from_the_log():
    """Independent of how the runner feeds its collector: the engine log replayed by a fresh engine
    gives the same decisions, and a fresh collector fed the whole log gives the same figures."""
    log = []
    scn = load_scenario()
    result = simulate(scn, seed=9, days=1, sink=log.append)
    events = [r for r in log if isinstance(r, E.EVENT_TYPES)]
    _, decisions = replay(build_config(scn).to_dict(), events)
    assert decisions == [r for r in log if not isinstance(r, E.EVENT_TYPES)]
    again = KpiCollector.from_log([E.to_dict(r) for r in log], interval_s=result.kpi.width)
    summary = again.summary()
    assert summary["offered"] > 3000 and summary["transfers_by_domain"]
    for key, value in result.summary.items():
        if key != "queue_n1":  # queue samples come from the runner's ticks, not from the log
            assert summary[key] == value, key
