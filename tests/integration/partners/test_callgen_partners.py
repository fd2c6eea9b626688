"""The demo as `make run` builds it: `allo init --demo` seeds the partners, `allo callgen` sends a share
of its calls through their entry numbers to a real `allo serve`, and those calls carry the partner."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess

import pytest
from loopback import ALLO, allo, allo_env, allo_serve


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("partners-demo")
    env = allo_env(data, ALLO_DEMO_ARCHIVES="")
    allo(env, "init", "--demo")
    with allo_serve(env, "--no-callgen", "--no-router", ready="/api/openapi.json") as server:
        yield type("Served", (), {"base": server.base, "env": env, "db": data / "allo.sqlite3"})


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
