"""Property-based tests: random event streams keep the engine's invariants."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from routing_helpers import H, make_config

from allo.routing import events as E
from allo.routing.engine import Engine
from allo.routing.model import ContactState

QUEUES = ["n1", "n1", "n1", "tax", "conso", "cira0"]
DOMAINS = [None, None, "impots", "consommation", "cira", "logement"]

action = st.tuples(
    st.sampled_from(["arrive", "arrive", "arrive", "hangup", "end", "end", "wrap", "login", "logout", "pause",
                     "resume", "webcallback", "lost", "forcelogout", "forcepause", "consult", "consultend",
                     "consultend"]),
    st.floats(min_value=0, max_value=900, allow_nan=False),  # seconds to advance first
    st.integers(min_value=0, max_value=1000),  # picks an agent / contact / queue
    st.integers(min_value=0, max_value=1000),  # picks a domain, a priority, flags
)


class Harness:
    """Feeds events, plays back timers and callback answers, checks invariants after each event."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.t = 7.5 * H  # Monday 07:30, before the line opens
        self.timers: list[tuple[float, int, E.TimerRequest]] = []
        self.seq = 0
        self.next_id = 0
        self.ended: Counter = Counter()
        self.waiting: dict[str, list] = {q: [] for q in engine.queues}  # queue -> [(contact, prio)]
        self.arrived: list = []
        self.started = False
        self.handed_over: set = set()

    def feed(self, event) -> None:
        decisions = self.engine.handle(event)
        self.engine.check()
        for d in decisions:
            self.check_decision(d)
        for d in decisions:
            if isinstance(d, E.TimerRequest):
                self.timers.append((d.at, self.seq, d))
                self.seq += 1
            elif isinstance(d, E.ProposeCallback):
                self.feed(E.CallbackAnswer(d.t, d.contact, hash(d.contact) % 3 != 0))

    def check_decision(self, d) -> None:
        cid = getattr(d, "contact", None)
        if cid is not None and not isinstance(d, E.AgentStateChanged):
            assert self.ended[cid] == 0, f"decision {d} about an ended contact"
        if isinstance(d, E.ContactEnded):
            self.ended[cid] += 1
            assert d.state in {s.value for s in ContactState if s.value in {
                "completed", "abandoned", "closed", "declined", "unreached", "lost"}}
        if isinstance(d, E.Queued):
            prio = self.engine.contacts[cid].priority
            self.waiting[d.queue].append((cid, prio))
        if isinstance(d, E.ConsultEnded) and d.outcome == "completed":
            self.handed_over.add(cid)
        if isinstance(d, E.Assign):
            agent = self.engine.agents[d.agent]
            # nothing is routed to a closed centre (but the caller of a consult started while it was open
            # goes to the expert it was talking with)
            assert self.engine.is_open(agent.centre.id, d.t) or cid in self.handed_over, \
                f"{d} routed to closed {agent.centre.id}"
            queue = self.waiting[d.queue]
            entry = next(((c, p) for c, p in queue if c == cid), None)
            if entry is not None:
                # order within a queue and priority: nobody better placed is left waiting
                for c, p in queue:
                    if c == cid:
                        break
                    assert p > entry[1], f"{cid} served before {c} queued earlier in {d.queue}"
                assert all(p >= entry[1] for _, p in queue), f"{cid} served before a higher priority"
        if isinstance(d, E.Assign | E.ContactEnded | E.ProposeCallback | E.Overflowed):
            for q in self.waiting.values():
                q[:] = [(c, p) for c, p in q if c != cid]

    def advance(self, dt: float) -> None:
        target = self.t + dt
        while True:
            due = sorted(x for x in self.timers if x[0] <= target)
            if not due:
                break
            item = due[0]
            self.timers.remove(item)
            at, _, req = item
            self.t = max(self.t, at)
            self.feed(E.TimerFired(self.t, req.kind, req.ref))
        self.t = target

    def live(self, k: int, state=None):
        contacts = [c for c in self.engine.contacts.values() if state is None or c.state is state]
        return contacts[k % len(contacts)] if contacts else None

    def apply(self, kind: str, dt: float, k: int, m: int) -> None:
        if not self.started:
            # everyone logs in before the centres open: the opening timers hand them the work
            self.started = True
            for agent_id in self.engine.agents:
                self.feed(E.AgentLogin(self.t, agent_id))
        self.advance(dt)
        t = self.t
        agents = list(self.engine.agents)
        agent = agents[k % len(agents)]
        if kind == "arrive":
            cid = self.next_id
            self.next_id += 1
            self.arrived.append(cid)
            self.feed(E.ContactArrived(t, cid, QUEUES[k % len(QUEUES)], priority=m % 2))
        elif kind == "webcallback":
            cid = self.next_id
            self.next_id += 1
            self.arrived.append(cid)
            self.feed(E.ContactArrived(t, cid, "tax", channel="callback", due=t + (m % 5) * 1800))
        elif kind == "hangup":
            c = self.live(k)
            self.feed(E.CallerHungUp(t, c.id if c else m))
        elif kind == "end":
            c = self.live(k, ContactState.CONNECTED)
            if c is not None:
                self.feed(E.CallEnded(t, c.id, DOMAINS[m % len(DOMAINS)], wrap_up=m % 3 != 0, reached=m % 4 != 0))
        elif kind == "wrap":
            self.feed(E.WrapUpEnded(t, agent))
        elif kind == "login":
            self.feed(E.AgentLogin(t, agent))
        elif kind == "logout":
            self.feed(E.AgentLogout(t, agent))
        elif kind == "pause":
            self.feed(E.AgentPause(t, agent))
        elif kind == "resume":
            self.feed(E.AgentResume(t, agent))
        elif kind == "lost":  # a supervisor ends a call whose hang-up never came
            c = self.live(k)
            self.feed(E.ContactLost(t, c.id if c else m))
        elif kind == "forcelogout":
            self.feed(E.AgentLogout(t, agent, force=True))
        elif kind == "consult":  # from the holder, or now and then from someone else (ignored)
            c = self.live(k, ContactState.CONNECTED)
            if c is not None:
                by = agent if m % 7 == 0 else c.agent.id
                self.feed(E.ConsultStart(t, c.id, by, DOMAINS[2 + m % (len(DOMAINS) - 2)], "question"))
        elif kind == "consultend":  # the holder completes or cancels, or the expert declines
            consults = [c for c in self.engine.contacts.values() if c.consult is not None]
            if consults:
                c = consults[k % len(consults)]
                by = c.consult.id if m % 3 == 0 else c.agent.id
                self.feed(E.ConsultEnd(t, c.id, by, complete=m % 2 == 0))
        elif kind == "forcepause":
            self.feed(E.AgentPause(t, agent, "Supervision", force=True))

    def finish(self) -> None:
        """End every live contact: each must reach exactly one terminal state."""
        self.t += 1
        for c in list(self.engine.contacts.values()):
            if c.id not in self.engine.contacts:
                continue
            if c.state is ContactState.CONNECTED:
                self.feed(E.CallEnded(self.t, c.id))
            else:
                self.feed(E.CallerHungUp(self.t, c.id))
        assert self.engine.contacts == {}
        assert all(self.ended[cid] == 1 for cid in self.arrived)
        assert sum(self.ended.values()) == len(self.arrived) == self.engine.arrived


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=1, max_size=120), st.booleans())
def test_random_event_streams_keep_invariants(actions, multi_skilled):
    cfg = make_config(n1=3, tax=1, conso=1, cira=(1, 2))
    cfg.queues[0].overflow_to = "cira0"  # unusual but legal: exercises overflow across centres
    cfg.queues[0].overflow_after_s = 120
    cfg.queues[1].max_waiting = 2
    cfg.lost_after_s = 1800  # callers no longer heard of are ended lost by the engine's timer
    if multi_skilled:
        # secondary skills across levels and centres: primary work first, then the other queue
        for agent in cfg.agents:
            if agent.id == "a0":
                agent.skills["cira0"] = 2
            elif agent.id == "c0-0":
                agent.skills["n1"] = 2
            elif agent.id == "t0":
                agent.skills["conso"] = 1  # two primary skills: the longest waiting goes first
    harness = Harness(Engine(cfg))
    for a in actions:
        harness.apply(*a)
    harness.finish()


