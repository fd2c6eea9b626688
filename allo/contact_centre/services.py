"""The contact centre's service layer: what the API, the desks and the portal call.

Every action becomes one journal input (`router.service.submit`); reads come from the
projections (`Contact`, `AgentStatus`), so they work the same in a web worker beside a separate
`allo router` process.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from allo.contact_centre.models import AgentStatus, Contact, RouterInput, WrapUp
from allo.contact_centre.router import config as cfg
from allo.contact_centre.router.service import current, submit
from allo.contact_centre.telephony.schemas import MurEnDirect
from allo.partners.services import origin_of as partner_origin
from allo.portal import live as portal_live

IVR_TOPICS = {"1": "impots", "2": "consommation", "3": "cira"}


def create_call(caller: str, dialed: str, ivr_choice: str = "", event_id: str = "",
                alive_every_s: float | None = None) -> tuple[str, bool]:
    """A call reaches the line; returns (call_id, created). Same event_id: same call, nothing new.
    `alive_every_s`: the connector's keep-alive period (the engine loses the call after 5 missed).

    The connector's event ids have their own key space ("event:"), apart from the calls' own
    ("call:<call_id>"): an event id equal to another call's id must not return that call."""
    key = f"event:{event_id}" if event_id else None
    if key:
        existing = RouterInput.objects.filter(key=key).values_list("payload", flat=True).first()
        if existing is not None:
            return existing["contact"], False
    call_id = uuid.uuid4().hex
    payload = {"contact": call_id, "queue": cfg.N1_QUEUE, "topic": IVR_TOPICS.get(ivr_choice) or None,
               "channel": "call"}
    origin = partner_origin(dialed)  # a partner's entry number: the call is taken for it, at its priority
    if origin is not None and origin.priority:
        payload["priority"] = origin.priority
    if alive_every_s:
        payload["alive_every_s"] = float(alive_every_s)
    created = submit("ContactArrived", payload, key or f"call:{call_id}",
                     contact={"call_id": call_id, "caller": caller, "dialed": dialed, "ivr_choice": ivr_choice,
                              "partner_id": origin.partner_id if origin else None})
    if not created and key:  # a concurrent duplicate won the race
        return RouterInput.objects.get(key=key).payload["contact"], False
    return call_id, created


def hangup(call_id: str, event_id: str = "") -> bool:
    return submit("CallerHungUp", {"contact": call_id}, f"hangup:{call_id}")


ALIVE_EVERY_S = 60  # keep-alives of one call count once a minute at most: the journal does not fill up


