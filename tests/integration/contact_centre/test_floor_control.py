"""Live floor control (issue 12, item 2): every agent on the floor, thresholds, supervisors' actions
through the router (journaled, replayed the same), and nothing stuck (the `lost` timer, no ghost)."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from allo.accounts.models import User
from allo.contact_centre import services
from allo.contact_centre.models import AgentStatus, CallerCardView, Contact, QueueThreshold, RouterInput
from allo.contact_centre.router import config as cfg
from allo.contact_centre.router.service import Router

pytestmark = [pytest.mark.django_db, pytest.mark.any_db]  # the projections are raw SQL upserts: both databases


def drain(router) -> int:
    """Apply every pending input (defined here: which module `conftest` names depends on the order
    folders are collected in)."""
    n = 0
    while k := router.step():
        n += k
    return n


def staff(username):
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


def ghost_call(router, caller="+33611223344"):
    """A call the operator answered and whose hang-up never comes."""
    call_id, _ = services.create_call(caller, "3939")
    staff("operateur").post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    assert Contact.objects.get(pk=call_id).state == "connected"
    return call_id


def test_a_supervisor_ends_a_ghost_call_through_the_router_and_the_audit_shows_it(router):
    call_id = ghost_call(router)
    staff("operateur").post(reverse("desk-state"), {"action": "logout"})  # waits for the end of the call
    drain(router)
    assert AgentStatus.objects.get(pk="operateur").state == "on_call"
    supervisor = staff("superviseur")

    r = supervisor.post(reverse("supervision-floor-action"), {"action": "end_call", "call_id": call_id})
    assert r.status_code == 302

    # a journal input like any other, with who asked; nothing changed before the router applied it
    inp = RouterInput.objects.get(type="ContactLost")
    assert inp.payload == {"contact": call_id, "reason": "supervision", "by": "superviseur"}
    drain(router)
    contact = Contact.objects.get(pk=call_id)
    assert (contact.state, contact.outcome) == ("lost", "lost")
    assert AgentStatus.objects.get(pk="operateur").state == "offline"  # the pending logout applied
    audit = CallerCardView.objects.get(action="end_call")
    assert (audit.user.username, audit.contact, audit.agent) == ("superviseur", call_id, "operateur")
    assert services.live_stats()["today"]["lost"] == 1
    page = unescape(supervisor.get(reverse("supervision-floor")).content.decode())
    assert "Fin d'appel forcée" in page and call_id in page
    # the same call cannot be ended twice
    r = supervisor.post(reverse("supervision-floor-action"), {"action": "end_call", "call_id": call_id}, follow=True)
    assert "Cet appel est déjà terminé." in unescape(r.content.decode())
    assert RouterInput.objects.filter(type="ContactLost").count() == 1


def test_forced_logout_and_pause_of_stuck_agents_are_journaled_audited_and_replayed(router):
    call_id = ghost_call(router)
    services.end_call("operateur", call_id)  # ends the call; the desk never ends the wrap-up
    drain(router)
    assert AgentStatus.objects.get(pk="operateur").state == "wrap_up"
    supervisor = staff("superviseur")
    supervisor.post(reverse("supervision-floor-action"), {"action": "pause", "agent": "operateur"})
    drain(router)
    status = AgentStatus.objects.get(pk="operateur")
    assert (status.state, status.reason) == ("paused", "Mise en pause par la supervision")
    supervisor.post(reverse("supervision-floor-action"), {"action": "logout", "agent": "operateur"})
    drain(router)
    assert AgentStatus.objects.get(pk="operateur").state == "offline"
    assert list(CallerCardView.objects.exclude(action="").order_by("pk").values_list("action", "agent")) == [
        ("pause", "operateur"), ("logout", "operateur")]
    forced = RouterInput.objects.filter(type__in=["AgentPause", "AgentLogout"], payload__by="superviseur")
    assert forced.count() == 2 and all(i.payload["force"] for i in forced)
    # a replay of the journal alone rebuilds the same state
    from allo.contact_centre.models import RouterSnapshot

    RouterSnapshot.objects.all().delete()
    reborn = Router(push=False)
    reborn.load()
    assert reborn.engine.snapshot() == router.engine.snapshot()
    # an agent already logged out: refused in French, nothing journaled
    r = supervisor.post(reverse("supervision-floor-action"), {"action": "logout", "agent": "operateur"}, follow=True)
    assert "Cet agent n'est pas connecté." in unescape(r.content.decode())
    assert CallerCardView.objects.exclude(action="").count() == 2


def test_a_call_with_no_sign_of_life_is_lost_by_the_engines_timer(router, monkeypatch):
    call_id = ghost_call(router)
    lost = [t for t in router.timers if t[1] == "lost"]
    assert len(lost) == 1 and lost[0][0] == pytest.approx(Contact.objects.get(pk=call_id).offered_t
                                                           + cfg.lost_after(), abs=1)
    later = lost[0][0] + 1
    monkeypatch.setattr(cfg, "now_t", lambda: later)
    drain(router)
    assert RouterInput.objects.filter(type="TimerFired", payload__kind="lost", seq__isnull=False).count() == 1
    assert Contact.objects.get(pk=call_id).outcome == "lost"
    assert AgentStatus.objects.get(pk="operateur").state == "available"
    assert services.live_stats()["agents"]["on_call"] == 0


def test_the_floor_lists_every_agent_with_its_day(router):
    op = staff("operateur")
    call_id = ghost_call(router)
    services.end_call("operateur", call_id)
    drain(router)
    services.end_wrap_up("operateur")
    drain(router)
    op.post(reverse("desk-state"), {"action": "pause", "reason": "Repas"})
    drain(router)
    status = AgentStatus.objects.get(pk="operateur")
    assert (status.handled, status.day, status.queues) == (1, cfg.local_date(cfg.now_t()), "n1")
    page = staff("superviseur").get(reverse("supervision-floor")).content.decode()
    row = page[page.index('data-agent="operateur"'):]
    row = row[:row.index("</tr>")]
    assert "En pause" in row and "Repas" in row and 'data-f="handled">1<' in row
    live = services.live_stats()
    n1 = next(q for q in live["queues"] if q["name"] == "n1")
    assert (n1["staffed"], n1["ready"]) == (1, 0)
    # the live part alone, fetched again at each push
    part = staff("superviseur").get(reverse("supervision-floor") + "?partiel=1").content.decode()
    assert "<html" not in part and 'data-agent="operateur"' in part
    assert staff("operateur").get(reverse("supervision-floor")).status_code == 403


def test_thresholds_set_in_the_admin_colour_the_wallboard_and_raise_an_alert(router):
    from allo.org.models import Centre

    n1 = Centre.objects.get(kind="n1")
    QueueThreshold.objects.all().delete()  # from a line without thresholds (the demo seeds some)
    admin = staff("admin")
    r = admin.post(reverse("admin:contact_centre_queuethreshold_add"),
                   {"centre": n1.pk, "waiting_max": 0, "longest_wait_max_s": "", "service_level_min": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert QueueThreshold.objects.get(centre=n1).waiting_max == 0
    supervisor = staff("superviseur")
    page = supervisor.get(reverse("space-supervisor")).content.decode()
    assert "Dans les seuils" in page and 'role="alert"' not in page
    services.create_call("+33611220000", "3939")
    drain(router)
    live = services.live_stats()
    queue = next(q for q in live["queues"] if q["name"] == "n1")
    assert queue["status"] == "alert" and live["alerts"] == [f"{n1.name} : 1 appels en attente, au-delà de 0"]
    page = supervisor.get(reverse("space-supervisor")).content.decode()
    assert 'role="alert"' in page and "Seuil franchi" in page and "au-delà de 0" in page


def test_no_ghost_survives_a_restart(router):
    call_id = ghost_call(router)
    # projections the engine does not hold (e.g. rows left by a purge of the journal)
    AgentStatus.objects.create(agent="fantome", state="on_call", contact="disparu")
    Contact.objects.create(call_id="disparu", state="connected", agent="fantome")
    reborn = Router(push=False)
    reborn.load()
    assert AgentStatus.objects.get(pk="fantome").state == "offline"
    assert Contact.objects.get(pk="disparu").state == "lost"
    assert Contact.objects.get(pk=call_id).state == "connected"  # the engine holds this one: kept
    assert AgentStatus.objects.get(pk="operateur").state == "on_call"


def test_a_service_level_threshold_reads_its_own_queues_figure(db):
    """The N1 queue's threshold reads the line's service level (20 s), an N2 queue's its own (60 s,
    allo.routing.kpi's service_level_n2_by_queue): a centre of experts is flagged on its own figures."""
    from allo.contact_centre.supervision.services import crossed

    limit = QueueThreshold(service_level_min=80)
    quiet = {"waiting": 0, "longest_wait_s": 0}
    assert crossed(limit, {"name": "n2-impots", "service_level": 0.5, **quiet}) == [
        "niveau de service 50 % sous le seuil de 80 %"]
    assert crossed(limit, {"name": "n2-impots", "service_level": 0.9, **quiet}) == []
    assert crossed(limit, {"name": "n2-impots", "service_level": None, **quiet}) == []  # no call yet today
    live = services.live_stats()
    assert all("service_level" in q for q in live["queues"])
    n1 = next(q for q in live["queues"] if q["name"] == "n1")
    assert n1["service_level"] == live["today"]["service_level"]
