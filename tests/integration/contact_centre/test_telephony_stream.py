"""The telephony connector's WebSocket as a real connector meets it: idle for long stretches on the
Redis channel layer, disconnected while the router issues commands, a server process that sends no
Origin header."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as project_settings
from loopback import redis_up

from allo.contact_centre import services
from allo.contact_centre.consumers import TelephonyConsumer

pytestmark = pytest.mark.django_db

REDIS = ("127.0.0.1", 6379)
# a database of its own, and a prefix: other processes on this Redis never see these groups
REDIS_TEST_URL = f"redis://{REDIS[0]}:{REDIS[1]}/13"


@pytest.fixture(autouse=True)
def _test_connection_kept(monkeypatch):
    """Channels closes the thread's database connection around each consumer query
    (close_old_connections); on PostgreSQL that would close the test's own transaction."""
    import channels.db

    monkeypatch.setattr(channels.db, "close_old_connections", lambda **kwargs: None)


@pytest.fixture
def redis_layer(settings):
    """The project's Redis channel layer (allo.project.settings.redis_channel_layer) on the real Redis."""
    if not redis_up():
        pytest.skip(f"no Redis at {REDIS[0]}:{REDIS[1]}")
    from allo.project.settings import redis_channel_layer

    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(REDIS_TEST_URL, prefix="allo-test-telephony")}


def _login(agent: str) -> None:
    services.agent_action(agent, "login", profile={"id": agent, "centre": "n1-plateforme", "level": 1,
                                                   "skills": {"n1": 1}})


def _app():
    from allo.project.asgi import application

    return application


def _connect(path: str, headers: list | None = None) -> WebsocketCommunicator:
    return WebsocketCommunicator(_app(), path, headers=headers or [])


def test_an_idle_websocket_on_redis_stays_open_and_still_gets_commands(router, telephony_token, redis_layer):
    """redis-py 8 reads with a 5 s socket timeout by default, and channels-redis waits for a message
    with a 5 s blocking BZPOPMIN: every idle consumer died with `TimeoutError: Timeout reading from
    127.0.0.1:6379` (channels_redis issue 422). Idle 12 s, then a command arrives."""

    async def run():
        comm = WebsocketCommunicator(TelephonyConsumer.as_asgi(), f"/ws/telephony/?token={telephony_token}")
        connected, _ = await comm.connect(timeout=10)
        assert connected
        await asyncio.sleep(12)
        assert await comm.receive_nothing(timeout=0.1)  # still open: no close, no error
        await database_sync_to_async(_login)("virt-001")
        call_id, _ = await database_sync_to_async(services.create_call)("+33699999999", "3939")
        await database_sync_to_async(drain)(router)
        command = await comm.receive_json_from(timeout=5)
        await comm.disconnect()
        return call_id, command

    call_id, command = async_to_sync(run)()
    assert (command["command"], command["call_id"], command["agent"]) == ("bridge", call_id, "virt-001")


def drain(router) -> int:
    n = 0
    while k := router.step():
        n += k
    return n



# ------------------------------------------------------------------ Origin


def _session_cookie(username: str) -> tuple[bytes, bytes]:
    from django.test import Client

    from allo.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return b"cookie", f"{project_settings.SESSION_COOKIE_NAME}={client.cookies[project_settings.SESSION_COOKIE_NAME].value}".encode()


def _opens(path: str, headers: list) -> bool:
    async def run():
        comm = _connect(path, headers)
        connected, _ = await comm.connect(timeout=10)
        if connected:
            await comm.disconnect()
        return connected

    return async_to_sync(run)()


def test_a_connector_sends_no_origin_and_gets_its_stream(demo, telephony_token):
    """A connector is a server process: no browser, no Origin header. Its token is its credential."""
    assert _opens(f"/ws/telephony/?token={telephony_token}", [])
    assert _opens("/ws/telephony/", [(b"authorization", f"Bearer {telephony_token}".encode())])
    assert not _opens("/ws/telephony/", [])  # no token, still refused
    # a page of another site that got hold of a token is still refused by its Origin
    assert not _opens(f"/ws/telephony/?token={telephony_token}", [(b"origin", b"https://evil.example")])
    assert _opens(f"/ws/telephony/?token={telephony_token}", [(b"origin", b"http://127.0.0.1:8000")])


