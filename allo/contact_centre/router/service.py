"""The router: the one process that owns the live routing engine.

Writers (the telephony API, the desks, the timers) append inputs to the `RouterInput` journal
through `submit()`; nothing else touches the engine. The router takes pending inputs in arrival
order, stamps each with its application order (`seq`) and engine time, applies it, and in the
same transaction stores the decisions and updates the projections the desks read (`Contact`,
`AgentStatus`). Decisions are then pushed on the channel layer. On start it restores the latest
snapshot and replays the journal after it, so a kill -9 loses nothing: an input is either applied
and committed with its decisions, or still pending and applied after the restart.

Embedded (default): `allo serve` runs it in a thread of the web server (`start()`). Production: the
`allo router` command (`run_with_lock()`); a standby blocks on a PostgreSQL advisory lock and takes
over when the active router dies. Either way the router is built, given its notifier and what it
asks of the portal, and installed as this process's by the composition root (allo.bootstrap).
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from collections.abc import Callable

from django.db import IntegrityError, close_old_connections, connection, transaction

from allo.contact_centre.models import AgentStatus, Contact, RouterInput, RouterSnapshot
from allo.contact_centre.router import config as cfg
from allo.contact_centre.router.notifier import Notifier
from allo.contact_centre.telephony import services as telephony
from allo.routing import Engine, EngineConfig, EngineError
from allo.routing import events as ev
from allo.web import metrics

logger = logging.getLogger(__name__)

ORG_CHANGED = "OrganisationChanged"  # a centre, its hours or a closure changed: reconfigure live
SNAPSHOT_EVERY = 2000  # inputs between snapshots: bounds the replay after a crash
# after a (re)start, `lost` timers that fell due while no router ran wait this long: the connectors'
# keep-alives (every 60 s) could not be taken meanwhile, and a waiting caller they keep is lost after 5
# missed (engine._lost_after); they get three chances to say the caller is still there
LOST_GRACE_S = 180.0
WALLBOARD_EVERY = (1.0, 5.0)  # seconds between wallboard pushes: after a change, and at the least
BATCH = 500
ADVISORY_LOCK_ID = 3939_0001
# Liveness, for /healthz: a running router publishes the time of its last loop turn in Django's cache
# (Redis when the router is another process) every HEARTBEAT_EVERY seconds; without a beat for
# ROUTER_STALE_SECONDS, or with an input waiting that long unapplied, the router is reported absent
# or stalled (calls would be accepted and wait, unrouted).
HEARTBEAT_KEY = "allo:router:heartbeat"
HEARTBEAT_EVERY = 5.0
ROUTER_STALE_SECONDS = 30

_router: Router | None = None  # the router of this process, when it runs here (set by allo.bootstrap)


def submit(type_: str, payload: dict, key: str, contact: dict | None = None) -> bool:
    """Append one input to the journal (durably, before anything applies it).

    Idempotent: a second input with the same key changes nothing and returns False.
    `contact` creates the Contact row (caller data) in the same transaction.
    """
    try:
        with transaction.atomic():
            if contact is not None:
                Contact.objects.create(**contact)
            RouterInput.objects.create(key=key, type=type_, payload=payload)
    except IntegrityError:
        return False
    router = _router
    if router is not None:
        router.wake.set()
    return True


def journal_event(type_: str, payload: dict, t: float):
    """The engine event of a journal input applied at engine time `t`."""
    data = dict(payload)
    data.pop("profile", None)
    data.pop("request_id", None)
    data.pop("at", None)  # the timer's due time, kept in the journal for the record
    data.pop("by", None)  # the supervisor who asked (forced pause or logout, ghost call ended)
    return ev.from_dict({"type": type_, "t": t, **data})


def current() -> Router | None:
    return _router


def purge_snapshots(limit) -> dict[str, int]:
    """Callers' data older than `limit` (a datetime) out of the router's snapshots, which hold the
    live contacts' context (question, operator's note): snapshots taken before it are deleted, but for
    the newest (the recovery point, kept whatever its age); in those kept, the context of contacts
    that arrived before it, or of every contact of a snapshot taken before it, is dropped (the
    engine restores a contact without context as one that came without)."""
    newest = RouterSnapshot.objects.order_by("-seq").first()
    if newest is None:
        return {"snapshots": 0, "snapshot_contexts": 0}
    deleted = RouterSnapshot.objects.filter(created__lt=limit).exclude(pk=newest.pk).delete()[0]
    limit_t = cfg.t_of(limit)
    scrubbed = 0
    for snap in RouterSnapshot.objects.all():  # at most a few: Router.snapshot() keeps three
        taken_before = snap.created < limit
        changed = 0
        for contact in (snap.state or {}).get("engine", {}).get("contacts", []):
            arrived = contact.get("arrived")
            if contact.get("context") and (taken_before or (arrived is not None and arrived < limit_t)):
                contact["context"] = None
                changed += 1
        if changed:
            RouterSnapshot.objects.filter(pk=snap.pk).update(state=snap.state)
            scrubbed += changed
    return {"snapshots": deleted, "snapshot_contexts": scrubbed}


def health() -> dict:
    """The router as /healthz reports it: status ok, absent (no recent heartbeat) or stalled (inputs
    left unapplied), the heartbeat's age and the journal's backlog."""
    from django.core.cache import cache
    from django.utils import timezone

    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception:  # the cache (Redis) unreachable: no heartbeat seen
        logger.warning("router heartbeat not readable", exc_info=True)
        beat = None
    age = None if beat is None else max(0.0, time.time() - float(beat))
    pending = RouterInput.objects.filter(seq__isnull=True)
    oldest = pending.order_by("id").values_list("created", flat=True).first()
    late = 0.0 if oldest is None else max(0.0, (timezone.now() - oldest).total_seconds())
    if age is None or age > ROUTER_STALE_SECONDS:
        status = "absent"
    elif late > ROUTER_STALE_SECONDS:
        status = "stalled"
    else:
        status = "ok"
    return {"status": status, "heartbeat_age_s": None if age is None else round(age, 1),
            "pending_inputs": pending.count() if oldest is not None else 0, "oldest_pending_s": round(late, 1)}


class Router:
    def __init__(self, push: bool = True, *, notifier: Notifier | None = None,
                 publish_wait: Callable[[float | None], object] | None = None,
                 web_callbacks: Callable[[], object] | None = None):
        """`notifier`: the process's (allo.bootstrap), which pushes the decisions to the desks, the
        connector and the wallboards; without it (a test replaying the journal) nothing is pushed.
        `publish_wait(seconds)` tells the portal the N1 wait every
        housekeeping turn; `web_callbacks()` turns the website's due callback requests into
        contacts: both given by the composition root, so the router imports no portal module."""
        self.engine: Engine | None = None
        self.config: dict | None = None
        self.seq = 0
        self.timers: list[tuple[float, str, str]] = []  # (at, kind, json ref) heap
        self.push = push and notifier is not None
        self.notifier = notifier
        self.publish_wait = publish_wait
        self.web_callbacks = web_callbacks
        self.wake = threading.Event()
        self.lock = threading.RLock()  # guards the engine for readers in other threads
        self._stop = threading.Event()
        self._since_snapshot = 0
        self.applied = 0
        self.threaded = False  # True once run_forever() drives it
        self.wallboard_every = WALLBOARD_EVERY
        self._wallboard_last = float("-inf")  # monotonic time of the last wallboard push
        self._wallboard_changed = True
        self._contacts: dict[str, dict] = {}  # projection updates of the current batch
        self._agents: dict[str, dict] = {}
        self._activity: dict[str, list] = {}  # agent -> [day, handled, talk_s, wrap_s] of the current batch
        self._beat = float("-inf")  # monotonic time of the last heartbeat published
        self.lost_grace_until = float("-inf")  # engine time before which due `lost` timers wait (load)

    # ------------------------------------------------------------------ recovery

    def load(self) -> int:
        """Restore the latest snapshot and replay the journal after it; returns inputs replayed."""
        with self.lock:
            snap = RouterSnapshot.objects.order_by("-seq").first()
            if snap is None:
                self.config = cfg.base_config()
                self.engine = Engine(EngineConfig.from_dict(self.config))
                self.seq, self.timers = 0, []
            else:
                self.config = snap.config
                self.engine = Engine.restore(snap.config, snap.state["engine"])
                self.seq = snap.seq
                self.timers = [tuple(x) for x in snap.state.get("timers", [])]
                heapq.heapify(self.timers)
            replayed = 0
            for inp in RouterInput.objects.filter(seq__gt=self.seq).order_by("seq").iterator(chunk_size=1000):
                self._apply_one(inp, replay=True)
                self.seq = inp.seq
                replayed += 1
            # organisation changes (a new centre, new hours) take effect at a restart, agents kept
            fresh = cfg.base_config()
            reconfigured = snap is None or {k: v for k, v in fresh.items() if k != "agents"} != {
                k: v for k, v in self.config.items() if k != "agents"
            }
            if reconfigured:
                self._reconfigure(fresh | {"agents": self.config["agents"]})
            self._since_snapshot = replayed
            if replayed or reconfigured:  # a replay must start from the configuration applied now
                self.snapshot()
            self.lost_grace_until = cfg.now_t() + LOST_GRACE_S
            self.reconcile_projections()
            logger.info("router loaded", extra={"seq": self.seq, "replayed": replayed})
            return replayed

    def _reconfigure(self, config: dict) -> set[str]:
        """Swap the configuration, keeping contacts and agents; returns the centres whose definition
        changed (their cached open/closed state is dropped so their new hours apply at once)."""
        state = self.engine.snapshot()
        known = {q["id"] for q in config["queues"]}
        state["queues"] = {k: v for k, v in state["queues"].items() if k in known}
        before = {c["id"]: c for c in self.config["centres"]}
        changed = {c["id"] for c in config["centres"] if before.get(c["id"]) != c}
        centres = {}
        kept = {c["id"] for c in config["centres"]}
        for cid, cached in state["centres"].items():
            if cid not in kept:
                continue
            if cid in changed:
                is_open, _, close_at, open_at = cached
                cached = [is_open, -1.0, close_at, open_at]  # expired: asked again at the next decision
            centres[cid] = cached
        state["centres"] = centres
        self.engine = Engine.restore(config, state)
        self.config = config
        # contacts from before a `lost_after_s` get their timer now (the same in a replay)
        for d in self.engine.watch_all():
            heapq.heappush(self.timers, (d.at, d.kind, json.dumps(d.ref)))
        return changed

    def _apply_org_change(self, inp: RouterInput, t: float, replay: bool) -> list:
        """The organisation changed: the router reads it (first time) or the decision that recorded it
        (replay), so a replay rebuilds the same configuration whatever the database says today."""
        if replay:
            fresh = next((d["config"] for d in inp.decisions or [] if d.get("type") == "Reconfigured"), None)
        else:
            fresh = cfg.base_config()
            fresh.pop("agents")
        current = {k: v for k, v in self.config.items() if k != "agents"}
        if fresh is None or fresh == current:
            inp.decisions = []
            return []
        try:
            changed = self._reconfigure(fresh | {"agents": self.config["agents"]})
        except (EngineError, KeyError, ValueError, TypeError) as exc:
            # e.g. a centre deactivated while its agents are logged in: kept as it was until they leave
            logger.warning("organisation change not applied", extra={"error": str(exc)})
            inp.rejected = f"configuration refusée : {exc}"[:200]
            inp.decisions = []
            return []
        hours = {c["id"]: c["hours"] for c in fresh["centres"]}
        for cid in sorted(c for c in changed if hours.get(c) is not None):
            # re-evaluated now: callers waiting at a centre that just closed, or agents of one that opened
            for kind in (ev.CENTRE_CLOSING, ev.CENTRE_OPENING):
                heapq.heappush(self.timers, (t, kind, json.dumps(cid)))
        inp.decisions = [{"type": "Reconfigured", "t": t, "centres": sorted(changed), "config": fresh}]
        return inp.decisions

    def snapshot(self) -> None:
        with self.lock:
            RouterSnapshot.objects.update_or_create(
                seq=self.seq,
                defaults={"config": self.config,
                          "state": {"engine": self.engine.snapshot(), "timers": sorted(self.timers)}},
            )
            RouterSnapshot.objects.filter(seq__lt=self.seq).exclude(
                pk__in=RouterSnapshot.objects.order_by("-seq").values("pk")[:3]
            ).delete()
            self._since_snapshot = 0

    # ------------------------------------------------------------------ applying inputs

    def step(self, limit: int = BATCH) -> int:
        """Apply pending inputs (fire due timers first); returns how many were applied."""
        self.fire_timers()
        pending = list(RouterInput.objects.filter(seq__isnull=True).order_by("id")[:limit])
        if not pending:
            return 0
        pushes: list = []
        with self.lock:
            try:
                with transaction.atomic():
                    for inp in pending:
                        self.seq += 1
                        inp.seq = self.seq
                        pushes.extend(self._apply_one(inp, replay=False))
                    self._record(pending)
                    commands = telephony.record(pushes)  # journaled with their decisions
                    self._flush_projections()
            except Exception:
                self._contacts, self._agents = {}, {}
                logger.exception("router step failed: reloading from the journal")
                self.load()
                raise
            self.applied += len(pending)
            self._since_snapshot += len(pending)
        metrics.router_applied(pending)  # /metrics: each input's lag from its journaling
        if self._since_snapshot >= SNAPSHOT_EVERY:
            self.snapshot()
        if self.push and pushes:
            self.notifier.send_many(pushes)
        if self.push and commands:
            self.notifier.send_commands(commands)
        self._wallboard_changed = True
        return len(pending)

    def push_wallboard(self, force: bool = False) -> bool:
        """Push the live figures to the open wallboards: at most every second after a change, and
        every 5 s anyway (waits keep growing when nothing happens). One computation for them all."""
        if self.notifier is None:
            return False
        now = time.monotonic()
        wait = self.wallboard_every[0] if self._wallboard_changed else self.wallboard_every[1]
        if not force and now - self._wallboard_last < wait:
            return False
        from allo.contact_centre.services import live_stats

        self.notifier.send_wallboard(live_stats())
        self._wallboard_last = now
        self._wallboard_changed = False
        return True

    @staticmethod
    def _record(inputs: list[RouterInput]) -> None:
        """Store each input's seq, time and decisions (one executemany: bulk_update costs more CPU)."""
        table = RouterInput._meta.db_table
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET seq = %s, t = %s, decisions = %s, rejected = %s WHERE id = %s",
                [(i.seq, i.t, json.dumps(i.decisions), i.rejected, i.pk) for i in inputs],
            )

    def _event(self, inp: RouterInput, t: float):
        return journal_event(inp.type, inp.payload, t)

    def _apply_one(self, inp: RouterInput, replay: bool) -> list:
        engine = self.engine
        if replay:
            t = inp.t
        else:
            t = cfg.now_t()
            if inp.type == "TimerFired":
                t = max(t, inp.payload.get("at", t))
            t = max(t, engine.now)
            inp.t = t
        if inp.rejected and replay:
            return []
        if inp.type == ORG_CHANGED:
            return self._apply_org_change(inp, t, replay)
        if inp.type == "AgentLogin" and inp.payload.get("agent") not in engine.agents:
            profile = inp.payload.get("profile")
            if not profile:
                inp.rejected = "agent inconnu"
                return []
            self._reconfigure(self.config | {"agents": [*self.config["agents"], profile]})
            engine = self.engine
        try:
            event = self._event(inp, t)
            event_kind = event.kind if isinstance(event, ev.TimerFired) else None
            decisions = engine.handle(event)
        except (EngineError, TypeError, ValueError, KeyError) as exc:
            inp.rejected = str(exc)[:200]
            inp.decisions = []
            return []
        if event_kind is not None:
            ref = json.dumps(event.ref)
            self.timers = [x for x in self.timers if not (x[1] == event_kind and x[2] == ref and x[0] <= t)]
            heapq.heapify(self.timers)
        out = [ev.to_dict(d) for d in decisions]
        inp.decisions = out
        for d in decisions:
            if isinstance(d, ev.TimerRequest):
                heapq.heappush(self.timers, (d.at, d.kind, json.dumps(d.ref)))
        if not replay:  # a replayed input's projections were committed with its seq
            self._project(inp, out, t)
        return out

    # ------------------------------------------------------------------ projections

    def _project(self, inp: RouterInput, decisions: list[dict], t: float) -> None:
        """Accumulate the projection changes of one input (written once per batch)."""
        contacts = self._contacts
        if inp.type == "ContactArrived":
            contacts.setdefault(str(inp.payload["contact"]), {})["arrived_t"] = t
        for d in decisions:
            kind = d["type"]
            if kind == "AgentStateChanged":
                self._agents[d["agent"]] = {
                    "state": d["state"], "since_t": d["t"], "level": d["level"], "reason": d.get("reason") or "",
                    "contact": ""}  # on a new call, its contact comes with the Assign below
                self._count_activity(d)
                continue
            if "contact" not in d:
                continue
            fields = contacts.setdefault(str(d["contact"]), {})
            if kind == "Queued":
                fields.update(state="queued", queue=d["queue"], level=d["level"], queued_t=d["t"])
            elif kind == "Assign":
                # the N1 wait is kept after a transfer: the service level is computed on it
                fields.update(state="connected", queue=d["queue"], level=d["level"], agent=d["agent"],
                              offered_t=d["t"], answered=True, context=d["context"])
                fields["waited_s" if d["level"] == 1 else "waited_n2_s"] = d["waited"]
                agent = self.engine.agents.get(d["agent"])
                if agent is not None:
                    self._agents.setdefault(d["agent"], {"state": "on_call", "since_t": d["t"], "level": d["level"]})
                    self._agents[d["agent"]]["contact"] = str(d["contact"])
            elif kind == "Transferred":
                fields.update(transferred_to=d["domain"], state="transferring")
                c = self.engine.contacts.get(d["contact"])
                if c is not None:
                    fields["context"] = c.context
            elif kind == "ConsultStarted":
                # the expert's desk shows the call (its context) while the caller holds for the N1 agent
                fields.update(consult_agent=d["expert"], consult_outcome="", context=d["context"])
                self._agents.setdefault(d["expert"], {"state": "on_call", "since_t": d["t"], "level": 2})
                self._agents[d["expert"]]["contact"] = str(d["contact"])
            elif kind == "ConsultEnded":
                fields.update(consult_agent="", consult_outcome=d["outcome"])
            elif kind == "ProposeCallback":
                fields.update(state="callback_offered", queue=d["queue"])
            elif kind == "CallbackScheduled":
                fields.update(state="scheduled", queue=d["queue"])
            elif kind == "ContactEnded":
                fields.update(state=d["state"], outcome=d["state"])
                if d.get("waited") is not None and d["state"] == "abandoned":
                    fields["waited_s" if d["level"] == 1 else "waited_n2_s"] = d["waited"]

    def _count_activity(self, d: dict) -> None:
        """Today's calls handled, talk and wrap-up time of the agent, as allo.routing.kpi counts them
        (a call is handled when its talk ends; a lost call's talk is not counted)."""
        prev = d["prev"]
        day = cfg.local_date(d["t"])
        entry = self._activity.get(d["agent"])
        if entry is None or entry[0] != day:  # any change on a new day starts the day's counts
            entry = self._activity[d["agent"]] = [day, 0, 0.0, 0.0]
        if prev == "on_call" and d.get("contact") is not None:
            entry[1] += 1
            entry[2] += d["t"] - d["since"]
        elif prev == "wrap_up":
            entry[3] += d["t"] - d["since"]

    def _flush_projections(self) -> None:
        """Write the batch's projection changes: one executemany per shape (pipelined on psycopg 3)."""
        contacts, agents, activity = self._contacts, self._agents, self._activity
        self._contacts, self._agents, self._activity = {}, {}, {}
        groups: dict[tuple, list] = {}
        for call_id, fields in contacts.items():
            if fields:
                names = tuple(sorted(fields))
                groups.setdefault(names, []).append(
                    [json.dumps(fields[n]) if n == "context" else fields[n] for n in names] + [call_id])
        table = Contact._meta.db_table
        with connection.cursor() as cursor:
            for names, rows in groups.items():
                sets = ", ".join(f"{n} = %s" for n in names)
                cursor.executemany(f"UPDATE {table} SET {sets} WHERE call_id = %s", rows)
            if agents:
                # today's activity adds up while the day is the row's; a new day starts from this batch's
                t = AgentStatus._meta.db_table
                counters = ", ".join(
                    f"{c} = CASE WHEN EXCLUDED.day IS NULL THEN {t}.{c} WHEN {t}.day = EXCLUDED.day "
                    f"THEN {t}.{c} + EXCLUDED.{c} ELSE EXCLUDED.{c} END" for c in ("handled", "talk_s", "wrap_s"))
                engine_agents = self.engine.agents
                rows = []
                for a, f in agents.items():
                    day, handled, talk, wrap = activity.get(a) or [None, 0, 0.0, 0.0]
                    agent = engine_agents.get(a)
                    queues = ",".join(q.id for group in agent.skills for q in group) if agent else ""
                    rows.append((a, f["state"], f["since_t"], f["level"], f.get("contact", ""), f.get("reason", ""),
                                 queues[:200], day, handled, talk, wrap))
                cursor.executemany(
                    f"INSERT INTO {t} (agent, state, since_t, level, contact, reason, queues, day, handled, talk_s, "
                    "wrap_s) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (agent) DO UPDATE SET "
                    "state = EXCLUDED.state, since_t = EXCLUDED.since_t, level = EXCLUDED.level, "
                    "contact = EXCLUDED.contact, reason = EXCLUDED.reason, queues = EXCLUDED.queues, "
                    f"{counters}, day = COALESCE(EXCLUDED.day, {t}.day)",
                    rows,
                )

    def reconcile_projections(self) -> int:
        """After a start: the projections say what the engine says, so no ghost stays on the wallboard
        (an agent or a call the engine no longer holds, e.g. after a journal purge or a restore).
        Returns the rows corrected."""
        live = ("queued", "connected", "transferring", "callback_offered", "scheduled")
        fixed = 0
        with self.lock, transaction.atomic():
            engine = self.engine
            for status in AgentStatus.objects.exclude(state="offline"):
                agent = engine.agents.get(status.agent)
                state = str(agent.state) if agent else "offline"
                held = agent and (agent.contact or agent.consulting)  # an expert in a consult shows its call
                contact = str(held.id) if held else ""
                if status.state != state or status.contact != contact:
                    AgentStatus.objects.filter(pk=status.pk).update(
                        state=state, contact=contact, since_t=agent.since if agent else status.since_t)
                    fixed += 1
            ghosts = [pk for pk in Contact.objects.filter(state__in=live).values_list("pk", flat=True)
                      if pk not in engine.contacts]
            fixed += Contact.objects.filter(pk__in=ghosts).update(state="lost", outcome="lost")
        if fixed:
            logger.warning("projections reconciled with the engine", extra={"rows": fixed})
        return fixed

    # ------------------------------------------------------------------ timers

    def fire_timers(self) -> None:
        now = cfg.now_t()
        held = []
        while self.timers and self.timers[0][0] <= now:
            at, kind, ref = heapq.heappop(self.timers)
            if kind == ev.LOST and now < self.lost_grace_until:
                held.append((self.lost_grace_until, kind, ref))  # (LOST_GRACE_S)
                continue
            submit("TimerFired", {"kind": kind, "ref": json.loads(ref), "at": at}, f"timer:{kind}:{ref}:{at}")
        for timer in held:
            heapq.heappush(self.timers, timer)

    # ------------------------------------------------------------------ reading (other threads)

    def expected_wait(self, queue: str = cfg.N1_QUEUE) -> float | None:
        with self.lock:
            if self.engine is None or queue not in self.engine.queues:
                return None
            if not self.engine.queues[queue].staffed:
                return None
            return self.engine.expected_wait(queue)

    # ------------------------------------------------------------------ running

    def run_forever(self, poll: float = 0.01) -> None:
        close_old_connections()
        self.threaded = True
        self.load()
        last_housekeeping = 0.0
        while not self._stop.is_set():
            try:
                n = self.step()
                if self.push:
                    self.push_wallboard()
                if time.monotonic() - last_housekeeping > 10:
                    last_housekeeping = time.monotonic()
                    self.housekeeping()
                if time.monotonic() - self._beat >= HEARTBEAT_EVERY:
                    self.heartbeat()
            except Exception:
                logger.exception("router loop error")
                time.sleep(0.5)
                continue
            if n == 0:
                self.wake.wait(poll)
                self.wake.clear()

    def housekeeping(self) -> None:
        """Web callback requests due soon become contacts; the wait estimate is published."""
        if self.web_callbacks is not None:
            self.web_callbacks()
        telephony.prune()
        if self.publish_wait is not None:
            try:
                self.publish_wait(self.expected_wait())
            except Exception:  # the portal's cache is optional
                logger.debug("wait estimate not published", exc_info=True)

    def heartbeat(self) -> None:
        """Tell /healthz (of every web process, through the cache) that this router is turning."""
        from django.core.cache import cache

        self._beat = time.monotonic()
        try:
            cache.set(HEARTBEAT_KEY, time.time(), ROUTER_STALE_SECONDS * 4)
        except Exception:  # the cache (Redis) down must not slow routing: /healthz will say absent
            logger.warning("router heartbeat not published", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()


    def start(self) -> threading.Thread:
        """Run in a daemon thread of this process (the `allo serve` default, the embedded router)."""
        thread = threading.Thread(target=self.run_forever, name="allo-router", daemon=True)
        thread.start()
        return thread


def install(router: Router | None) -> None:
    """Make `router` this process's router (allo.bootstrap; tests drive theirs with step())."""
    global _router
    _router = router


def run_with_lock(router: Router, standby_poll: float = 1.0, stop: threading.Event | None = None) -> None:
    """`allo router`: take the PostgreSQL advisory lock (wait as a standby), then route."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_ID])
                if cursor.fetchone()[0]:
                    break
                logger.info("router standby: another router holds the lock")
                if stop is not None and stop.is_set():
                    return
                time.sleep(standby_poll)
    router.run_forever()
