"""History and the « bilan » (issue 12, item 4): `allo history import` (all or nothing, French errors with
line numbers), stored aggregates equal to a recomputation from the records, `allo report` against
hand-computed figures, and the live router's ended calls recorded by `allo history rebuild`."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from allo.history.models import CallRecord, ImportBatch, Queue, Stat

pytestmark = [pytest.mark.django_db, pytest.mark.any_db]  # COPY on PostgreSQL, executemany on SQLite

PARIS = ZoneInfo("Europe/Paris")
HEADER = "arrived_at,queue,outcome,waited_s,talk_s,agent,theme,origin\n"

# Monday 2 March 2026 (UTC+1) and Tuesday 3 March
HAND = HEADER + """\
2026-03-02T09:00:10+01:00,n1,answered,12,150,alice,Impôts,3939
2026-03-02T09:05:00+01:00,n1,abandoned,3,0,,,3939
2026-03-02T09:10:00+01:00,n1,abandoned,15,0,,,
2026-03-02T09:20:00+01:00,n1,answered,40,100,bob,Famille,3939
2026-03-02T08:59:00Z,n1,answered,20,60,alice,Impôts,0800123456
2026-03-03T10:00:00+01:00,n1,abandoned,30,0,,,
2026-03-02T11:00:00+01:00,ancienne-file,answered,5,200,carol,,
"""


def write(tmp_path, text: str, name: str = "appels.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_import_then_report_gives_the_hand_computed_figures(demo, tmp_path):
    out = run("history", "import", str(write(tmp_path, HAND)))
    assert "7 appels importés, du 02/03/2026 au 03/03/2026" in out
    assert "Files créées (historique seulement) : ancienne-file" in out
    assert CallRecord.objects.count() == 7
    assert not Queue.objects.get(code="n1").history_only  # the live N1 queue
    assert Queue.objects.get(code="n1").level == 1
    assert Queue.objects.get(code="ancienne-file").history_only

    data = json.loads(run("report", "--from", "2026-03-02", "--to", "2026-03-03", "--queue", "n1", "--json"))
    monday, tuesday = data["days"]
    # Monday on n1: 5 offered (08:59Z is 09:59 in Paris), 3 answered after 12, 40, 20 s, 2 abandoned after 3 s
    # (short) and 15 s. SL = answered within 20 s (12, 20) / (offered 5 - short abandon 1) = 2/4.
    assert monday == {
        "date": "2026-03-02", "offered": 5, "answered": 3, "abandoned": 2, "abandoned_short": 1,
        "abandon_rate": 0.4, "asa_s": 24.0, "service_level": 0.5, "aht_s": round(310 / 3, 2),
        # Asterisk: answered within 20 s / answered = 2/3; (2 + 2 abandoned within 20 s) / 5
        "servicelevel_perf": round(2 / 3, 4), "servicelevel_perf2": 0.8,
    }
    assert tuesday["offered"] == 1 and tuesday["abandoned"] == 1 and tuesday["service_level"] == 0.0
    assert tuesday["servicelevel_perf"] is None and tuesday["servicelevel_perf2"] == 0.0
    assert data["total"]["offered"] == 6 and data["threshold_s"] == 20.0

    # without --queue: the whole line's level-1 queues, the history-only one included
    line = json.loads(run("report", "--from", "2026-03-02", "--to", "2026-03-02", "--json"))
    assert line["days"][0]["offered"] == 6 and line["days"][0]["answered"] == 4
    text = run("report", "--from", "2026-03-02", "--to", "2026-03-02")
    # a readable table too: the line's SL is 3 within 20 s (12, 20, 5) / (6 - 1 short abandon)
    assert text.splitlines()[1].split()[:5] == ["2026-03-02", "6", "4", "2", "19"] and "60.0 %" in text
    with pytest.raises(CommandError, match="File inconnue : « nulle-part »"):
        run("report", "--from", "2026-03-02", "--to", "2026-03-02", "--queue", "nulle-part")


def test_bad_rows_are_reported_with_their_line_and_nothing_is_written(demo, tmp_path):
    text = HEADER + """\
