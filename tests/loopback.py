"""Loopback helpers for tests that start real servers (allo serve, Kamailio, an SMTP or OpenID provider)
and call them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REDIS = ("127.0.0.1", 6379)
ALLO = [sys.executable, "-m", "allo"]
# what a test's server must not inherit from the shell or CI that runs the tests
NOT_INHERITED = ("REDIS_URL", "ALLO_WEB_THREADS", "PROMETHEUS_MULTIPROC_DIR", "ALLO_ROUTER")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free on 127.0.0.1 now (TCP by default, or UDP)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


def post_call(base: str, token: str, caller: str, dialed: str = "3939") -> str:
    """A call arriving through the public telephony API of the server at `base`; its id."""
    request = urllib.request.Request(base + "/api/telephony/calls", method="POST",
                                     data=json.dumps({"caller": caller, "dialed": dialed}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["call_id"]


def allo_env(data: Path, **settings: str) -> dict[str, str]:
    """The environment of an Allô of its own: data folder and SQLite database under `data`, plain
    HTTP, quiet logs; `settings` add to it or override it (ALLO_CC_HOURS="always", REDIS_URL...)."""
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    return env | {"ALLO_DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'allo.sqlite3'}",
                  "ALLO_HTTPS": "0", "ALLO_LOG_LEVEL": "WARNING"} | settings


def allo(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run an `allo` command (init --demo, token create...); its standard output."""
    done = subprocess.run([*ALLO, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"allo {' '.join(args)} failed ({done.returncode}): {done.stderr[-3000:]}")
    return done.stdout


def stop(proc: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM to a process the test started, by its PID; SIGKILL if it does not go in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait(timeout=10)


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    """Poll `condition` until it returns something true (returned), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def run_async(coroutine, timeout: float = 120):
    """asyncio.run(coroutine) in a thread of its own: a browser test earlier in the session (Playwright's
    sync API) leaves an event loop running in the main thread, where asyncio.run refuses to run."""
    import asyncio
    import threading

    result, errors = [], []

    def run() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    thread = threading.Thread(target=run, name="test-event-loop", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"the coroutine did not end within {timeout:.0f} s")
    if errors:
        raise errors[0]
    return result[0]


def alive(pid: int) -> bool:
    """Whether a process still runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log: Path  # its stdout and stderr

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{self.host}"


@contextmanager
def allo_serve(env: dict[str, str], *args: str, ready: str = "/healthz", timeout: float = 240) -> Iterator[Server]:
    """A real `allo serve --port P *args` on loopback, once `ready` answers 200 (/healthz: the router
    turns; /api/openapi.json for a server without one); stopped by its PID when the block ends. The
    deadline is for collectstatic and the router's start on a busy 2-core machine."""
    port = free_port()
    log = Path(env["ALLO_DATA_DIR"]) / f"serve-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*ALLO, "serve", "--host", "127.0.0.1", "--port", str(port), *args], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    server = Server(proc, port, log)
    try:
        deadline = time.monotonic() + timeout
        while _status(server.base + ready) != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("allo serve did not start: " + log.read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        yield server
    finally:
        stop(proc)
