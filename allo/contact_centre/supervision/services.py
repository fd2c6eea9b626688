"""Live floor control: every agent as the router sees it, queue thresholds, and supervisors' actions.

Reads come from the router's projections (`AgentStatus`, `Contact`). Actions never write the
engine's state: each is one journal input (`ContactLost`, `AgentPause`/`AgentLogout` with
`force`), applied by the router like any other and replayed the same, with the supervisor who asked
in its payload (`by`) and a row in the audit trail (`CallerCardView` with its `action`).
"""

from __future__ import annotations

import uuid

from django.db import transaction

from allo.contact_centre.models import AgentStatus, AuditAction, CallerCardView, Contact, QueueThreshold
from allo.contact_centre.router import config as cfg
from allo.contact_centre.router.service import submit
from allo.routing import kpi

STATE_LABELS = {"available": "Prêt", "on_call": "En communication", "wrap_up": "En clôture", "paused": "En pause",
                "offline": "Déconnecté"}
FORCED_PAUSE_REASON = "Mise en pause par la supervision"
LIVE_CALL_STATES = ("queued", "connected", "transferring", "callback_offered")


class ActionRefused(ValueError):
    """The action does not apply (an agent already logged out, a call already ended): French message."""


def force(user, action: str, *, agent: str = "", call_id: str = "") -> bool:
    """A supervisor's action: `end_call` (a call whose hang-up never came ends « perdu »), `pause` or
    `logout` of an agent (forced: a ghost call or a wrap-up does not hold them). Journaled and audited
    in one transaction; returns False when the same action was already asked (idempotent key)."""
    by = user.username
    if action == AuditAction.END_CALL:
        contact = Contact.objects.filter(pk=call_id, state__in=LIVE_CALL_STATES).first()
        if contact is None:
            raise ActionRefused("Cet appel est déjà terminé.")
        agent = contact.agent if contact.state == "connected" else ""
        event, payload, key = "ContactLost", {"contact": call_id, "reason": "supervision"}, f"lost:{call_id}"
    elif action in (AuditAction.PAUSE, AuditAction.LOGOUT):
        status = AgentStatus.objects.filter(pk=agent).exclude(state="offline").first()
        if status is None:
            raise ActionRefused("Cet agent n'est pas connecté.")
        if action == AuditAction.PAUSE and status.state == "paused":
            raise ActionRefused("Cet agent est déjà en pause.")
        call_id = status.contact
        if action == AuditAction.PAUSE:
            event, payload = "AgentPause", {"agent": agent, "reason": FORCED_PAUSE_REASON, "force": True}
        else:
            event, payload = "AgentLogout", {"agent": agent, "force": True}
        key = f"force-{action}:{agent}:{uuid.uuid4().hex}"
    else:
        raise ActionRefused("Action inconnue.")
    with transaction.atomic():
        created = submit(event, payload | {"by": by}, key)
        if created:
            CallerCardView.objects.create(user=user, action=action, agent=agent, contact=call_id)
    return created


def audit(limit: int = 20) -> list[CallerCardView]:
    """The supervisors' latest actions (the audit trail's other rows are caller-card views)."""
    return list(CallerCardView.objects.exclude(action="").select_related("user").order_by("-created", "-pk")[:limit])


def _names(agents: list[str]) -> dict[str, str]:
    from allo.accounts.models import User

    return {u.username: (u.get_full_name() or u.username)
            for u in User.objects.filter(username__in=agents).only("username", "first_name", "last_name")}


def floor() -> list[dict]:
    """Every agent logged in or who worked today: state and time in it, pause reason, current call and
    its duration, calls handled and AHT today (allo.routing.kpi's definition)."""
    now = cfg.now_t()
    today = cfg.local_date(now)
    statuses = [s for s in AgentStatus.objects.order_by("level", "agent") if s.state != "offline" or s.day == today]
    calls = {c["pk"]: c for c in Contact.objects.filter(pk__in=[s.contact for s in statuses if s.contact])
             .values("pk", "offered_t", "state", "queue")}
    names = _names([s.agent for s in statuses])
    agents = []
    for s in statuses:
        counted = s.day == today
        handled = s.handled if counted else 0
        aht = kpi.handle_time(s.talk_s, s.wrap_s, handled) if counted else None
        call = calls.get(s.contact) if s.contact else None
        agents.append({
            "agent": s.agent, "name": names.get(s.agent, s.agent), "level": s.level, "state": s.state,
            "state_label": STATE_LABELS.get(s.state, s.state), "in_state_s": max(0, round(now - s.since_t)),
            "reason": s.reason if s.state == "paused" else "",
            "call": None if call is None else {
                "id": call["pk"], "duration_s": max(0, round(now - (call["offered_t"] or now)))},
            "handled": handled, "aht_s": None if aht is None else round(aht),
        })
    return agents


def thresholds() -> dict[str, QueueThreshold]:
    """Queue id -> its thresholds (set in the admin)."""
    return {cfg.queue_for_centre(t.centre): t for t in QueueThreshold.objects.select_related("centre")}


def crossed(threshold: QueueThreshold | None, queue: dict) -> list[str]:
    """The thresholds `queue` (a live_stats queue, with its day's service level: the line's N1 figure
    for the N1 queue, its own for an N2 queue) crosses, in French."""
    if threshold is None:
        return []
    out = []
    service_level = queue.get("service_level")
    if (threshold.service_level_min is not None and service_level is not None
            and service_level * 100 < threshold.service_level_min):
        out.append(f"niveau de service {round(service_level * 100)} % sous le seuil de "
                   f"{threshold.service_level_min} %")
    if threshold.waiting_max is not None and queue["waiting"] > threshold.waiting_max:
        out.append(f"{queue['waiting']} appels en attente, au-delà de {threshold.waiting_max}")
    if threshold.longest_wait_max_s is not None and queue["longest_wait_s"] > threshold.longest_wait_max_s:
        out.append(f"attente la plus longue {queue['longest_wait_s']} s, au-delà de {threshold.longest_wait_max_s} s")
    return out


def with_thresholds(queues: list[dict]) -> list[str]:
    """Mark each live_stats queue with its staffing and crossed thresholds (`alerts`, `status`: "ok",
    "alert", or None without thresholds); returns every alert as « file : message »."""
    limits = thresholds()
    staffing = floor_staffing()
    alerts = []
    for q in queues:
        q.update(staffing.get(q["name"], {"staffed": 0, "ready": 0}))
        limit = limits.get(q["name"])
        q["alerts"] = crossed(limit, q)
        q["status"] = None if limit is None else ("alert" if q["alerts"] else "ok")
        alerts += [f"{q['label']} : {message}" for message in q["alerts"]]
    return alerts


def floor_staffing() -> dict[str, dict]:
    """Per queue id: agents logged in with its skill (`staffed`) and ready (`ready`)."""
    staffing: dict[str, dict] = {}
    for state, queues in AgentStatus.objects.exclude(state="offline").values_list("state", "queues"):
        for q in filter(None, queues.split(",")):
            entry = staffing.setdefault(q, {"staffed": 0, "ready": 0})
            entry["staffed"] += 1
            entry["ready"] += state == "available"
    return staffing
