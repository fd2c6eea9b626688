"""Each N2 queue's service level (KpiCollector's service_level_n2_by_queue): answered within the N2
target (60 s) over the calls offered to that queue less its short abandons, so that a supervisor's
threshold on one centre reads that centre's figure."""

from __future__ import annotations

import pytest

from allo.routing import events as E
from allo.routing.kpi import SERVICE_LEVEL_N2_S, KpiCollector


def test_each_n2_queue_has_its_own_service_level():
    kpi = KpiCollector()
    t = 36_000.0
    log = [E.Transferred(t, f"c{i}", "impots", "n2-impots") for i in range(1, 5)]
    log += [
        E.Assign(t + 10, "c1", "expert-1", "n2-impots", 2, waited=10.0),  # within 60 s
        E.Assign(t + 100, "c2", "expert-2", "n2-impots", 2, waited=100.0),  # late
        E.ContactEnded(t + 2, "c3", "abandoned", 2, waited=2.0, queue="n2-impots"),  # short: not counted
        E.Overflowed(t + 30, "c4", "n2-impots", "n2-consommation"),  # offered to both
        E.Assign(t + 100, "c4", "expert-3", "n2-consommation", 2, waited=70.0),  # late in its second queue
        E.Transferred(t, "c5", "cira", None),  # no open queue: offered to none
        E.Assign(t + 5, "c6", "operateur", "n1", 1, waited=5.0),  # N1: not an N2 queue's
    ]
    kpi.feed_many(log)
    by_queue = kpi.summary()["service_level_n2_by_queue"]
    assert set(by_queue) == {"n2-impots", "n2-consommation"}
    assert by_queue["n2-impots"] == pytest.approx(1 / 3)  # c1 of c1, c2, c4 (c3 left early)
    assert by_queue["n2-consommation"] == 0.0
    # the whole of N2 as before: c1 within, of the four offered less the short abandon
    assert kpi.summary()["service_level_n2"] == pytest.approx(1 / 3)
    assert SERVICE_LEVEL_N2_S == 60.0