2026-03-02T09:00:10+01:00,n1,answered,12,150,alice,,
2026-03-02 09:05:00,n1,abandoned,3,0,,,
2026-03-02T09:10:00+01:00,nouvelle-file,answered,15,40,,,
2026-03-02T09:10:00+01:00,n1,perdu,15,0,,,

2026-03-02T09:20:00+01:00,n1,abandoned,4,30,,,
"""
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 ligne\\(s\\) en erreur : rien n'a été importé"):
        call_command("history", "import", str(write(tmp_path, text)), stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("ligne 3 : arrived_at « 2026-03-02 09:05:00 » n'a pas de décalage horaire")
    assert lines[1] == "ligne 5 : outcome « perdu » : attendu answered ou abandoned."
    assert lines[2] == "ligne 7 : talk_s vaut 30 pour un appel abandonné (0 attendu)."
    assert not CallRecord.objects.exists() and not Stat.objects.exists() and not ImportBatch.objects.exists()
    assert not Queue.objects.filter(code="nouvelle-file").exists()  # rolled back with the rest

    with pytest.raises(CommandError, match="1 ligne"):
        call_command("history", "import", str(write(tmp_path, "date,file\n1,2\n", "x.csv")),
                     stdout=io.StringIO(), stderr=err)
    assert "ligne 1 : colonne(s) manquante(s) dans l'en-tête : arrived_at, queue, outcome" in err.getvalue()


def test_a_level_column_counts_n2_legs_within_the_n2_threshold_and_outside_the_line(demo, tmp_path):
    """A previous system's N2 queue: a row's `level` (or its queue's, for a live N2 centre's code) makes its
    legs N2 legs, within 60 s of the transfer, and keeps them out of the line (level-1 legs only);
    `destination` gives the N1 leg's transfer domain; a row contradicting its queue's level is refused."""
    text = HEADER.replace("\n", ",level,destination\n") + """\
2026-03-02T09:00:00+01:00,n1,answered,10,150,alice,,,1,impots
2026-03-02T09:03:00+01:00,ancien-n2,answered,45,400,expert,,,2,
2026-03-02T09:04:00+01:00,ancien-n2,answered,80,300,expert,,,,
2026-03-02T09:05:00+01:00,n2-impots,answered,50,600,expert-impots,,,,
"""
    out = run("history", "import", str(write(tmp_path, text)))
    assert "4 appels importés" in out
    assert Queue.objects.get(code="ancien-n2").level == 2 and Queue.objects.get(code="ancien-n2").history_only
    assert dict(CallRecord.objects.values_list("queue__code", "level").distinct()) == {
        "n1": 1, "ancien-n2": 2, "n2-impots": 2}
    old = json.loads(run("report", "--from", "2026-03-02", "--to", "2026-03-02", "--queue", "ancien-n2", "--json"))
    assert (old["level"], old["threshold_s"]) == (2, 60.0)
    assert old["total"]["offered"] == 2 and old["total"]["service_level"] == 0.5  # 45 s within 60 s, 80 s not
    line = json.loads(run("report", "--from", "2026-03-02", "--to", "2026-03-02", "--json"))
    assert line["total"]["offered"] == 1  # the N1 leg alone
    assert CallRecord.objects.get(queue__code="n1").destination == "impots"

    err = io.StringIO()
    bad = HEADER.replace("\n", ",level,destination\n") + """\
