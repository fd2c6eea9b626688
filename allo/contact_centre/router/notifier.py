"""Events out: decisions pushed on the channel layer to the desks and the telephony connector.

Groups: `agent.<id>` (a desk), `telephony` (connector commands, journaled first: a connector that
missed a push gets them from the database, allo/contact_centre/telephony/services.py), `wallboard` (supervisors: the
live figures, computed once by the router and pushed to every open wallboard).
The embedded router runs in a thread; with the in-memory layer the send must run on the web
server's event loop, which the first WebSocket consumer registers with `attach_loop()`.
"""

from __future__ import annotations

import asyncio
import logging
import re

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)
_loop: asyncio.AbstractEventLoop | None = None
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def attach_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _loop
    _loop = loop


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
    if kind == "Queued":
        return [{"command": "play", "call_id": call, "announcement": "attente", "position": d["position"],
                 "expected_wait_s": round(d["expected_wait_s"])}]
    if kind == "ProposeCallback":
        return [{"command": "play", "call_id": call, "announcement": "proposition-rappel", "reason": d["reason"],
                 "at": d["at"]}]
    if kind == "ContactEnded" and d["state"] in {"closed", "declined", "completed", "lost"}:
        return [{"command": "hangup", "call_id": call, "reason": d["state"]}]
    return []


def messages_for(decisions: list[dict]) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    for d in decisions:
        kind = d["type"]
        if kind in ("Assign", "AgentStateChanged"):
            out.append((agent_group(d["agent"]), {"type": "desk.event", "event": d}))
    return out


async def _send_all(layer, messages):
    for group, message in messages:
        try:
            await layer.group_send(group, message)
        except Exception:  # a full channel must not stop the router
            logger.warning("push failed", extra={"group": group}, exc_info=True)


WALLBOARD = "wallboard"
TELEPHONY = "telephony"


def send_many(decisions: list[dict]) -> None:
    _dispatch(messages_for(decisions))


def send_commands(messages: list[dict]) -> None:
    """Commands already journaled (allo.contact_centre.telephony.services.record), with their seq."""
    _dispatch([(TELEPHONY, {"type": "telephony.command", "command": m}) for m in messages])


def send_wallboard(stats: dict) -> None:
    _dispatch([(WALLBOARD, {"type": "wallboard.update", "stats": stats})])


def _dispatch(messages: list[tuple[str, dict]]) -> None:
    if not messages:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    if layer.__class__.__name__ == "InMemoryChannelLayer":
        loop = _loop
        if loop is None or loop.is_closed():
            return  # nobody listens yet in this process
        asyncio.run_coroutine_threadsafe(_send_all(layer, messages), loop)
        return
    # a shared layer (Redis): one long-lived loop of our own, so connections are reused
    asyncio.run_coroutine_threadsafe(_send_all(layer, messages), _own_loop())


_private_loop: asyncio.AbstractEventLoop | None = None


def _own_loop() -> asyncio.AbstractEventLoop:
    global _private_loop
    if _private_loop is None:
        import threading

        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="allo-router-push", daemon=True).start()
        _private_loop = loop
    return _private_loop
