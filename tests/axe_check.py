"""Browser tests: axe-core (as shipped by the axe-playwright-python package, no network at run time)
run on a page once it has stopped moving."""

from __future__ import annotations

import time
from pathlib import Path

AXE_JS = Path(__import__("axe_playwright_python").__file__).with_name("axe.min.js")


def settled(page, timeout: float = 5.0) -> None:
    """Wait until no CSS transition or animation runs (DSFR's collapses open with one): axe measures
    colours as drawn, and a block half faded in failed the contrast check on a busy machine."""
    deadline = time.monotonic() + timeout
    while page.evaluate("document.getAnimations().filter(a => a.playState === 'running').length"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)


def axe_violations(page, context: str = "document") -> list[dict]:
    """axe's violations on the page (or within `context`, a JavaScript expression), all impacts."""
    settled(page)
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(f"axe.run({context}, {{resultTypes: ['violations']}})")["violations"]
