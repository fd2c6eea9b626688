"""Shared configurations for the routing tests."""

from __future__ import annotations

from allo.routing.model import AgentConfig, CentreConfig, EngineConfig, QueueConfig

WEEKDAYS = {d: [["08:00", "19:00"]] for d in ["mon", "tue", "wed", "thu", "fri"]}
N2_HOURS = {d: [["09:00", "17:00"]] for d in ["mon", "tue", "wed", "thu", "fri"]}
H = 3600.0
# epoch 2026-03-02 00:00 is a Monday: t = 9 * H is Monday 09:00
MONDAY_9 = 9 * H


def make_config(n1=2, tax=1, conso=1, cira=(1, 1), **queue_options) -> EngineConfig:
    centres = [CentreConfig("line", hours=WEEKDAYS), CentreConfig("tax", hours=N2_HOURS),
               CentreConfig("conso", hours=N2_HOURS)]
    queues = [QueueConfig("n1", "line", 1, **queue_options), QueueConfig("tax", "tax", 2),
              QueueConfig("conso", "conso", 2)]
    agents = [AgentConfig(f"a{i}", "line", 1, {"n1": 1}) for i in range(n1)]
    agents += [AgentConfig(f"t{i}", "tax", 2, {"tax": 1}) for i in range(tax)]
    agents += [AgentConfig(f"k{i}", "conso", 2, {"conso": 1}) for i in range(conso)]
    cira_queues = []
    for j, size in enumerate(cira):
        centres.append(CentreConfig(f"cira{j}", hours=N2_HOURS))
        queues.append(QueueConfig(f"cira{j}", f"cira{j}", 2))
        agents += [AgentConfig(f"c{j}-{i}", f"cira{j}", 2, {f"cira{j}": 1}) for i in range(size)]
        cira_queues.append(f"cira{j}")
    return EngineConfig(centres, queues, agents,
                        {"impots": ["tax"], "consommation": ["conso"], "*": cira_queues},
                        epoch="2026-03-02T00:00:00")




def feed(engine, *events, log=None):
    """Apply `events` in turn, checking the engine's invariants after each; returns their decisions.
    `log` gets each event and its decisions, as the router's journal keeps them (replay skips decisions)."""
    out = []
    for e in events:
        decisions = engine.handle(e)
        engine.check()
        if log is not None:
            log.append(e)
            log.extend(decisions)
        out.extend(decisions)
    return out


def of(decisions, cls):
    return [d for d in decisions if isinstance(d, cls)]
