"""The routing core and the simulator stand alone: no Django anywhere in their import graph."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import allo

ROOT = Path(allo.__file__).parent


def _modules(package: str) -> list[str]:
    path = ROOT / package.split(".")[-1]
    names = [package]
    for info in pkgutil.walk_packages([str(path)], prefix=f"{package}."):
        names.append(info.name)
    return names


def test_routing_and_simulation_import_without_django():
    modules = _modules("allo.routing") + _modules("allo.simulation")
    assert "allo.routing.engine" in modules and "allo.simulation.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not bad, bad\n"
        "print('ok', len(sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
