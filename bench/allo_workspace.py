"""What the benchmarks that run `allo` commands share: a throw-away data folder and database, and a
timed command in its own process (so Django's start and the command's memory are measured as a user
meets them)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLO = [sys.executable, "-m", "allo"]


def workspace(prefix: str, database_url: str | None) -> tuple[Path, dict]:
    """A new data folder, and the environment for `allo` commands on a fresh database in it — or on
    `database_url` (PostgreSQL), dropped and created again."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    env = {**os.environ, "ALLO_DATA_DIR": str(work), "ALLO_DEMO_ARCHIVES": "", "ALLO_LOG_LEVEL": "WARNING"}
    if database_url:
        import psycopg

        base, name = database_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = database_url
    else:
        env["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    return work, env


def run(args: list[str], env: dict) -> float:
    """Seconds taken by `allo ARGS` in its own process."""
    started = time.perf_counter()
    subprocess.run(ALLO + args, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def peak_child_mb() -> float:
    """The largest resident memory of any command run so far."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
