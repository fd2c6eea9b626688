"""The demo as `make run` builds it: `allo init --demo` seeds the partners, `allo callgen` sends a share
of its calls through their entry numbers to a real `allo serve`, and those calls carry the partner."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest
from loopback import free_port

ALLO = [sys.executable, "-m", "allo"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("partners-demo")
    env = os.environ | {"ALLO_DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'allo.sqlite3'}",
                        "ALLO_HTTPS": "0", "ALLO_LOG_LEVEL": "WARNING", "ALLO_DEMO_ARCHIVES": ""}
    env.pop("REDIS_URL", None)
    env.pop("ALLO_WEB_THREADS", None)
    subprocess.run([*ALLO, "init", "--demo"], env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([*ALLO, "serve", "--port", str(port), "--no-callgen", "--no-router"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/api/openapi.json", timeout=5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("allo serve did not start: " + proc.stderr.read().decode()[-2000:]) from None
            time.sleep(0.2)
    yield type("Served", (), {"base": base, "env": env, "db": data / "allo.sqlite3"})
    proc.kill()
    proc.wait()


def test_partners_list_json_on_the_demo(served):
    out = subprocess.run([*ALLO, "partners", "list", "--json"], env=served.env, check=True, capture_output=True,
                         text=True).stdout
    rows = json.loads(out)
    assert [r["name"] for r in rows] == ["Mairie de Rouen", "Préfecture de la Gironde", "CAF du Rhône"]
    assert rows[2]["entry_numbers"] == ["+33465710001", "+33465710002"]


def test_callgen_sends_a_share_of_its_calls_through_the_partners(served):
    run = subprocess.run([*ALLO, "callgen", "--url", served.base, "--rate", "15", "--duration", "3",
                          "--partner-share", "0.5", "--seed", "7"], env=served.env, check=True, capture_output=True,
                         text=True)
    sent, via = map(int, re.search(r"Appels envoyés : (\d+) \(dont (\d+) par des partenaires\)", run.stdout).groups())
    assert sent >= 10 and 0 < via < sent
    with sqlite3.connect(served.db) as db:
        numbers = dict(db.execute("SELECT number, partner_id FROM partners_entrynumber").fetchall())
        rows = db.execute("SELECT dialed, partner_id FROM contact_centre_contact WHERE channel = 'call'").fetchall()
    assert len(rows) == sent
    through = [(dialed, partner) for dialed, partner in rows if dialed != "3939"]
    assert len(through) == via
    # every demo entry number is accepted (the town hall's is its overflow number)
    assert all(partner == numbers["+33" + dialed[1:]] for dialed, partner in through)
    assert all(partner is None for dialed, partner in rows if dialed == "3939")
