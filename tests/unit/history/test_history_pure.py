"""History records and their stored bins, pure: CSV rows, legs from the router's journal, and bins whose
figures equal allo.routing.kpi's on the same engine log (one definition of each KPI)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from allo.history import aggregate as agg
from allo.history.records import UNSTATED, RowError, check_header, legs_from_journal, parse_row, settle_level
from allo.routing import events as ev
from allo.routing.kpi import KpiCollector
from allo.simulation.runner import simulate
from allo.simulation.scenario import load_scenario

PARIS = ZoneInfo("Europe/Paris")
COLUMNS = check_header("arrived_at,queue,outcome,waited_s,talk_s,agent,theme,origin".split(","))


def test_a_good_row_becomes_a_leg():
    leg = parse_row(["2026-03-02T09:15:00+01:00", "n1", "answered", "12.5", "150", "alice", "impots", "3939"],
                    COLUMNS)
    assert (leg.queue, leg.outcome, leg.waited_s, leg.talk_s, leg.agent, leg.theme, leg.origin) == (
        "n1", "answered", 12.5, 150.0, "alice", "impots", "3939")
    assert leg.arrived_at.utcoffset() == dt.timedelta(hours=1)
    assert parse_row(["2026-03-02T09:15:00Z", "n1", "abandoned", "3", "0"], check_header(
        "arrived_at,queue,outcome,waited_s,talk_s".split(","))).talk_s is None


@pytest.mark.parametrize("row, message", [
    (["2026-03-02 09:15", "n1", "answered", "1", "1", "", "", ""], "décalage horaire"),
    (["hier", "n1", "answered", "1", "1", "", "", ""], "date ISO 8601"),
    (["2026-03-02T09:15:00+01:00", "", "answered", "1", "1", "", "", ""], "queue est vide"),
    (["2026-03-02T09:15:00+01:00", "n1", "transferred", "1", "1", "", "", ""], "answered ou abandoned"),
    (["2026-03-02T09:15:00+01:00", "n1", "answered", "-4", "1", "", "", ""], "positif ou nul"),
    (["2026-03-02T09:15:00+01:00", "n1", "answered", "dix", "1", "", "", ""], "n'est pas un nombre"),
    (["2026-03-02T09:15:00+01:00", "n1", "abandoned", "10", "60", "", "", ""], "0 attendu"),
])
def test_bad_rows_are_refused_in_french(row, message):
    with pytest.raises(RowError, match=message):
        parse_row(row, COLUMNS)


def test_a_row_states_its_level_or_leaves_it_to_its_queue():
    columns = check_header("arrived_at,queue,outcome,waited_s,talk_s,level,destination".split(","))
    n2 = parse_row(["2026-03-02T09:15:00+01:00", "ancien-n2", "answered", "45", "300", "2", ""], columns)
    assert n2.level == 2
    n1 = parse_row(["2026-03-02T09:15:00+01:00", "n1", "answered", "5", "300", "", "impots"], columns)
    assert (n1.level, n1.destination) == (UNSTATED, "impots")
    assert settle_level(n1, 1).level == 1
    with pytest.raises(RowError, match="vide pour une ligne de niveau 2"):
        settle_level(n1, 2)
    with pytest.raises(RowError, match="attendu 1 \\(niveau 1\\) ou 2"):
        parse_row(["2026-03-02T09:15:00+01:00", "n1", "answered", "5", "300", "N2", ""], columns)


def test_a_header_without_a_required_column_is_refused():
    with pytest.raises(RowError, match="outcome"):
        check_header(["arrived_at", "queue", "waited_s", "talk_s"])


def _journal(log):
    """The simulator's log (each event, then its decisions) as the router's journal rows."""
    rows = []
    for record in log:
        if isinstance(record, ev.EVENT_TYPES):
            rows.append((record.t, type(record).__name__, ev.to_dict(record), []))
        else:
            rows[-1][3].append(ev.to_dict(record))
    return rows


def test_bins_from_the_journal_give_the_figures_of_the_kpi_collector():
    log: list = []
    scenario = load_scenario()
    simulate(scenario, seed=11, days=4, calls=8000, sink=log.append)
    kpi = KpiCollector()
    kpi.feed_many(log)
    base = dt.datetime.combine(scenario.start, dt.time())  # the simulator's engine epoch
    cols = agg.Columns()
    for leg in legs_from_journal(_journal(log), lambda t: (base + dt.timedelta(seconds=t)).replace(tzinfo=PARIS)):
        local = leg.arrived_at.replace(tzinfo=None)
        cols.add(local, leg.level, leg.outcome, leg.waited_s, leg.talk_s, leg.wrap_s, queue=leg.queue,
                 agent=leg.agent, destination=leg.destination)
    days = {(r[3], r[2]): r[5:] for r in agg.aggregate(cols) if r[0] == "1d" and r[1] == "all"}
    expected = {(base + dt.timedelta(seconds=t)).date(): f for t, f in kpi.series(86400.0) if f["offered"]}
    assert set(d for d, _ in days) == set(expected) and len(expected) >= 3
    last = max(expected)  # calls still live when the run stops: not ended, so not recorded yet
    for day, f in expected.items():
        if day == last:
            continue
        ours = agg.figures(days[(day, "")])
        for k in ("offered", "answered", "abandoned", "abandoned_short", "service_level", "asa_s"):
            assert ours[k] == pytest.approx(f[k]), (day, k)
        assert ours["aht_s"] == pytest.approx(f["aht_n1_s"]), day



def test_the_pure_modules_import_no_django():
    import subprocess
    import sys

    code = ("import sys, allo.history.records, allo.history.aggregate; "
            "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_a_fiche_is_a_level1_dimension_per_day_week_and_month():
    columns = check_header("arrived_at,queue,outcome,waited_s,talk_s,fiche".split(","))
    leg = parse_row(["2026-03-02T09:15:00+01:00", "n1", "answered", "12", "150", " F1234 "], columns)
    assert leg.fiche == "F1234"
    with pytest.raises(RowError, match="fiche dépasse 80 caractères"):
        parse_row(["2026-03-02T09:15:00+01:00", "n1", "answered", "12", "150", "f" * 81], columns)
    cols = agg.Columns()
    local = dt.datetime(2026, 3, 2, 9, 15)
    cols.add(local, 1, "answered", 12, 150, 0, queue="n1", fiche="F1234")
    cols.add(local, 2, "answered", 12, 150, 0, queue="impots", fiche="F1234")  # a transfer's N2 leg: not again
    rows = [r for r in agg.aggregate(cols) if r[1] == "fiche"]
    assert sorted((r[0], r[2], r[5]) for r in rows) == [("1M", "F1234", 1), ("1d", "F1234", 1), ("1w", "F1234", 1)]


def test_a_leg_is_counted_within_the_threshold_of_its_level():
    """An N2 call answered 40 s after its transfer is within the N2 threshold (kpi.SERVICE_LEVEL_N2_S, 60 s),
    an N1 call answered after 40 s is not within the N1 one (20 s); Asterisk's figures take the same T."""
    from allo.routing import kpi

    assert (agg.threshold(1), agg.threshold(2)) == (kpi.SERVICE_LEVEL_S, kpi.SERVICE_LEVEL_N2_S) == (20.0, 60.0)
    cols = agg.Columns()
    local = dt.datetime(2026, 3, 2, 9, 15)
    cols.add(local, 1, "answered", 40, 150, 0, queue="n1", centre="n1-plateforme", agent="alice")
    cols.add(local, 2, "answered", 40, 300, 0, queue="n2-impots", centre="n2-impots", agent="helene")
    cols.add(local, 2, "answered", 61, 300, 0, queue="n2-impots", centre="n2-impots", agent="helene")
    cols.add(local, 2, "abandoned", 45, None, 0, queue="n2-impots", centre="n2-impots")
    days = {(r[1], r[2]): agg.figures(r[5:]) for r in agg.aggregate(cols) if r[0] == "1d"}
    n1, n2 = days[("queue", "n1")], days[("queue", "n2-impots")]
    assert n1["service_level"] == 0.0 and n1["servicelevel_perf"] == 0.0
    assert n2["service_level"] == pytest.approx(1 / 3) and n2["servicelevel_perf"] == 0.5
    assert n2["servicelevel_perf2"] == pytest.approx(2 / 3)  # the abandon after 45 s is within 60 s too
    assert days[("centre", "n2-impots")] == n2 and days[("agent", "helene")]["service_level"] == 0.5
    assert days[("agent", "alice")]["service_level"] == 0.0 and days[("all", "")] == n1  # the line: level 1