2026-03-03T09:00:00+01:00,n1,answered,10,150,alice,,,2,
2026-03-03T09:01:00+01:00,n2-impots,answered,10,150,alice,,,3,
2026-03-03T09:02:00+01:00,ancien-n2,answered,10,150,expert,,,,impots
"""
    with pytest.raises(CommandError, match="3 ligne\\(s\\) en erreur"):
        call_command("history", "import", str(write(tmp_path, bad, "b.csv")), stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines()[:3] == [
        "ligne 2 : level 2 pour la file « n1 », qui est de niveau 1.",
        "ligne 3 : level « 3 » : attendu 1 (niveau 1) ou 2 (niveau 2, délai compté depuis le transfert).",
        "ligne 4 : destination est le domaine vers lequel un appel de niveau 1 a été transféré : "
        "vide pour une ligne de niveau 2."]


def test_the_same_file_is_not_imported_twice(demo, tmp_path):
    path = write(tmp_path, HAND)
    run("history", "import", str(path))
    err = io.StringIO()
    with pytest.raises(CommandError, match="Rien n'a été importé"):
        call_command("history", "import", str(path), stdout=io.StringIO(), stderr=err)
    assert "Ce fichier a déjà été importé" in err.getvalue()
    assert CallRecord.objects.count() == 7


# two fiches of the demo's knowledge base and one it does not know (a previous system's, kept as text)
FICHES = ["impot-revenu-declaration", "aah", "ancienne-fiche-99"]


def generated_csv(n: int, seed: int) -> str:
    """Calls from 20 March to 10 April 2026: a month's end, a week across it, and the change to summer
    time (29 March); offsets as a previous system writes them (local, or UTC)."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 3, 20, tzinfo=PARIS)
    lines = [HEADER.replace("\n", ",fiche\n")]
    for _ in range(n):
        at = (start + dt.timedelta(seconds=rng.randrange(22 * 86400))).astimezone(PARIS)
        if rng.random() < 0.3:
            at = at.astimezone(dt.UTC)
        answered = rng.random() < 0.8
        waited = round(rng.expovariate(1 / 25), 1)
        talk = round(rng.lognormvariate(5, 0.5), 1) if answered else 0
        agent = rng.choice(["alice", "bob", "carol"]) if answered else ""
        theme = rng.choice(["Impôts", "Famille", ""])
        origin = rng.choice(["3939", "0800123456", ""])
        queue = rng.choice(["n1", "n1", "ancienne-file", "impots-ancien"])
        fiche = rng.choice([*FICHES, ""]) if answered else ""
        lines.append(f"{at.isoformat()},{queue},{'answered' if answered else 'abandoned'},{waited},{talk},"
                     f"{agent},{theme},{origin},{fiche}\n")
    return "".join(lines)


def recompute(records) -> dict:
    """The bins, computed again in plain Python from the stored records (no numpy, no aggregate module)."""
    out: dict = defaultdict(lambda: [0] * 10)
    queues = dict(Queue.objects.values_list("id", "code"))
    centres = dict(Queue.objects.values_list("id", "centre"))
    for r in records:
        local = r.arrived_at.astimezone(PARIS)
        day = local.date()
        quarter = (local.hour * 60 + local.minute) // 15
        t = 20 if r.level == 1 else 60  # each level's service level threshold (N2: from the transfer)
        c = [1, r.outcome == "answered", r.outcome == "answered" and r.waited_s <= t,
             r.outcome == "abandoned", r.outcome == "abandoned" and r.waited_s < 5,
             r.outcome == "abandoned" and r.waited_s <= t, r.waited_s if r.outcome == "answered" else 0,
             r.talk_s is not None, r.talk_s or 0, r.wrap_s]
        keys = [("queue", queues[r.queue_id]), ("centre", centres[r.queue_id]), ("agent", r.agent)]
        if r.level == 1:
            keys += [("all", ""), ("theme", r.theme), ("origin", r.origin), ("fiche", r.fiche),
                     ("destination", r.destination)]
        for dim, key in keys:
            if dim != "all" and not key:
                continue
            periods = [("1d", day, 0), ("1w", day - dt.timedelta(days=day.weekday()), 0),
                       ("1M", day.replace(day=1), 0)]
            if dim in ("all", "queue", "centre"):
                periods += [("15m", day, quarter), ("1h", day, local.hour)]
            for grain, period, slot in periods:
                b = out[(grain, dim, key, period, slot)]
                for i, x in enumerate(c):
                    b[i] += x
    return out