@settings(max_examples=40, deadline=None)
@given(st.lists(action, min_size=1, max_size=80))
def test_same_inputs_same_outputs(actions):
    """Determinism: replaying the recorded events gives the very same decisions."""
    cfg = make_config()
    harness = Harness(Engine(cfg))
    recorded = []
    original = harness.engine.handle

    def recording(event):
        recorded.append(event)
        out = original(event)
        recorded.extend(out)
        return out

    harness.engine.handle = recording
    for a in actions:
        harness.apply(*a)
    engine2 = Engine(make_config())
    replayed = []
    for r in recorded:
        if isinstance(r, E.EVENT_TYPES):
            replayed.append(r)
            replayed.extend(engine2.handle(r))
    assert replayed == recorded


@settings(max_examples=40, deadline=None)
@given(st.lists(action, min_size=1, max_size=80), st.floats(0, 1))
def test_snapshot_restore_continues_identically(actions, split):
    """A restored snapshot (through JSON) gives the same decisions as the engine that never stopped."""
    import json

    cfg = make_config(n1=3, tax=1, conso=1, cira=(1, 2))
    cfg.queues[0].overflow_to = "cira0"
    cfg.queues[0].overflow_after_s = 120
    cfg.lost_after_s = 1800
    harness = Harness(Engine(cfg))
    recorded: list[tuple] = []
    original = harness.engine.handle

    def recording(event):
        out = original(event)
        recorded.append((event, out))
        return out

    harness.engine.handle = recording
    for a in actions:
        harness.apply(*a)
    cut = int(split * len(recorded))
    first = Engine(cfg)
    for event, _ in recorded[:cut]:
        first.handle(event)
    snap = json.loads(json.dumps(first.snapshot()))
    restored = Engine.restore(json.loads(json.dumps(cfg.to_dict())), snap)
    restored.check()
    for event, expected in recorded[cut:]:
        assert restored.handle(event) == expected
        restored.check()
