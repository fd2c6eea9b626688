"""Two rules of this suite that broke whole CI runs when a module was run alone and passed:

- every test module's name is unique (pytest imports them by basename: two `test_voice_callback.py`
  stopped the collection with « import file mismatch »);
- coroutines run through `loopback.run_async`, not `asyncio.run`: after a browser test Playwright
  leaves a running event loop in the main thread, and `asyncio.run` then fails.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
# asyncio.run in a thread of its own is fine (no loop runs there)
FRESH_THREAD = re.compile(r"_in_a_fresh_thread\(lambda: asyncio\.run\(")


def test_test_module_names_are_unique():
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert [name for name, n in names.items() if n > 1] == []


def test_coroutines_run_through_loopback_run_async():
    offenders = []
    for path in TESTS.rglob("*.py"):
        if path.name == "loopback.py" or path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "asyncio.run(" in line and not FRESH_THREAD.search(line):
                offenders.append(f"{path.relative_to(TESTS)}:{number}")
    assert offenders == []