@pytest.mark.parametrize(("path", "username"), [("/ws/desk/", "operateur"), ("/ws/wallboard/", "superviseur")])
def test_browser_websockets_keep_the_origin_check(demo, path, username):
    """The desk and the wallboard sign in with the session cookie a browser sends by itself: without
    an Origin of this site (another site's page, or none) the connection is refused."""
    cookie = _session_cookie(username)
    assert _opens(path, [cookie, (b"origin", b"http://127.0.0.1:8000")])
    assert not _opens(path, [cookie])
    assert not _opens(path, [cookie, (b"origin", b"https://evil.example")])


# ------------------------------------------------------------------ durable commands


@pytest.fixture
def caught_up(db):
    """The connector is up to date with what earlier tests left committed (test_postgres' routers)."""
    from django.db.models import Max

    from allo.contact_centre.models import TelephonyCommand
    from allo.contact_centre.telephony import services as telephony

    telephony.acknowledge(TelephonyCommand.objects.aggregate(m=Max("seq"))["m"] or 0)


def _stream(token: str, after: int | None = None, node: str = "") -> WebsocketCommunicator:
    query = f"token={token}" + (f"&after={after}" if after is not None else "") + (f"&node={node}" if node else "")
    return WebsocketCommunicator(TelephonyConsumer.as_asgi(), f"/ws/telephony/?{query}")


async def _received(comm) -> list[dict]:
    """Everything the connector got until the stream stays quiet for a second."""
    out = []
    while not await comm.receive_nothing(timeout=1.0):
        out.append(await comm.receive_json_from(timeout=10))
    return out


def _shape(messages: list[dict]) -> list[tuple]:
    return [(m["command"], m["call_id"]) for m in messages]


@pytest.mark.any_db  # the router's transaction writes the commands: the same on PostgreSQL
def test_commands_issued_while_the_connector_is_away_arrive_once_in_order(router, telephony_token, redis_layer,
                                                                          caught_up):
    db = database_sync_to_async

    async def run():
        comm = _stream(telephony_token)
        assert (await comm.connect(timeout=10))[0]
        await db(_login)("virt-001")
        a, _ = await db(services.create_call)("+33600000001", "3939")
        await db(drain)(router)
        first = await _received(comm)
        assert _shape(first) == [("bridge", a)]
        await comm.send_json_to({"type": "ack", "seq": first[-1]["seq"]})
        await comm.receive_nothing(timeout=0.3)  # the ack is written
        await comm.disconnect()

        # the connector is away: the router goes on deciding
        b, _ = await db(services.create_call)("+33600000002", "3939")
        c, _ = await db(services.create_call)("+33600000003", "3939")
        await db(drain)(router)
        await db(services.end_call)("virt-001", a, wrap_up=False)
        await db(drain)(router)

        again = _stream(telephony_token)
        assert (await again.connect(timeout=10))[0]
        missed = await _received(again)
        # a command issued after the reconnection comes after them, once
        d, _ = await db(services.create_call)("+33600000004", "3939")
        await db(drain)(router)
        live = await _received(again)
        await again.disconnect()

        # not acknowledged: a new connection gets them all again, from the journal
        third = _stream(telephony_token)
        assert (await third.connect(timeout=10))[0]
        replayed = await _received(third)
        await third.send_json_to({"type": "ack", "seq": replayed[-1]["seq"]})
        await third.receive_nothing(timeout=0.3)
        await third.disconnect()
        fourth = _stream(telephony_token)
        assert (await fourth.connect(timeout=10))[0]
        nothing = await _received(fourth)
        await fourth.disconnect()
        return (a, b, c, d), first, missed, live, replayed, nothing

    (a, b, c, d), first, missed, live, replayed, nothing = async_to_sync(run)()
    assert _shape(missed) == [("play", b), ("play", c), ("hangup", a), ("bridge", b)]
    assert _shape(live) == [("play", d)]
    seqs = [m["seq"] for m in first + missed + live]
    assert seqs == sorted(set(seqs))  # increasing, no duplicate
    assert replayed == missed + live
    assert nothing == []


