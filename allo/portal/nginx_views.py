"""The portal's page views and searches that nginx served, counted from its views log (docs/deploy.md).

nginx, as `allo deploy nginx` configures it, writes one line per public page it serves (from its
cache or not) that Allô marked with an analytics event: `<time ISO 8601> <event JSON>` (the
`Allo-Replay` header). Allô itself then counts none of the pages nginx asks for (allo.web.pagecache,
LOGS_VIEWS), so each view is counted once, here. `ingest()` reads what was written since its last
run (the file's inode and offset are kept in a small state file), the rest of the rotated file first
when logrotate has moved it (`.1`, uncompressed: Debian's delaycompress), and adds it all to the
statistics in one write; the state moves on only once the write is done.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

from django.utils import timezone

from allo.portal import analytics

logger = logging.getLogger(__name__)


def _complete_lines(path: Path, offset: int) -> tuple[list[bytes], int]:
    """The whole lines after `offset` (a line nginx is still writing waits for the next run)."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1
    return data[:end].splitlines(), offset + end


def _read_state(state_path: Path) -> dict:
    try:
        return json.loads(state_path.read_text())
    except (OSError, ValueError):
        return {}


def ingest(path: Path, state_path: Path) -> dict:
    """Count the views and searches logged since the last run; returns the figures."""
    state = _read_state(state_path)
    inode, offset = state.get("inode"), int(state.get("offset", 0))
    lines: list[bytes] = []
    try:
        current = path.stat()
    except FileNotFoundError:
        current = None
    if inode is not None and (current is None or current.st_ino != inode):
        rotated = path.with_name(path.name + ".1")  # the file read last time, moved by logrotate
        try:
            if rotated.stat().st_ino == inode:
                lines += _complete_lines(rotated, offset)[0]
        except FileNotFoundError:
            pass
        offset = 0
    elif current is not None and current.st_size < offset:  # emptied in place (copytruncate): best effort
        offset = 0
    if current is not None:
        more, offset = _complete_lines(path, offset)
        lines += more
    pending = analytics._Pending()
    counted = refused = 0
    for line in lines:
        try:
            stamp, _, payload = line.decode().partition(" ")
            day = timezone.localtime(dt.datetime.fromisoformat(stamp)).date()
            event = json.loads(payload)
            if not isinstance(event, dict) or not ({"view", "search"} & event.keys()):
                raise ValueError("not an analytics event")
            pending.add(day, event)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            refused += 1
            continue
        counted += 1
    views, searches = pending.take()
    if views or searches:
        analytics.write(views, searches)
    if current is not None:
        state_path.write_text(json.dumps({"inode": current.st_ino, "offset": offset}))
    if refused:
        logger.warning("nginx views log: lines not understood, skipped", extra={"lines": refused})
    return {"events": counted, "skipped": refused}
