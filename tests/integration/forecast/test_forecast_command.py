"""`allo forecast` on imported call records (issue 12, item 5): a forecast per interval for future days
with its intervals, learnt from the stored bins; French errors for bad input."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_forecast_learns_the_shape_of_the_imported_month(imported):
    data = json.loads(run("forecast", "--from", "2026-04-06", "--to", "2026-04-13", "--json"))
    assert data["history"] == {"from": "2026-03-02", "to": "2026-04-03", "days": 33}
    days = {d["date"]: d for d in data["days"]}
    # the data's shape: nothing before 09:00 or after 12:00, nothing at weekends, Monday twice a Tuesday
    starts = {row["start"][11:16] for row in data["intervals"]}
    assert starts == {"09:00", "10:00", "11:00"}
    assert not days["2026-04-11"]["open"] and days["2026-04-11"]["expected"] == 0
    assert 1.6 < days["2026-04-13"]["expected"] / days["2026-04-08"]["expected"] < 2.5
    assert 40 < days["2026-04-08"]["expected"] < 80  # a mid-week day: 3 x 20
    for row in data["intervals"]:
        assert row["low"] <= row["expected"] <= row["high"]
        assert row["start"].endswith("+02:00")
    # the history holds no public holiday: Easter Monday is taken as a Sunday (closed here)
    assert data["model"]["holidays_unseen"]
    assert days["2026-04-06"]["kind"] == "holiday" and not days["2026-04-06"]["open"]


def test_forecast_per_quarter_hour_and_as_text(imported):
    data = json.loads(run("forecast", "--from", "2026-04-08", "--to", "2026-04-08", "--interval", "15", "--json"))
    assert len(data["intervals"]) == 12  # 09:00 to 11:45
    hourly = json.loads(run("forecast", "--from", "2026-04-08", "--to", "2026-04-08", "--json"))
    assert sum(r["expected"] for r in data["intervals"]) == pytest.approx(hourly["total"], rel=0.02)
    text = run("forecast", "--from", "2026-04-08", "--to", "2026-04-08")
    assert "mercredi 08/04/2026" in text and "intervalles à 90 %" in text


@pytest.mark.parametrize("args, message", [
    (("--from", "2026-04-10", "--to", "2026-04-08"), "la fin (08/04/2026) précède le début (10/04/2026)"),
    (("--from", "2026-04-08", "--to", "2026-04-09", "--queue", "nulle-part"), "File inconnue : « nulle-part »"),
    (("--from", "2026-04-08", "--to", "2026-04-09", "--interval", "20"), "Intervalle invalide : 20 min"),
    (("--from", "08/04/2026", "--to", "2026-04-09"), "Date invalide : « 08/04/2026 »"),
])
def test_bad_input_is_refused_in_french(imported, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("forecast", *args)


def test_no_history_is_refused_in_french(demo):
    with pytest.raises(CommandError, match="Aucun historique d'appels pour la ligne"):
        run("forecast", "--from", "2026-04-08", "--to", "2026-04-09")


# ---------------------------------------------------------------------------------------------- staffing

def test_staffing_uses_the_measured_handle_time_and_patience(imported, tmp_path, capsys):
    from allo.cli import main
    from allo.history.models import CallRecord
    from allo.simulation import erlang

    assert main(["staffing", "--from", "2026-04-08", "--to", "2026-04-13", "--json"]) == 0  # routed to Django
    data = json.loads(capsys.readouterr().out)
    s = data["staffing"]
    assert s["target_s"] == 20.0 and s["target"] == 0.8 and s["shrinkage"] == 0.3 and s["model"] == "erlang_a"
    m = s["measured"]
    assert m["aht_s"] == 180.0  # every answered call talked 180 s, no wrap-up
    # the patience: all waits over the abandons (answered callers' patience is censored by the answer)
    waits = [w for (w,) in CallRecord.objects.values_list("waited_s")]
    abandons = list(CallRecord.objects.filter(outcome="abandoned").values_list("waited_s", flat=True))
    assert m["patience_s"] == pytest.approx(sum(waits) / len(abandons), abs=0.1)
    assert m["mean_time_to_abandon_s"] == pytest.approx(sum(abandons) / len(abandons), abs=0.1)
    for row in data["intervals"]:
        rate = row["expected"]  # hourly intervals: calls an hour
        assert row["agents"] == erlang.agents_needed(round(rate, 1), 180.0, 20.0, 0.8, m["patience_s"])
        assert row["scheduled"] == -(-row["agents"] * 10 // 7)  # ceil(agents / 0.7)
        assert row["service_level"] >= 0.8
    days = {d["date"]: d for d in data["days"]}
    assert days["2026-04-13"]["peak_agents"] > days["2026-04-08"]["peak_agents"]  # Monday, twice the calls
    assert days["2026-04-11"]["peak_agents"] == 0


def test_staffing_follows_the_administrators_target(imported):
    from allo.contact_centre.models import QueueThreshold
    from allo.org.models import Centre

    base = json.loads(run("staffing", "--from", "2026-04-08", "--to", "2026-04-08", "--json"))
    centre = Centre.objects.filter(kind="n1").first()
    QueueThreshold.objects.update_or_create(centre=centre, defaults={"service_level_min": 95})
    strict = json.loads(run("staffing", "--from", "2026-04-08", "--to", "2026-04-08", "--shrinkage", "0",
                            "--json"))
    assert strict["staffing"]["target"] == 0.95
    assert strict["staffing"]["target_source"] == "seuil de la file (administration)"
    assert sum(r["agents"] for r in strict["intervals"]) > sum(r["agents"] for r in base["intervals"])
    assert all(r["scheduled"] == r["agents"] for r in strict["intervals"])  # no shrinkage
    with pytest.raises(CommandError, match="Part invalide"):
        run("staffing", "--from", "2026-04-08", "--to", "2026-04-08", "--shrinkage", "1,5")