def call_alive(call_id: str) -> bool:
    """The connector says the call is still up: a sign of life for the engine's `lost` timer
    (ALLO_CC_LOST_AFTER), so a conversation longer than it is not closed as « perdu ». Returns False
    when a keep-alive of the same minute (engine time) was already journaled."""
    bucket = int(cfg.now_t() // ALIVE_EVERY_S)
    return submit("ContactAlive", {"contact": call_id}, f"alive:{call_id}:{bucket}")


# a call the router still holds (a keep-alive for any other is refused: the connector learns it ended)
LIVE_STATES = ("new", "queued", "connected", "transferring", "callback_offered")


# concurrent submissions may number their inputs in another order than their clocks: the backward read
# of the arrivals goes this far past the oldest live call
ARRIVAL_SLACK = dt.timedelta(minutes=1)


def live_calls() -> list[dict]:
    """The calls the router still holds, each with the event_id the connector created it with: what a
    connector compares with the calls it really has (docs/voice.md, reconciliation)."""
    now = timezone.now()
    calls = list(Contact.objects.filter(state__in=LIVE_STATES, channel="call")
                 .order_by("created").values_list("call_id", "state", "created"))
    # their arrivals, read backwards from the newest input down to the oldest live call's (the Contact
    # row and its ContactArrived are written in one transaction): the journal's length does not matter
    wanted, event_ids = {call_id for call_id, _, _ in calls}, {}
    if calls:
        arrivals = (RouterInput.objects.filter(type="ContactArrived").order_by("-pk")
                    .values_list("key", "payload", "created"))
        for key, payload, created in arrivals.iterator(chunk_size=200):
            contact = payload.get("contact") if isinstance(payload, dict) else None
            if contact in wanted:
                wanted.discard(contact)
                if key.startswith("event:"):
                    event_ids[contact] = key.removeprefix("event:")
            if not wanted or created < calls[0][2] - ARRIVAL_SLACK:
                break
    return [{"call_id": call_id, "event_id": event_ids.get(call_id, ""), "state": state,
             "age_s": max(0, int((now - created).total_seconds()))} for call_id, state, created in calls]


def call_lost(call_id: str) -> bool:
    """The connector no longer has the call (its edge restarted, a hang-up never came): the router ends
    it « perdu », as a supervisor's forced end (same key: a call is lost once)."""
    return submit("ContactLost", {"contact": call_id, "reason": "edge"}, f"lost:{call_id}")


def no_answer(call_id: str, agent: str, event_id: str = "") -> bool:
    """The agent's phone rang without an answer, refused or was unreachable: the router puts the call
    back at the head of its queue and the agent in a « pas de réponse » pause. `event_id` (the edge's
    attempt) makes a report sent twice count once; the router ignores a report about an agent that
    no longer holds the call."""
    key = f"noanswer:{call_id}:{event_id}" if event_id else f"noanswer:{call_id}:{uuid.uuid4().hex}"
    return submit("CallNotAnswered", {"contact": call_id, "agent": agent}, key)


def callback_answer(call_id: str, accepted: bool) -> bool:
    return submit("CallbackAnswer", {"contact": call_id, "accepted": accepted}, f"cbanswer:{call_id}")


def agent_action(agent: str, action: str, *, profile: dict | None = None, reason: str = "", key: str = "") -> bool:
    """login / logout / pause / resume for `agent` (profile needed at the first login)."""
    types = {"login": "AgentLogin", "logout": "AgentLogout", "pause": "AgentPause", "resume": "AgentResume"}
    payload: dict = {"agent": agent}
    if action == "login":
        payload["profile"] = profile
    if action == "pause":
        payload["reason"] = reason
    return submit(types[action], payload, key or f"{action}:{agent}:{uuid.uuid4().hex}")


def end_call(agent: str, call_id: str, *, transfer: str | None = None, question: str = "", fiche: str = "",
             note: str = "", wrap_up: bool = True) -> bool:
    """The agent ends the conversation (warm transfer when `transfer` is an N2 domain)."""
    payload = {"contact": call_id, "agent": agent, "transfer": transfer or None, "question": question or None,
               "fiche": fiche or None, "note": note or None, "wrap_up": wrap_up}
    return submit("CallEnded", payload, f"end:{call_id}:{agent}")


def consult(agent: str, call_id: str, domain: str, *, question: str = "", fiche: str = "", note: str = "") -> bool:
    """Warm transfer, first step: the N1 agent asks to talk with an expert of `domain`, the caller on hold
    (the router reserves the expert, or answers at once that none is ready: Contact.consult_outcome)."""
    payload = {"contact": call_id, "agent": agent, "domain": domain, "question": question or None,
               "fiche": fiche or None, "note": note or None}
    return submit("ConsultStart", payload, f"consult:{call_id}:{uuid.uuid4().hex}")


def consult_end(agent: str, call_id: str, *, complete: bool = False) -> bool:
    """The consult ends: `complete` (the N1 agent) hands the caller to the expert; otherwise the N1 agent
    takes the caller back, or the expert declines."""
    return submit("ConsultEnd", {"contact": call_id, "agent": agent, "complete": complete},
                  f"consultend:{call_id}:{uuid.uuid4().hex}")


def consult_left(call_id: str, agent: str, event_id: str = "") -> bool:
    """A phone hung up the consult call (the edge's report): the consult ends as if that agent had ended
    it on its desk, the expert declining or the N1 agent taking the caller back (the caller leaves hold
    either way). `event_id` makes a report sent twice count once; the engine ignores an agent outside the
    consult, or no consult under way."""
    key = f"consultleft:{call_id}:{event_id}" if event_id else f"consultleft:{call_id}:{uuid.uuid4().hex}"
    return submit("ConsultEnd", {"contact": call_id, "agent": agent, "complete": False}, key)


def organisation_changed(**kwargs) -> None:
    """Signal receiver (centres, hours, closures): once the change is committed, the router reads the
    organisation again and applies it live (it compares, so a burst of saves costs little)."""
    from django.db import transaction

    from allo.contact_centre.router.service import ORG_CHANGED

    transaction.on_commit(lambda: submit(ORG_CHANGED, {}, f"org:{uuid.uuid4().hex}"))


def end_wrap_up(agent: str, key: str = "") -> bool:
    return submit("WrapUpEnded", {"agent": agent}, key or f"wrapup:{agent}:{uuid.uuid4().hex}")


def schedule_callback(caller: str, at: dt.datetime, note: str = "", origin: str = "", request_id=None) -> str:
    """A callback contact due at `at` on the N1 queue (from a desk or a web request)."""
    call_id = uuid.uuid4().hex
    key = f"webcb:{request_id}" if request_id else f"callback:{call_id}"
    payload = {"contact": call_id, "queue": cfg.N1_QUEUE, "channel": "callback", "due": cfg.t_of(at),
               "context": {"note": note, "origin": origin} if note or origin else None}
    if not submit("ContactArrived", payload, key, contact={"call_id": call_id, "caller": caller, "channel": "callback",
                                                           "request_id": request_id}):
        return RouterInput.objects.get(key=key).payload["contact"]
    return call_id


def enqueue_callback_request(request) -> str:
    """Turn a portal CallbackRequest (phone_number, slot_start, subject...) into a scheduled contact."""
    return schedule_callback(request.phone_number, request.slot_start,
                             note=getattr(request, "subject", ""), origin="site web", request_id=request.pk)


def forward_web_callbacks(horizon_hours: int = 24) -> int:
    """Pending website callback requests due within the horizon become contacts (idempotent); the
    router's housekeeping, as allo.bootstrap wires it."""
    n = 0
    for req in portal_live.pending_callbacks(until=timezone.now() + dt.timedelta(hours=horizon_hours)):
        call_id = schedule_callback(req.phone_number, req.due, note=req.subject, origin="site web",
                                    request_id=req.request_id)
        portal_live.mark_forwarded(req.request_id, call_id)
        n += 1
    return n


def estimated_wait_seconds(queue: str = cfg.N1_QUEUE) -> float | None:
    """Expected wait of a newcomer on `queue`, from the live router of this process (else the
    estimate a separate router published); None when no router runs or nobody is logged in."""
    router = current()
    if router is not None:
        return router.expected_wait(queue)
    if queue == cfg.N1_QUEUE:
        return portal_live.estimated_wait_seconds()
    return None


# ---------------------------------------------------------------------- reads for desks and wallboard


def agent_state(agent: str) -> dict:
    status = AgentStatus.objects.filter(agent=agent).first()
    if status is None:
        return {"state": "offline", "since_t": None, "contact": ""}
    return {"state": status.state, "since_t": status.since_t, "contact": status.contact, "reason": status.reason}


def queue_waits() -> dict[str, dict]:
    now = cfg.now_t()
    rows = (Contact.objects.filter(state="queued").values("queue")
            .annotate(waiting=Count("pk"), oldest=Min("queued_t")))
    return {r["queue"]: {"waiting": r["waiting"], "longest_wait_s": round(max(0.0, now - (r["oldest"] or now)))}
            for r in rows}


def live_stats() -> dict:
    """What the wallboard shows and GET /api/supervision/live returns.

    Today's figures are those of `allo.routing.kpi.KpiCollector` fed with the router's journal (the
    events it applied and the decisions it stored, `router.kpis.today`): the very computation the
    simulator and the reports use, with the definitions of docs/routing.md. Calls count on the day
    they started waiting; transfers are by N2 domain."""
    from allo.contact_centre.router import kpis
    from allo.org.models import Centre
    from allo.routing import kpi

    waits = queue_waits()
    queues = []
    order = {"n1": 0, "specialised": 1, "informant": 2}
    for centre in sorted(Centre.objects.filter(active=True), key=lambda c: (order.get(c.kind, 3), c.code)):
        qid = cfg.queue_for_centre(centre)
        w = waits.get(qid, {"waiting": 0, "longest_wait_s": 0})
        queues.append({"name": qid, "label": centre.name, "waiting": w["waiting"],
                       "longest_wait_s": w["longest_wait_s"], "open": cfg.always_open() or centre.is_open()})
    agents = {s: 0 for s in ("available", "on_call", "wrap_up", "paused", "offline")}
    for row in AgentStatus.objects.values("state").annotate(n=Count("pk")):
        agents[row["state"]] = row["n"]
    figures = kpis.today()
    for q in queues:  # the N1 queue's is the line's service level (20 s), each N2 queue's its own (60 s)
        q["service_level"] = (figures["service_level"] if q["name"] == cfg.N1_QUEUE
                              else figures["service_level_n2_by_queue"].get(q["name"]))
    from allo.contact_centre.supervision.services import with_thresholds

    alerts = with_thresholds(queues)  # staffing and thresholds crossed, per queue

    def rounded(key: str, digits: int = 3) -> float | None:
        return None if figures[key] is None else round(figures[key], digits)

    # built through its schema: the wallboard's pushes and GET /api/supervision/live are what the API declares
    return MurEnDirect.model_validate({
        "queues": queues,
        "agents": agents,
        "today": {"offered": figures["offered"], "answered": figures["answered"], "abandoned": figures["abandoned"],
                  "service_level": rounded("service_level"),
                  "service_level_target_s": round(kpi.SERVICE_LEVEL_S),
                  "transfers": figures["transfers_by_domain"], "lost": figures["lost"],
                  "abandon_rate": rounded("abandon_rate"), "asa_s": rounded("asa_s", 1),
                  "aht_n1_s": rounded("aht_n1_s", 1), "n1_under_3min": rounded("n1_under_3min"),
                  "n1_fast_target_s": round(kpi.N1_FAST_S), "transfer_rate": rounded("transfer_rate"),
                  "asa_n2_s": rounded("asa_n2_s", 1), "occupancy_n1": rounded("occupancy_n1"),
                  "occupancy_n2": rounded("occupancy_n2")},
        "alerts": alerts,
        "generated_at": timezone.now().isoformat(),
    }).model_dump()


def earlier_contacts(caller: str, exclude: str = "") -> list[Contact]:
    if not caller:
        return []
    since = timezone.now() - dt.timedelta(days=settings.RETENTION_DAYS)
    return list(Contact.objects.filter(caller=caller, created__gte=since).exclude(pk=exclude)
                .prefetch_related("wrapups__theme", "wrapups__outcome_code").order_by("-created")[:10])


def record_wrap_up(contact: Contact, user, *, fiches: list[str], theme, top_theme, outcome, reason, note: str,
                   level: int) -> WrapUp:
    """`theme`/`top_theme`: kb.Theme nodes (or None), `outcome`: a WrapUpOutcome, `reason`: a WrapUpReason
    or None; the desks check them first (allo/contact_centre/desks/wrapup.py)."""
    return WrapUp.objects.create(contact=contact, user=user, fiches=fiches, theme=theme, top_theme=top_theme,
                                 outcome=outcome.kind, outcome_code=outcome, reason=reason, note=note, level=level)


def purge(days: int | None = None) -> dict[str, int]:
    """Delete personal data older than the retention period (contacts, notes, audit, journal payloads,
    the router snapshots' contexts, the fiches de liaison sent to partners and their audit, the agents'
    sign-in audit)."""
    from allo.contact_centre.models import CallerCardView

    days = settings.RETENTION_DAYS if days is None else days
    limit = timezone.now() - dt.timedelta(days=days)
    wrapups = WrapUp.objects.filter(created__lt=limit).delete()[0]
    contacts = Contact.objects.filter(created__lt=limit).delete()[0]
    views = CallerCardView.objects.filter(created__lt=limit).delete()[0]
    # journal inputs carry notes too: those a snapshot already covers are not needed for recovery
    from allo.contact_centre.models import RouterSnapshot

    covered = RouterSnapshot.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    journal = RouterInput.objects.filter(created__lt=limit, seq__lte=covered).delete()[0]
    from allo.accounts.audit import purge as purge_sign_ins  # agents' sign-ins: usernames, claimed e-mails

    # snapshots hold the live contacts' context too
    from allo.contact_centre.router.service import purge_snapshots
    from allo.partners.liaisons import purge as purge_liaisons  # fiches de liaison: a caller's name, request

    return ({"contacts": contacts, "wrapups": wrapups, "audit": views, "journal": journal} | purge_snapshots(limit)
            | purge_liaisons(limit) | purge_sign_ins(limit))
