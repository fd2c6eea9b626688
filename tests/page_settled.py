"""Browser tests: wait for a page to stop moving before it is measured."""

from __future__ import annotations

import time


def settled(page, timeout: float = 5.0) -> None:
    """Wait until no CSS transition or animation runs (DSFR's collapses open with one): axe measures
    colours as drawn, and a block half faded in failed the contrast check on a busy machine."""
    deadline = time.monotonic() + timeout
    while page.evaluate("document.getAnimations().filter(a => a.playState === 'running').length"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
