"""Reference runs of the simulator, to check that a change of the runner's structure changes nothing.

`runs()` simulates a few fixed-seed cases (the default scenario, its partner-overflow variant, web
callback requests, M/M/c with and without patience) and returns for each its JSON figures (minus
wall times) and the SHA-256 of its whole engine log (every event fed and decision returned, in
order). `python tests/unit/simulation/sim_reference.py > tests/unit/simulation/sim_reference.json`
records them; test_sim_reference.py compares today's runner with the recorded file. The recorded
file was produced by the runner of commit 34e9191 (the 11-slot list and the if/elif chain); its log
hashes were recorded again with floats rounded (PLACES) from a runner whose unrounded log still had
34e9191's exact hashes, with numpy's AVX-512 paths disabled (NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL").
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from allo.routing import events as ev  # noqa: E402
from allo.simulation.runner import simulate, simulate_mmc  # noqa: E402
from allo.simulation.scenario import load_scenario, parse_scenario  # noqa: E402

DROP = {"wall_s", "events_per_s"}


# Engine times and durations to the microsecond: numpy's exp and log take other SIMD paths on a CPU with
# AVX-512 and differ in the last bits (the unrounded log's hash changed from one machine to the next, the
# figures did not); a microsecond is far above those bits and far below anything the engine decides on.
PLACES = 6


def _rounded(value):
    if isinstance(value, float):
        return round(value, PLACES)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


class LogDigest:
    """SHA-256 of the engine log, record by record (JSON with sorted keys, numpy scalars as Python's,
    floats to PLACES decimals)."""

    def __init__(self):
        self.h = hashlib.sha256()
        self.records = 0

    def __call__(self, record) -> None:
        self.records += 1
        plain = json.loads(json.dumps(ev.to_dict(record), default=lambda o: o.item()))
        self.h.update(json.dumps(_rounded(plain), sort_keys=True).encode())
        self.h.update(b"\n")


def _web_scenario():
    import tomllib

    data = tomllib.loads((ROOT / "allo/simulation/scenarios/default.toml").read_text(encoding="utf-8"))
    data.setdefault("traffic", {})["web_callback_share"] = 0.05
    return parse_scenario(data)


def _case(name: str, fn) -> tuple[str, dict]:
    digest = LogDigest()
    result = fn(digest)
    figures = {k: v for k, v in result.to_json().items() if k not in DROP}
    return name, {"figures": figures, "log_records": digest.records, "log_sha256": digest.h.hexdigest()}


def runs() -> dict:
    partner = ROOT / "allo/simulation/scenarios/topical-peak-partner.toml"
    cases = [
        ("default-3-days", lambda sink: simulate(load_scenario(), seed=1, days=3, sink=sink)),
        ("partner-overflow-3-days", lambda sink: simulate(load_scenario(partner), seed=2, days=3, sink=sink)),
        ("web-callbacks-2-days", lambda sink: simulate(_web_scenario(), seed=3, days=2, sink=sink)),
    ]
    out = dict(_case(n, f) for n, f in cases)
    # M/M/c has no sink: its figures (every KPI, events and decisions counted) are the check
    for name, patience in (("mmc-erlang-c", None), ("mmc-erlang-a", 120.0)):
        result = simulate_mmc(800.0, 194.0, 44, 20_000, patience_s=patience, seed=5)
        out[name] = {"figures": {k: v for k, v in result.to_json().items() if k not in DROP}}
    return out


if __name__ == "__main__":
    print(json.dumps(runs(), indent=1, sort_keys=True))
