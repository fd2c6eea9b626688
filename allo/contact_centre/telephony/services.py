"""Telephony commands, durable: the router journals each command with the decision that asks for it,
the connector acknowledges them, and a connection starts from the last one acknowledged.

- `record()` runs inside the router's transaction: a command exists exactly when its decision does
  (an input is applied and committed with its decisions and commands, or not at all).
- The command's `seq` (TelephonyCommand's key, increasing, never reused) is its id: a connector
  executes each seq once and ignores one it has already seen (a command is sent again when its
  acknowledgement was lost).
- Acknowledgements are cumulative (`{"type": "ack", "seq": N}`: every command up to N is done). Each
  connector has its own position, kept in TelephonyAck: the single connector's (`telephony`), or each
  voice node's (`node:<name>`, when it connects with `?node=<name>`): a node that was away gets again
  every command after its own last acknowledgement, whatever the other nodes acknowledged meanwhile.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.db.models import F, Max, Min
from django.db.models.functions import Greatest
from django.utils import timezone

from allo.contact_centre.models import TelephonyAck, TelephonyCommand
from allo.contact_centre.router.notifier import commands_for

STREAM = "telephony"  # the single connector's position
NODE = re.compile(r"^[a-z0-9-]{1,12}$")  # a voice node's name (allo.voice.config): its own position
PAGE = 500  # commands read from the database at a time when a connector catches up
# Commands are kept a day after their acknowledgement, and a week at most unacknowledged: a connector
# away longer has no use for them (their calls ended long ago) and the demo's, which never connects,
# must not pile up.
KEEP_ACKED = dt.timedelta(days=1)
KEEP_UNACKED = dt.timedelta(days=7)


def message(seq: int, command: dict) -> dict:
    """What the connector receives: the command with its seq."""
    return {"seq": seq, **command}


def record(decisions: list[dict]) -> list[dict]:
    """Store the commands the decisions ask for (in the caller's transaction); returns the messages."""
    commands = [c for d in decisions for c in commands_for(d)]
    if not commands:
        return []
    rows = TelephonyCommand.objects.bulk_create(
        [TelephonyCommand(call_id=str(c["call_id"])[:64], command=c) for c in commands])
    return [message(r.seq, r.command) for r in rows]


PROMPTS_CHANGED = {"command": "prompts", "call_id": ""}  # no call: every node loads the recordings again


def announce(command: dict) -> None:
    """A command about no call (PROMPTS_CHANGED), journaled once the caller's transaction commits, then
    pushed to the connected nodes (a node away gets it from the stream when it comes back)."""
    from allo.contact_centre.router.notifier import installed

    def journal():
        row = TelephonyCommand.objects.create(call_id=str(command.get("call_id", ""))[:64], command=command)
        if installed() is not None:
            installed().send_commands([message(row.seq, row.command)])

    transaction.on_commit(journal)


def after(seq: int, upto: int | None = None, limit: int = PAGE) -> list[dict]:
    """The messages of the commands after `seq` (up to `upto`), in order, at most `limit`."""
    rows = TelephonyCommand.objects.filter(seq__gt=seq)
    if upto is not None:
        rows = rows.filter(seq__lte=upto)
    return [message(s, c) for s, c in rows.order_by("seq").values_list("seq", "command")[:limit]]


def stream_of(node: str = "") -> str:
    """The position of a connector: a named voice node's own, else the single connector's."""
    return f"node:{node}" if node else STREAM


def acknowledged(stream: str = STREAM) -> int:
    """How far `stream` acknowledged. A node connecting for the first time starts where no connector has
    acknowledged yet (the least position kept): the commands before are done, and none is its own."""
    seq = TelephonyAck.objects.filter(stream=stream).values_list("seq", flat=True).first()
    if seq is None and stream != STREAM:
        seq = TelephonyAck.objects.aggregate(m=Min("seq"))["m"]
    return seq or 0


def acknowledge(seq: int, stream: str = STREAM) -> int:
    """Every command up to `seq` is done for `stream` (never goes back; never past the last command issued)."""
    last = TelephonyCommand.objects.aggregate(m=Max("seq"))["m"] or 0
    seq = max(0, min(int(seq), last))
    with transaction.atomic():
        TelephonyAck.objects.get_or_create(stream=stream)
        TelephonyAck.objects.filter(stream=stream).update(seq=Greatest(F("seq"), seq), updated=timezone.now())
    return acknowledged(stream)


def prune(now: dt.datetime | None = None) -> int:
    """Commands every connector acknowledged a day ago, and any a week old. A position not moved for a
    week (a node removed) holds nothing back."""
    now = now or timezone.now()
    live = TelephonyAck.objects.filter(updated__gte=now - KEEP_UNACKED)
    done_upto = live.aggregate(m=Min("seq"))["m"] or 0
    done = TelephonyCommand.objects.filter(seq__lte=done_upto, created__lt=now - KEEP_ACKED).delete()[0]
    return done + TelephonyCommand.objects.filter(created__lt=now - KEEP_UNACKED).delete()[0]
