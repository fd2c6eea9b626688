"""Run the test suite with CPU hogs beside it: `make test-under-load` (issue 14, finding 11).

The suite once failed on a busy 2-core machine where it passed on a quiet one (a lock error that
only shows when threads are descheduled at the wrong moment). This check keeps every core busy
with spinning processes while pytest runs, so timing-dependent tests fail here rather than in CI.

    python tests/run_under_load.py [--hogs N] [--max-seconds S] [pytest arguments...]

The hogs run at the same priority as the tests (a `nice` hog would hide the fault), each is
stopped by its PID when pytest ends, and pytest itself is bounded in time.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

SPIN = "while True: pass"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 2, help="spinning processes (default: one per core)")
    parser.add_argument("--max-seconds", type=int, default=1500, help="pytest is stopped after this long")
    options, pytest_args = parser.parse_known_args(argv)

    hogs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(options.hogs)]
    print(f"== {len(hogs)} CPU hog(s) running (PIDs {', '.join(str(h.pid) for h in hogs)})", flush=True)
    started = time.monotonic()
    try:
        pytest = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], timeout=options.max_seconds)
        code = pytest.returncode
    except subprocess.TimeoutExpired:
        print(f"== pytest did not finish within {options.max_seconds} s under load", flush=True)
        code = 1
    finally:
        for hog in hogs:
            hog.send_signal(signal.SIGKILL)
            hog.wait()
    print(f"== under load: pytest exit {code} after {time.monotonic() - started:.0f} s", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
