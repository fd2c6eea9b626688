"""Pure routing core: events in, decisions out (no Django, no clock). See docs/routing.md.

    from allo.routing import Engine, EngineConfig, events
    engine = Engine(EngineConfig.from_dict(stored_config))
    decisions = engine.handle(events.ContactArrived(t, contact_id, "n1"))
"""

from allo.routing import events
from allo.routing.engine import Engine, EngineError, replay
from allo.routing.hours import OpeningHours
from allo.routing.kpi import KpiCollector
from allo.routing.model import AgentConfig, AgentState, CentreConfig, ContactState, EngineConfig, QueueConfig

__all__ = [
    "AgentConfig", "AgentState", "CentreConfig", "ContactState", "Engine", "EngineConfig", "EngineError",
    "KpiCollector", "OpeningHours", "QueueConfig", "events", "replay",
]
