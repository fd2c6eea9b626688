"""Events out: decisions pushed on the channel layer to the desks and the telephony connector.

Groups: `agent.<id>` (a desk), `telephony` (connector commands, journaled first: a connector that
missed a push gets them from the database, allo/contact_centre/telephony/services.py), `wallboard` (supervisors: the
live figures, computed once by the router and pushed to every open wallboard).
The embedded router runs in a thread; with the in-memory layer the send must run on the web
server's event loop, which the first WebSocket consumer registers with `attach_loop()`.

One `Notifier` per process, built by the composition root (allo.bootstrap) and handed to the router
it builds; `install()` makes it the one the consumers attach their event loop to.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import threading

from channels.layers import get_channel_layer

from allo.contact_centre.router.config import EPOCH_DT

logger = logging.getLogger(__name__)
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
_installed: Notifier | None = None  # this process's, set by allo.bootstrap only


def install(notifier: Notifier | None) -> None:
    """Make `notifier` the one this process's WebSocket consumers attach their loop to."""
    global _installed
    _installed = notifier


def installed() -> Notifier | None:
    """This process's notifier (None in a command or a test without one)."""
    return _installed


def attach_loop(loop: asyncio.AbstractEventLoop) -> None:
    """A consumer's event loop, the one in-memory pushes must run on (no-op with no notifier here)."""
    notifier = _installed
    if notifier is not None:
        notifier.loop = loop


def agent_group(agent: str) -> str:
    return "agent." + _SAFE.sub("_", agent)[:90]


def commands_for(d: dict) -> list[dict]:
    """Telephony commands a decision asks the connector to execute."""
    kind = d["type"]
    call = d.get("contact")
    if kind == "Assign":
        return [{"command": "bridge", "call_id": call, "agent": d["agent"], "outbound": d["outbound"]}]
    if kind == "Transferred" and d["queue"]:
        return [{"command": "transfer", "call_id": call, "centre": d["queue"], "domain": d["domain"]}]
    if kind == "ConsultStarted":  # the caller waits on hold while the operator talks with the expert
        return [{"command": "hold", "call_id": call, "agent": d["agent"], "expert": d["expert"]}]
    if kind == "ConsultEnded" and d["expert"] and d["outcome"] in {"cancelled", "declined", "no_answer"}:
        return [{"command": "unhold", "call_id": call, "agent": d["agent"], "expert": d["expert"]}]
    if kind == "Queued":
        return [{"command": "play", "call_id": call, "announcement": "attente", "position": d["position"],
                 "expected_wait_s": round(d["expected_wait_s"])}]
    if kind == "ProposeCallback":  # `at_local` / `today`: what the edge says of the callback's day and time
        return [{"command": "play", "call_id": call, "announcement": "proposition-rappel", "reason": d["reason"],
                 "at": d["at"], "at_local": _local(d["at"]).isoformat(timespec="minutes"),
                 "today": _local(d["t"]).date().isoformat()}]
    if kind == "ContactEnded" and d["state"] in {"closed", "declined", "completed", "lost"}:
        return [{"command": "hangup", "call_id": call, "reason": d["state"]}]
    return []


def _local(t: float) -> dt.datetime:
    """The platform's local (naive) time of an engine time."""
    return EPOCH_DT + dt.timedelta(seconds=t)


def messages_for(decisions: list[dict]) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    for d in decisions:
        kind = d["type"]
        if kind in ("Assign", "AgentStateChanged"):
            out.append((agent_group(d["agent"]), {"type": "desk.event", "event": d}))
        elif kind in ("ConsultStarted", "ConsultEnded"):  # both desks show the consult
            for agent in {d["agent"], d["expert"]} - {None}:
                out.append((agent_group(agent), {"type": "desk.event", "event": d}))
    return out


async def _send_all(layer, messages):
    for group, message in messages:
        try:
            await layer.group_send(group, message)
        except Exception:  # a full channel must not stop the router
            logger.warning("push failed", extra={"group": group}, exc_info=True)


WALLBOARD = "wallboard"
TELEPHONY = "telephony"


class Notifier:
    """Pushes the router's decisions on the channel layer. With the in-memory layer they go through
    the web server's loop (`loop`, set by the first consumer); with a shared layer (Redis), through one
    long-lived loop of its own, started at the first push, so connections are reused."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._own: asyncio.AbstractEventLoop | None = None
        self._own_lock = threading.Lock()

    def send_many(self, decisions: list[dict]) -> None:
        self._dispatch(messages_for(decisions))

    def send_commands(self, messages: list[dict]) -> None:
        """Commands already journaled (allo.contact_centre.telephony.services.record), with their seq."""
        self._dispatch([(TELEPHONY, {"type": "telephony.command", "command": m}) for m in messages])

    def send_wallboard(self, stats: dict) -> None:
        self._dispatch([(WALLBOARD, {"type": "wallboard.update", "stats": stats})])

    def _dispatch(self, messages: list[tuple[str, dict]]) -> None:
        if not messages:
            return
        layer = get_channel_layer()
        if layer is None:
            return
        if layer.__class__.__name__ == "InMemoryChannelLayer":
            loop = self.loop
            if loop is None or loop.is_closed():
                return  # nobody listens yet in this process
            asyncio.run_coroutine_threadsafe(_send_all(layer, messages), loop)
            return
        asyncio.run_coroutine_threadsafe(_send_all(layer, messages), self._own_loop())

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        with self._own_lock:
            if self._own is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="allo-router-push", daemon=True).start()
                self._own = loop
            return self._own

    def close(self) -> None:
        """Stop its own loop when the process's services stop (a push still under way is dropped, as it
        would be at the process's exit)."""
        with self._own_lock:
            loop, self._own = self._own, None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
