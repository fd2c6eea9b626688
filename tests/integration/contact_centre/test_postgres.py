"""PostgreSQL: concurrent writers against one router, crash recovery, the standby's advisory lock.

Worker threads use their own connections (autocommit), as web workers would; rows they commit are
removed at the end so the rest of the suite sees an empty contact centre.
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from allo.contact_centre import services
from allo.contact_centre.models import (
    AgentStatus,
    ApiToken,
    CallerCardView,
    Contact,
    RouterInput,
    RouterSnapshot,
    WrapUp,
)
from allo.contact_centre.router.service import ADVISORY_LOCK_ID, Router

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PROFILE = {"centre": "n1-plateforme", "level": 1, "skills": {"n1": 1}}


def in_thread(fn, *args):
    """Run fn in a fresh thread (its own committed connection) and return its result."""
    box = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc
        finally:
            connections.close_all()

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def wipe():
    for model in (WrapUp, CallerCardView, Contact, AgentStatus, RouterInput, RouterSnapshot, ApiToken):
        model.objects.all().delete()


@pytest.fixture
def clean(monkeypatch, demo):
    monkeypatch.setenv("ALLO_CC_HOURS", "always")
    in_thread(wipe)
    yield
    in_thread(wipe)


def test_simultaneous_agent_actions_never_double_assign(clean):
    agents = [f"virt-{i:03d}" for i in range(24)]
    stop = threading.Event()
    router = in_thread(lambda: (r := Router(push=False), r.load())[0])

    def route():
        try:
            while not stop.is_set():
                if not router.step():
                    stop.wait(0.002)
            while router.step():
                pass
        finally:
            connections.close_all()

    def worker(seed: int):
        rng = random.Random(seed)
        try:
            mine = agents[seed::8]
            for agent in mine:
                services.agent_action(agent, "login", profile={"id": agent, **PROFILE})
            for i in range(40):
                services.create_call(f"+3361{seed:02d}{i:05d}", "3939")
                agent = rng.choice(agents)  # deliberately also other workers' agents
                action = rng.random()
                if action < 0.15:
                    services.agent_action(agent, "pause", reason="Pause")
                elif action < 0.3:
                    services.agent_action(agent, "resume")
                elif action < 0.35:
                    services.agent_action(agent, "logout")
                elif action < 0.45:
                    services.agent_action(agent, "login", profile={"id": agent, **PROFILE})
                held = Contact.objects.filter(state="connected", agent=agent).values_list("pk", flat=True).first()
                if held and rng.random() < 0.7:
                    services.end_call(agent, held, wrap_up=rng.random() < 0.5)
                    services.end_wrap_up(agent)
                    services.end_call(agent, held)  # a duplicate report: must change nothing
        finally:
            connections.close_all()

    router_thread = threading.Thread(target=route)
    router_thread.start()
    workers = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    router_thread.join()

    router.engine.check()
    inputs = list(RouterInput.objects.order_by("seq").values_list("seq", "decisions"))
    assert all(seq is not None for seq, _ in inputs)
    assert [seq for seq, _ in inputs] == list(range(1, len(inputs) + 1))
    holding: dict[str, object] = {}
    assigned = Counter()
    for _, decisions in inputs:
        for d in decisions or []:
            if d["type"] == "Assign":
                assert d["agent"] not in holding, f"{d['agent']} assigned {d['contact']} while on {holding[d['agent']]}"
                holding[d["agent"]] = d["contact"]
                assigned[d["contact"]] += 1
            elif d["type"] == "AgentStateChanged" and d["prev"] == "on_call":
                holding.pop(d["agent"], None)  # the call ended (on_call → on_call: straight to the next one)
    assert assigned and max(assigned.values()) <= 2  # once at N1 (no transfer in this test)
    connected = Counter(Contact.objects.filter(state="connected").values_list("agent", flat=True))
    assert not connected or max(connected.values()) == 1
    # a restart from the journal reaches the same state
    reborn = in_thread(lambda: (r := Router(push=False), r.load())[0])
    assert reborn.engine.snapshot() == router.engine.snapshot()


def test_crash_between_write_and_apply_loses_nothing(clean):
    def scenario():
        r = Router(push=False)
        r.load()
        for i in range(5):
            services.agent_action(f"virt-{i:03d}", "login", profile={"id": f"virt-{i:03d}", **PROFILE})
        calls = [services.create_call(f"+336200000{i:02d}", "3939")[0] for i in range(30)]
        r.step(limit=20)  # part applied, then "kill -9": the rest stays pending in the journal
        return calls

    calls = in_thread(scenario)

    def restart():
        r = Router(push=False)
        r.load()
        while r.step():
            pass
        r.engine.check()
        return r

    r = in_thread(restart)
    ids = {str(c.id) for c in r.engine.contacts.values()}
    assert set(calls) == ids  # every call is live (5 connected, 25 queued), none twice
    assert r.engine.arrived == 30
    assert Contact.objects.filter(state="connected").count() == 5
    assert Contact.objects.filter(state="queued").count() == 25


def test_only_one_router_holds_the_advisory_lock(db):
    from django.db import connection as main

    with main.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_ID])
        assert cursor.fetchone()[0]

    def other():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_ID])
            return cursor.fetchone()[0]

    try:
        assert in_thread(other) is False  # the standby waits
    finally:
        with main.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_ID])
    assert in_thread(other) is True  # the lock is free again: a standby takes over