def test_stored_aggregates_equal_a_recomputation_from_the_records(demo, tmp_path):
    run("history", "import", str(write(tmp_path, generated_csv(3000, seed=4))))
    assert CallRecord.objects.count() == 3000
    expected = recompute(CallRecord.objects.all())
    stored = {(s.grain, s.dim, s.key, s.period, s.slot): [s.offered, s.answered, s.answered_t, s.abandoned,
                                                           s.abandoned_short, s.abandoned_t, s.wait_s, s.handled,
                                                           s.talk_s, s.wrap_s]
              for s in Stat.objects.all()}
    assert set(stored) == set(expected)
    for k, counters in expected.items():
        assert stored[k] == pytest.approx(counters, abs=0.01), k
    # the week across March's end and the month of March are complete (every record of them counted)
    assert {k[3] for k in stored if k[0] == "1M"} == {dt.date(2026, 3, 1), dt.date(2026, 4, 1)}
    # a rebuild of some days changes nothing
    from allo.history.services import rebuild

    rebuild(dt.date(2026, 3, 28), dt.date(2026, 4, 2))
    again = {(s.grain, s.dim, s.key, s.period, s.slot): s.offered for s in Stat.objects.all()}
    assert again == {k: v[0] for k, v in stored.items()}


def test_a_fiche_column_gives_bins_per_fiche_that_sum_to_the_calls_citing_one(demo, tmp_path):
    run("history", "import", str(write(tmp_path, generated_csv(800, seed=5))))
    cited = CallRecord.objects.filter(level=1).exclude(fiche="")
    per_fiche: dict[str, int] = defaultdict(int)
    for fiche in cited.values_list("fiche", flat=True):
        per_fiche[fiche] += 1
    assert set(per_fiche) == set(FICHES)  # the one the knowledge base does not know too
    for grain in ("1d", "1w", "1M"):
        bins = Stat.objects.filter(dim="fiche", grain=grain)
        assert sum(bins.values_list("offered", flat=True)) == cited.count(), grain
        sums: dict[str, int] = defaultdict(int)
        for key, offered in bins.values_list("key", "offered"):
            sums[key] += offered
        assert sums == per_fiche, grain
    assert not Stat.objects.filter(dim="fiche", grain__in=["15m", "1h"]).exists()  # per day, week and month


def test_a_fiche_cell_is_stripped_and_limited(demo, tmp_path):
    header = HEADER.replace("\n", ",fiche\n")
    text = header + "2026-03-02T09:00:10+01:00,n1,answered,12,150,alice,,, aah \n"
    run("history", "import", str(write(tmp_path, text)))
    assert CallRecord.objects.get().fiche == "aah"
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 ligne"):
        call_command("history", "import", str(write(tmp_path, header + "2026-03-03T09:00:10+01:00,n1,answered,12,150,,,,"
                                                    + "f" * 81 + "\n", "long.csv")), stdout=io.StringIO(), stderr=err)
    assert "ligne 2 : fiche dépasse 80 caractères." in err.getvalue()


