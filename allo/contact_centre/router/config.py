"""Adapter from the organisation (Django models) to the routing engine's configuration.

Queue ids: "n1" for the N1 platform, each N2 centre's code for its queue. Agents are not listed
here: each joins the engine's configuration with its first login (the login input carries the
agent's profile, so a replay of the journal rebuilds the same configuration).
"""

from __future__ import annotations

import datetime as dt
import os

from django.conf import settings

from allo.org.hours import hours_config

N1_QUEUE = "n1"
EPOCH = "2026-01-01T00:00:00"
EPOCH_DT = dt.datetime.fromisoformat(EPOCH)
# transfer domains the desks offer, in display order
DOMAINS = [("impots", "Impôts"), ("consommation", "Consommation"), ("cira", "Renseignement généraliste (CIRA)")]


def always_open() -> bool:
    """ALLO_CC_HOURS=always ignores opening hours (demos at night, tests, benchmarks); "real" uses them.
    Default: always open on the embedded SQLite demo, real hours on PostgreSQL."""
    mode = os.environ.get("ALLO_CC_HOURS") or getattr(settings, "CONTACT_CENTRE_HOURS", "")
    if mode:
        return mode == "always"
    return settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


def now_t() -> float:
    """Engine time of the wall clock: seconds since EPOCH in naive Europe/Paris time."""
    from allo.org.hours import local_now

    return (local_now() - EPOCH_DT).total_seconds()


def local_date(t: float) -> dt.date:
    """The local day of engine time t."""
    return (EPOCH_DT + dt.timedelta(seconds=t)).date()


def lost_after() -> float | None:
    """ALLO_CC_LOST_AFTER: seconds without a sign of life (arrival, answer, transfer, callback answer)
    after which the engine ends a call as lost (« perdu ») and frees its agent; 0 turns it off.
    Default 2 hours: longer than any conversation the line has."""
    value = float(os.environ.get("ALLO_CC_LOST_AFTER") or getattr(settings, "CONTACT_CENTRE_LOST_AFTER", 7200))
    return value if value > 0 else None


def t_of(when: dt.datetime) -> float:
    from zoneinfo import ZoneInfo

    if when.tzinfo is not None:
        when = when.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)
    return (when - EPOCH_DT).total_seconds()


def queue_for_centre(centre) -> str:
    return N1_QUEUE if centre.kind == "n1" else centre.code


def base_config() -> dict:
    """Centres, queues and transfer destinations from the organisation; no agents yet."""
    from allo.org.models import Centre, Closure

    ignore_hours = always_open()
    line_closures = list(Closure.objects.filter(centre__isnull=True))
    centres, queues = [], []
    destinations: dict[str, list[str]] = {}
    for centre in Centre.objects.filter(active=True).prefetch_related("opening_periods", "closures").order_by("code"):
        hours = hours_config(centre, line_closures)  # allo.org.hours: the desks' and the website's hours too
        if ignore_hours:
            hours["hours"] = None
        centres.append({"id": centre.code, "name": centre.name, **hours})
        qid = queue_for_centre(centre)
        level = 1 if qid == N1_QUEUE else 2
        queues.append({"id": qid, "centre": centre.code, "level": level, "aht_s": 180.0 if level == 1 else 420.0,
                       "max_waiting": None if level == 1 else 30, "max_wait_s": None if level == 1 else 1800.0})
        if level == 2:
            destinations.setdefault(centre.domain, []).append(qid)
    if "cira" in destinations:
        destinations["*"] = list(destinations["cira"])
    from allo.voice.credentials import voice_edge

    # with the voice edge (ALLO_VOICE_EDGE), an agent is offered calls only while its phone is registered
    return {"centres": centres, "queues": queues, "agents": [], "destinations": destinations, "epoch": EPOCH,
            "lost_after_s": lost_after(), "phone_required": voice_edge()}


def agent_profile(user) -> dict | None:
    """The engine profile of a staff member: N1 operators take the "n1" queue, N2 experts their centre's."""
    from allo.accounts.roles import Role

    centre = user.centre
    if user.has_role(Role.EXPERT) and centre is not None and centre.kind != "n1" and not user.has_role(Role.OPERATOR):
        return {"id": user.username, "centre": centre.code, "level": 2, "skills": {centre.code: 1}}
    if user.has_role(Role.OPERATOR):
        code = centre.code if centre is not None and centre.kind == "n1" else "n1-plateforme"
        return {"id": user.username, "centre": code, "level": 1, "skills": {N1_QUEUE: 1}}
    return None
