"""Kamailio's JSON-RPC over its FIFO (jsonrpcs module): what the edge really has, for the adapter's
reconciliation (docs/voice.md). The request goes into Kamailio's FIFO with a `reply_name`; Kamailio
writes the answer into that FIFO, created by us in its `fifo_reply_dir`. A FIFO rather than the
datagram socket: a datagram reply is capped at 64 KB, and `dlg.list` grows with the calls. The
adapter also has Kamailio send a transfer's REFER through it (`tm.t_uac_start`, with parameters).

The readers of the answers (`dialog_call_ids`, `registered_users`) are pure.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import time
import uuid
from pathlib import Path


class RpcError(Exception):
    pass


def _call(fifo: Path, method: str, timeout: float, params: list | None = None) -> object:
    reply = fifo.parent / f"allo-rpc-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    os.mkfifo(reply, 0o600)
    try:
        # opened first, without waiting for a writer: Kamailio opens it to answer
        reader = os.open(reply, os.O_RDONLY | os.O_NONBLOCK)
        try:
            request = {"jsonrpc": "2.0", "method": method, "id": 1, "reply_name": reply.name}
            if params is not None:
                request["params"] = params
            try:  # no reader (Kamailio not running): ENXIO at once rather than a wait
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                raise RpcError(f"Kamailio's FIFO {fifo}: {exc}") from exc
            try:
                os.write(writer, (json.dumps(request) + "\n").encode())
            finally:
                os.close(writer)
            chunks: list[bytes] = []
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RpcError(f"{method}: no answer from Kamailio within {timeout:.0f} s")
                if not select.select([reader], [], [], left)[0]:
                    continue
                chunk = os.read(reader, 65536)
                if chunk:
                    chunks.append(chunk)
                elif chunks:  # end of file once Kamailio has written and closed it
                    break
                else:  # no writer yet (Linux reports no end of file before a first writer)
                    time.sleep(0.01)
        finally:
            os.close(reader)
    finally:
        reply.unlink(missing_ok=True)
    answer = json.loads(b"".join(chunks))
    if "error" in answer:
        raise RpcError(f"{method}: {answer['error']}")
    return answer.get("result")


async def call(fifo: Path, method: str, timeout: float = 5.0, params: list | None = None) -> object:
    """The `result` of one JSON-RPC command (raises RpcError, or ValueError for an unreadable answer)."""
    return await asyncio.to_thread(_call, fifo, method, timeout, params)


# Kamailio's dialog states (dialog module): 1 unconfirmed, 2 early, 3 confirmed without ACK, 4 confirmed,
# 5 deleted (ended, still listed until its last reference goes)
DIALOG_ENDED = 5


def dialog_call_ids(dlg_list: object) -> set[str]:
    """The Call-IDs of `dlg.list`'s live dialogs (a parked INVITE has one too: dlg_manage() comes first).
    Kamailio 5.6 answers a list of {"call-id", "state", "caller": {"tag"}, "callee": {"tag"}, …}, and no
    result at all when it has none."""
    return {str(d["call-id"]) for d in dlg_list or [] if isinstance(d, dict) and "call-id" in d
            and d.get("state") != DIALOG_ENDED}


def registered_users(ul_dump: object) -> set[str]:
    """The users with at least one contact in `ul.dump` (the AoR's user part: an AoR may carry the domain).
    Kamailio 5.6: {"Domains": [{"Domain": {"Domain": "location", "AoRs": [{"Info": {"AoR": "operateur",
    "Contacts": [{"Contact": {"Address", "Expires", …}}]}}]}}]}."""
    users = set()
    for domain in (ul_dump or {}).get("Domains", []):
        for record in domain.get("Domain", {}).get("AoRs", []):
            info = record.get("Info", {})
            if info.get("Contacts"):
                users.add(str(info.get("AoR", "")).partition("@")[0])
    users.discard("")
    return users
