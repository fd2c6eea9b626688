"""Call records: one leg of one call at one queue, the unit the history stores and aggregates.

Pure module (no Django import): the CSV rows of a previous system (`parse_row`) and the live
router's journal (`legs_from_journal`) both become `Leg`s; `allo.history.aggregate` turns legs into
the stored KPI bins.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

REQUIRED_COLUMNS = ("arrived_at", "queue", "outcome", "waited_s", "talk_s")
OPTIONAL_COLUMNS = ("agent", "theme", "origin", "fiche", "level", "destination")
LEVELS = (1, 2)
UNSTATED = 0  # a row without a level: its queue's (services._Queues.level)
OUTCOMES = ("answered", "abandoned")  # what a previous system's record may say
OTHER = "other"  # a live call neither answered nor abandoned (callback proposed, declined...)
# a fiche's id as the knowledge base writes it (allo.kb.models.Fiche.id: 80); an id the KB does not know is
# kept as text (a previous system's history may cite fiches since renamed or removed)
LIMITS = {"queue": 60, "agent": 150, "theme": 120, "origin": 32, "fiche": 80, "destination": 60}


class RowError(ValueError):
    """A bad row; the message is French, without the line number (the caller adds it)."""


@dataclass(slots=True)
class Leg:
    arrived_at: dt.datetime  # aware
    queue: str
    outcome: str  # answered, abandoned, other
    waited_s: float
    talk_s: float | None  # None: unknown (a lost call), left out of AHT
    wrap_s: float = 0.0
    level: int = 1
    agent: str = ""
    theme: str = ""
    origin: str = ""
    fiche: str = ""  # the call's main fiche: the first its level-1 wrap-up cites
    destination: str = ""  # N2 domain of a warm transfer
    key: str = ""  # live legs: "<call id>:<level>", so a rebuild replaces them


def check_header(header: list[str]) -> dict[str, int]:
    """Column name -> index; raises RowError naming the missing columns."""
    names = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise RowError("colonne(s) manquante(s) dans l'en-tête : " + ", ".join(missing)
                       + " (attendu : " + ",".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS) + ")")
    return {name: names.index(name) for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if name in names}


def settle_level(leg: Leg, level: int) -> Leg:
    """The row's level once known (stated, or its queue's); raises RowError for an N2 leg with a destination
    (the domain an N1 leg was transferred to)."""
    if level == 2 and leg.destination:
        raise RowError("destination est le domaine vers lequel un appel de niveau 1 a été transféré : "
                       "vide pour une ligne de niveau 2")
    leg.level = level
    return leg


def _seconds(value: str, column: str) -> float:
    try:
        x = float(value.replace(",", ".")) if value.strip() else math.nan
    except ValueError:
        raise RowError(f"{column} « {value} » n'est pas un nombre de secondes") from None
    if math.isnan(x):
        raise RowError(f"{column} est vide")
    if not math.isfinite(x) or x < 0:
        raise RowError(f"{column} « {value} » doit être un nombre de secondes positif ou nul")
    return x


def parse_row(row: list[str], columns: dict[str, int]) -> Leg:
    """One CSV row (after the header) as a leg; raises RowError with a French message."""
    if len(row) < len(columns) and len(row) <= max(columns.values()):
        raise RowError(f"{len(row)} colonne(s) au lieu de {max(columns.values()) + 1}")

    def cell(name: str) -> str:
        i = columns.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    raw = cell("arrived_at")
    try:
        arrived = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise RowError(f"arrived_at « {raw} » n'est pas une date ISO 8601 "
                       "(par exemple 2026-03-02T09:15:00+01:00)") from None
    if arrived.tzinfo is None:
        raise RowError(f"arrived_at « {raw} » n'a pas de décalage horaire (par exemple +01:00 ou Z)")
    queue = cell("queue")
    if not queue:
        raise RowError("queue est vide")
    outcome = cell("outcome")
    if outcome not in OUTCOMES:
        raise RowError(f"outcome « {outcome} » : attendu answered ou abandoned")
    waited = _seconds(cell("waited_s"), "waited_s")
    talk = _seconds(cell("talk_s"), "talk_s")
    if outcome == "abandoned" and talk:
        raise RowError(f"talk_s vaut {cell('talk_s')} pour un appel abandonné (0 attendu)")
    level = cell("level")
    if level and level not in {str(n) for n in LEVELS}:
        raise RowError(f"level « {level} » : attendu 1 (niveau 1) ou 2 (niveau 2, délai compté depuis le transfert)")
    values = {"queue": queue, "agent": cell("agent"), "theme": cell("theme"), "origin": cell("origin"),
              "fiche": cell("fiche"), "destination": cell("destination")}
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            raise RowError(f"{name} dépasse {limit} caractères")
    return Leg(arrived, queue, outcome, waited, talk if outcome == "answered" else None,
               level=int(level) if level else UNSTATED, agent=values["agent"], theme=values["theme"],
               origin=values["origin"], fiche=values["fiche"], destination=values["destination"])


def legs_from_journal(inputs: Iterable[tuple[float, str, dict, list[dict] | None]],
                     at: callable) -> Iterator[Leg]:
    """The legs of the calls the live router has ended, from its journal in application order:
    (engine time, input type, payload, decisions). `at(t)` turns engine time into an aware datetime.

    One leg per level a call reached: the N1 leg from its arrival (offered, answered or abandoned
    with its N1 wait, talk as kpi counts it: the end of `on_call`, wrap-up the end of `wrap_up`), and
    after a warm transfer to an open N2 queue an N2 leg from the transfer. Callbacks (outbound) and
    calls the line closed on arrival are not offered calls (as in kpi). A leg is yielded when its
    call has ended, so a call still live is left for a later rebuild."""
    live: dict[str, dict] = {}
    by_agent: dict[str, tuple[str, dict]] = {}  # agent -> (call, leg) whose wrap-up it is doing
    for t, kind, payload, decisions in inputs:
        if kind == "ContactArrived" and payload.get("channel", "call") == "call":
            cid = str(payload["contact"])
            live[cid] = {"legs": [_new_leg(t, payload.get("queue") or "", 1)], "closed": False, "ended": False,
                         "wrapping": 0}
        touched = []
        for d in decisions or ():
            typ = d.get("type")
            if typ == "AgentStateChanged":
                prev, agent = d["prev"], d["agent"]
                call = live.get(str(d.get("contact")))
                if prev == "on_call" and call is not None:
                    leg = next((x for x in reversed(call["legs"]) if x["agent"] == agent), None)
                    if leg is not None:
                        leg["talk"] = d["t"] - d["since"]
                        if d["state"] == "wrap_up":
                            by_agent[agent] = (str(d["contact"]), leg)
                            call["wrapping"] += 1
                elif prev == "wrap_up" and agent in by_agent:
                    cid, leg = by_agent.pop(agent)
                    leg["wrap"] += d["t"] - d["since"]
                    if cid in live:
                        live[cid]["wrapping"] -= 1
                        touched.append(cid)
                continue
            cid = str(d.get("contact"))
            call = live.get(cid)
            if call is None:
                continue
            leg = call["legs"][-1]
            if typ in ("Queued", "Overflowed") and leg["outcome"] == OTHER:
                leg["queue"] = d.get("queue") or d.get("to_queue") or leg["queue"]
            elif typ == "Assign" and not d.get("outbound") and d["level"] == leg["level"]:
                leg.update(outcome="answered", waited=d["waited"], agent=d["agent"], queue=d["queue"])
            elif typ == "Transferred":
                leg["destination"] = d["domain"]
                if d.get("queue"):
                    call["legs"].append(_new_leg(d["t"], d["queue"], 2))
            elif typ == "ContactEnded":
                state = d["state"]
                if state == "closed" and d.get("waited") is None and len(call["legs"]) == 1:
                    call["closed"] = True
                elif state == "abandoned" and d.get("waited") is not None and leg["outcome"] == OTHER:
                    leg.update(outcome="abandoned", waited=d["waited"])
                elif state == "lost" and leg["outcome"] == "answered":
                    leg["lost"] = True  # its end is unknown: its talk stays out of AHT, as in kpi
                call["ended"] = True
                touched.append(cid)
        for cid in touched:  # a call is complete when it has ended and its agents' wrap-ups too
            call = live.get(cid)
            if call is not None and call["ended"] and call["wrapping"] <= 0:
                yield from _legs(cid, live.pop(cid), at)


def _new_leg(t: float, queue: str, level: int) -> dict:
    return {"t": t, "queue": queue, "level": level, "outcome": OTHER, "waited": 0.0, "talk": None, "wrap": 0.0,
            "agent": "", "destination": "", "lost": False}


def _legs(cid: str, call: dict, at) -> Iterator[Leg]:
    if call["closed"]:
        return
    for leg in call["legs"]:
        talk = leg["talk"] if leg["outcome"] == "answered" and not leg["lost"] else None
        yield Leg(at(leg["t"]), leg["queue"], leg["outcome"], leg["waited"], talk, wrap_s=leg["wrap"],
                  level=leg["level"], agent=leg["agent"], destination=leg["destination"],
                  key=f"{cid}:{leg['level']}")