@pytest.mark.any_db  # the router's transaction writes the commands: the same on PostgreSQL
def test_a_connector_may_say_where_it_stopped_and_bad_acks_are_answered(router, telephony_token, redis_layer,
                                                                        caught_up):
    db = database_sync_to_async

    async def run():
        await db(_login)("virt-001")
        calls = [(await db(services.create_call)(f"+3360000001{i}", "3939"))[0] for i in range(3)]
        await db(drain)(router)
        comm = _stream(telephony_token)
        assert (await comm.connect(timeout=10))[0]
        everything = await _received(comm)
        await comm.send_json_to({"type": "ack", "seq": "beaucoup"})
        refused = await comm.receive_json_from(timeout=2)
        await comm.send_to(text_data="pas du JSON")
        garbled = await comm.receive_json_from(timeout=2)
        await comm.disconnect()
        resumed = _stream(telephony_token, after=everything[0]["seq"])
        assert (await resumed.connect(timeout=10))[0]
        rest = await _received(resumed)
        await resumed.disconnect()
        return calls, everything, refused, garbled, rest

    calls, everything, refused, garbled, rest = async_to_sync(run)()
    assert _shape(everything) == [("bridge", calls[0]), ("play", calls[1]), ("play", calls[2])]
    assert refused == {"erreur": "« seq » doit être un entier positif."}
    assert garbled == {"erreur": "Message JSON attendu : un objet."}
    assert rest == everything[1:]


@pytest.mark.any_db
def test_each_voice_node_keeps_its_own_position_in_the_stream(router, telephony_token, redis_layer, caught_up):
    """Two voice nodes: node b is away while node a acknowledges the commands issued meanwhile; b, back,
    still gets them (one position for all connectors lost them: docs/voice.md, several nodes)."""
    db = database_sync_to_async

    async def run():
        await db(_login)("virt-001")
        node_a, node_b = _stream(telephony_token, node="a"), _stream(telephony_token, node="b")
        assert (await node_a.connect(timeout=10))[0] and (await node_b.connect(timeout=10))[0]
        first, _ = await db(services.create_call)("+33600000021", "3939")
        await db(drain)(router)
        seen_a, seen_b = await _received(node_a), await _received(node_b)
        for comm, seen in ((node_a, seen_a), (node_b, seen_b)):
            await comm.send_json_to({"type": "ack", "seq": seen[-1]["seq"]})
            await comm.receive_nothing(timeout=0.3)
        await node_b.disconnect()  # b goes away; a acknowledges what comes meanwhile
        second, _ = await db(services.create_call)("+33600000022", "3939")
        await db(drain)(router)
        meanwhile = await _received(node_a)
        await node_a.send_json_to({"type": "ack", "seq": meanwhile[-1]["seq"]})
        await node_a.receive_nothing(timeout=0.3)
        back = _stream(telephony_token, node="b")
        assert (await back.connect(timeout=10))[0]
        missed = await _received(back)
        await back.disconnect()
        await node_a.disconnect()
        newcomer = _stream(telephony_token, node="c")  # a node never seen starts where nobody acknowledged
        assert (await newcomer.connect(timeout=10))[0]
        fresh = await _received(newcomer)
        await newcomer.disconnect()
        bad = _stream(telephony_token, node="Pas Un Nom")
        refused = await bad.connect(timeout=10)
        return first, second, seen_a, seen_b, meanwhile, missed, fresh, refused

    first, second, seen_a, seen_b, meanwhile, missed, fresh, refused = async_to_sync(run)()
    assert _shape(seen_a) == _shape(seen_b) == [("bridge", first)]
    assert _shape(meanwhile) == [("play", second)]
    assert missed == meanwhile  # b's own position: what a acknowledged is still b's to get
    # a newcomer starts at the least position kept: here the single connector's, caught up before the test
    assert _shape(fresh) == [("bridge", first), ("play", second)]
    assert refused[0] is False


# ------------------------------------------------------------------ keep-alive