def test_the_live_routers_ended_calls_are_recorded_and_aggregated_idempotently(demo, monkeypatch):
    """Calls through the telephony service and the router, with the engine's clock set by the test:
    `allo history rebuild` records each ended call once (a second run changes nothing) and the report
    reads them."""
    from allo.contact_centre import services
    from allo.contact_centre.router import config as cfg
    from allo.contact_centre.router import service

    monkeypatch.setenv("ALLO_CC_HOURS", "always")
    clock = [cfg.t_of(dt.datetime(2026, 3, 2, 10, 0))]
    monkeypatch.setattr(cfg, "now_t", lambda: clock[0])
    router = service.Router(push=False)
    router.load()

    def at(seconds: float, action=None, *args):
        """At 10:00 + seconds, an input written then applied by the router."""
        clock[0] = cfg.t_of(dt.datetime(2026, 3, 2, 10, 0)) + seconds
        result = action(*args) if action else None
        while router.step():
            pass
        return result

    from allo.accounts.models import User

    profile = cfg.agent_profile(User.objects.get(username="operateur"))
    at(0, lambda: services.agent_action("operateur", "login", profile=profile))
    answered, _ = at(1, services.create_call, "+33611223344", "3939")  # answered at once
    waiting, _ = at(2, services.create_call, "+33611223355", "3939")
    at(32, services.hangup, waiting)  # hangs up after 30 s in the queue
    at(101, services.end_call, "operateur", answered)  # 100 s of talk
    at(121, services.end_wrap_up, "operateur")  # 20 s of wrap-up
    from allo.contact_centre.models import WrapUp

    # the operator cited two fiches: the call counts once, under the first
    WrapUp.objects.create(contact_id=answered, level=1, fiches=["a", "b"], outcome="answered")

    out = run("history", "rebuild", "--from", "2026-03-02", "--to", "2026-03-02")
    assert "2 appels de la plateforme enregistrés" in out
    rows = {r.key.split(":")[0]: r for r in CallRecord.objects.filter(source="live")}
    a, w = rows[answered], rows[waiting]
    assert (a.outcome, a.waited_s, a.talk_s, a.wrap_s, a.agent, a.origin, a.queue.code) == (
        "answered", 0.0, 100.0, 20.0, "operateur", "3939", "n1")
    assert (w.outcome, w.waited_s, w.talk_s) == ("abandoned", 30.0, None)
    assert (a.fiche, w.fiche) == ("a", "")
    run("history", "rebuild", "--from", "2026-03-02", "--to", "2026-03-02")  # idempotent
    assert CallRecord.objects.filter(source="live").count() == 2
    day = json.loads(run("report", "--from", "2026-03-02", "--to", "2026-03-02", "--json"))["days"][0]
    assert (day["offered"], day["answered"], day["abandoned"], day["service_level"], day["aht_s"]) == (
        2, 1, 1, 0.5, 120.0)
    assert list(Stat.objects.filter(dim="fiche", grain="1d").values_list("key", "offered")) == [("a", 1)]


@pytest.mark.parametrize("username, allowed", [("superviseur", True), ("operateur", False),
                                               ("expert-impots", False), ("redacteur", False)])
def test_the_bilan_page_and_its_csv_are_for_supervisors(demo, tmp_path, client, username, allowed):
    from allo.accounts.models import User

    run("history", "import", str(write(tmp_path, HAND)))
    client.force_login(User.objects.get(username=username))
    page = client.get("/supervision/bilan/?mois=2026-03&file=n1")
    export = client.get("/supervision/bilan.csv?mois=2026-03&file=n1")
    if not allowed:
        assert page.status_code == 403 and export.status_code == 403
        return
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and 'role="img"' in html
    assert "Appels par jour, mars 2026, file n1" in html
    # Monday 2 March, as above
    assert "lun. 02/03/2026</th><td>5</td><td>3</td><td>2</td><td>24\u202fs</td><td>50,0\u202f%</td>" in html
    rows = export.content.decode("utf-8-sig").splitlines()
    assert export["Content-Disposition"] == 'attachment; filename="bilan-2026-03-n1.csv"'
    assert rows[0] == "Bilan par jour, mars 2026, file n1"  # then its header; the other tables follow (test_bilan_exports)
    assert rows[3] == "2026-03-02;5;3;2;24;50,0 %;103,33;66,7 %;80,0 %" and rows[33].startswith("Total;6;")
    # a bad month or queue is said, not a crash
    assert "File inconnue" in client.get("/supervision/bilan/?file=nulle").content.decode()


def test_the_bilan_is_refused_to_the_anonymous(client):
    r = client.get("/supervision/bilan/")
    assert r.status_code in (302, 403)
