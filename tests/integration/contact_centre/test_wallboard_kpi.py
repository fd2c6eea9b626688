"""The wallboard's service level is the documented one (docs/routing.md, allo/routing/kpi.py):
N1 calls answered within 20 s / (offered − abandoned within 5 s), on the N1 wait even after a transfer."""

from __future__ import annotations

import pytest
from conftest import drain

from allo.accounts.models import User
from allo.contact_centre import services
from allo.contact_centre.models import Contact, RouterInput
from allo.contact_centre.router import config as cfg
from allo.routing import events as ev
from allo.routing import kpi

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.mark.any_db
def test_live_service_level_is_kpi_definition_on_the_n1_wait(router, monkeypatch):
    clock = Clock(cfg.now_t())
    monkeypatch.setattr(cfg, "now_t", clock)

    def login(name):
        services.agent_action(name, "login", profile=cfg.agent_profile(User.objects.get(username=name)))

    start = clock.t
    login("expert-impots")
    login("operateur2")
    drain(router)
    e, _ = services.create_call("+33600000005", "3939")  # answered at once, transferred, answered at once
    drain(router)
    services.end_call("operateur2", e, transfer="impots")
    services.end_wrap_up("operateur2")
    services.agent_action("operateur2", "logout")
    login("operateur")
    drain(router)
    assert Contact.objects.get(pk=e).agent == "expert-impots"  # the expert is busy from now on
    a, _ = services.create_call("+33600000001", "3939")  # answered at once, then waits 100 s at N2
    b, _ = services.create_call("+33600000002", "3939")  # hangs up after 3 s: a short abandon
    c, _ = services.create_call("+33600000003", "3939")  # answered after 40 s
    d, _ = services.create_call("+33600000004", "3939")  # hangs up after 30 s
    drain(router)
    clock.t = start + 3
    services.hangup(b)
    drain(router)
    clock.t = start + 30
    services.hangup(d)
    drain(router)
    clock.t = start + 40
    services.end_call("operateur", a, transfer="impots", question="revenus étrangers")
    services.end_wrap_up("operateur")
    drain(router)
    assert Contact.objects.get(pk=a).state == "queued"
    clock.t = start + 140  # the expert is done with E: A waited 100 s at N2
    services.end_call("expert-impots", e)
    services.end_wrap_up("expert-impots")
    drain(router)

    contact = Contact.objects.get(pk=a)
    assert (contact.level, contact.agent) == (2, "expert-impots")
    assert contact.waited_s == 0  # the N1 wait, kept
    assert contact.waited_n2_s == pytest.approx(100)
    assert Contact.objects.get(pk=c).waited_s == pytest.approx(40)

    today = services.live_stats()["today"]
    # offered 5, one abandon within 5 s, two N1 answers within 20 s (E's and A's): 2 / (5 - 1)
    assert today["offered"] == 5 and today["answered"] == 3 and today["abandoned"] == 2
    assert today["service_level"] == pytest.approx(0.5, abs=1e-3)
    assert today["service_level_target_s"] == kpi.SERVICE_LEVEL_S

    # the same figure as the KPI collector fed with the router's journal (events and decisions)
    log = []
    for inp in RouterInput.objects.filter(seq__isnull=False, rejected="").order_by("seq"):
        if inp.type in {cls.__name__ for cls in ev.EVENT_TYPES}:
            log.append(router._event(inp, inp.t))
        log.extend(ev.from_dict(d) for d in inp.decisions or [])
    summary = kpi.KpiCollector.from_log(log).summary()
    assert summary["service_level"] == pytest.approx(today["service_level"], abs=1e-3)
    assert summary["offered"] == today["offered"]