def test_a_conversation_kept_alive_outlives_the_lost_delay(router, api, monkeypatch):
    """ALLO_CC_LOST_AFTER (2 h) closes a call with no sign of life as « perdu »: a connector's
    keep-alive every few minutes lets a 3-hour conversation go on, and its end is still watched."""
    from allo.contact_centre.models import Contact, RouterInput
    from allo.contact_centre.router import config as cfg

    _login("virt-001")
    call_id = api.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939"}).json()["call_id"]
    drain(router)
    contact = Contact.objects.get(pk=call_id)
    assert contact.state == "connected"
    lost_after = cfg.lost_after()
    start = contact.offered_t
    clock = {"t": start}
    monkeypatch.setattr(cfg, "now_t", lambda: clock["t"])
    for minutes in range(5, 181, 5):  # three hours of talk, a keep-alive every 5 minutes
        clock["t"] = start + minutes * 60
        r = api.post(f"/api/telephony/calls/{call_id}/alive")
        assert r.status_code == 202, r.content
        drain(router)
    assert api.post(f"/api/telephony/calls/{call_id}/alive").status_code == 200  # the same minute: once
    assert clock["t"] - start > lost_after
    assert Contact.objects.get(pk=call_id).state == "connected"
    assert RouterInput.objects.filter(type="ContactAlive", payload__contact=call_id).count() == 36
    # then the connector goes silent: lost, once the delay has run from the last keep-alive
    last = clock["t"]
    clock["t"] = last + lost_after - 60
    drain(router)
    assert Contact.objects.get(pk=call_id).state == "connected"
    clock["t"] = last + lost_after + 1
    drain(router)
    assert Contact.objects.get(pk=call_id).outcome == "lost"
    r = api.post(f"/api/telephony/calls/{call_id}/alive")
    assert r.status_code == 409 and r.json() == {"erreur": "L'appel est terminé (état : lost)."}
    assert api.post("/api/telephony/calls/inconnu/alive").status_code == 404


def test_a_waiting_call_whose_connector_stops_its_keep_alives_is_lost_after_five(router, api, monkeypatch):
    """`keepalive_s` (the voice edge's 60 s): a caller waiting in the queue whose node died is closed
    « perdu » after 5 missed keep-alives, not after ALLO_CC_LOST_AFTER; one kept alive waits on; a call
    announced without it is untouched. The connector's promise is checked (60 s to an hour, an integer)."""
    from allo.contact_centre.models import Contact
    from allo.contact_centre.router import config as cfg

    calls = {}
    for name, extra in [("dead", {"keepalive_s": 60}), ("kept", {"keepalive_s": 60}), ("plain", {})]:
        r = api.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939", "event_id": name, **extra})
        assert r.status_code == 201, r.content
        calls[name] = r.json()["call_id"]
    drain(router)
    assert {Contact.objects.get(pk=c).state for c in calls.values()} == {"queued"}  # nobody signed in
    start = max(Contact.objects.get(pk=c).arrived_t for c in calls.values())
    clock = {"t": start}
    monkeypatch.setattr(cfg, "now_t", lambda: clock["t"])
    for minute in range(1, 7):  # the edge of « kept » says it is still there; nothing for « dead »
        clock["t"] = start + 60 * minute
        assert api.post(f"/api/telephony/calls/{calls['kept']}/alive").status_code == 202
        drain(router)
    states = {name: Contact.objects.get(pk=c) for name, c in calls.items()}
    assert (states["dead"].state, states["dead"].outcome) == ("lost", "lost")
    assert states["kept"].state == "queued" and states["plain"].state == "queued"

    for bad in (10, 7200, "60", 60.5):
        r = api.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939", "keepalive_s": bad})
        assert r.status_code == 400 and "keepalive_s" in r.json()["erreur"], (bad, r.content)


def test_after_a_restart_the_keep_alives_get_a_grace_before_a_waiting_call_is_lost(router, api, monkeypatch):
    """A router that was down could take no keep-alive: a `lost` timer that fell due meanwhile waits
    LOST_GRACE_S after the restart, and a keep-alive in that time keeps the caller."""
    from allo.contact_centre.models import Contact
    from allo.contact_centre.router import config as cfg
    from allo.contact_centre.router.service import LOST_GRACE_S, Router

    ids = [api.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939", "event_id": f"g{n}",
                                             "keepalive_s": 60}).json()["call_id"] for n in (1, 2)]
    drain(router)
    start = max(Contact.objects.get(pk=c).arrived_t for c in ids)
    clock = {"t": start + 600}  # ten minutes without a router: both calls' timers are past due
    monkeypatch.setattr(cfg, "now_t", lambda: clock["t"])
    reborn = Router(push=False)
    reborn.load()
    drain(reborn)
    assert {Contact.objects.get(pk=c).state for c in ids} == {"queued"}
    clock["t"] += 30
    assert api.post(f"/api/telephony/calls/{ids[0]}/alive").status_code == 202  # its edge is back
    clock["t"] = start + 600 + LOST_GRACE_S + 1
    drain(reborn)
    assert [Contact.objects.get(pk=c).state for c in ids] == ["queued", "lost"]
