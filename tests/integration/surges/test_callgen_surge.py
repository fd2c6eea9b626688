"""`allo callgen --surge FICHE:PART` against a real `allo serve` (router included): the virtual agents'
wrap-ups make the fiche surge, and the command reports it with the extra agents (docs/surges.md)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from loopback import ALLO, allo, allo_env, allo_serve


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    env = allo_env(tmp_path_factory.mktemp("surge-demo"), ALLO_DEMO_ARCHIVES="", ALLO_CC_HOURS="always")
    allo(env, "init", "--demo")
    with allo_serve(env, "--no-callgen") as server:
        yield type("Served", (), {"base": server.base, "env": env})


def test_callgen_surge_makes_the_fiche_surge(served):
    run = subprocess.run([*ALLO, "callgen", "--url", served.base, "--rate", "6", "--duration", "8",
                          "--virtual-agents", "8", "--talk", "0.3", "--transfer-share", "0", "--partner-share", "0",
                          "--surge", "acte-naissance:0.7", "--seed", "5"],
                         env=served.env, check=True, capture_output=True, text=True, timeout=180)
    sent = int(re.search(r"Appels envoyés : (\d+)", run.stdout).group(1))
    assert sent >= 25, run.stdout
    line = re.search(r"Pic d'actualité, fiche « (.+?) » : (\d+) appels dans la dernière heure pour 1 attendu "
                     r"\(× [\d,]+\)", run.stdout)
    assert line, run.stdout
    assert int(line.group(2)) >= 10
    listed = json.loads(subprocess.run([*ALLO, "surges", "list", "--json"], env=served.env, check=True,
                                       capture_output=True, text=True).stdout)
    fiche = [r for r in listed if r["signal"] == "calls" and r["dim"] == "fiche"]
    # only the surging fiche: the others, picked at random among the catalogue, stay under the bar
    assert [r["key"] for r in fiche] == ["acte-naissance"]
    assert fiche[0]["observed"] == int(line.group(2)) and fiche[0]["extra_agents"] is not None


def test_callgen_surge_refuses_an_unknown_fiche(served):
    run = subprocess.run([*ALLO, "callgen", "--url", served.base, "--duration", "1", "--virtual-agents", "1",
                          "--surge", "fiche-qui-n-existe-pas"], env=served.env, capture_output=True, text=True)
    assert run.returncode != 0 and "aucune fiche publiée « fiche-qui-n-existe-pas »" in run.stderr
