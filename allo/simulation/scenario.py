"""Simulation scenarios: a TOML file read with tomllib and validated field by field.

Every error names the offending field (e.g. `n1.agents`), so a hand-edited scenario is easy to fix.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allo.routing.hours import DAY_NAMES, OpeningHours
from allo.routing.kpi import SERVICE_LEVEL_S

SCENARIOS = Path(__file__).parent / "scenarios"
DEFAULT_SCENARIO = SCENARIOS / "default.toml"


class ScenarioError(ValueError):
    pass


@dataclass
class Topic:
    id: str
    theme: str
    level2: str
    popularity: int


@dataclass
class Peak:
    theme: str  # a theme's topics all at `factor`, or (theme "") the one topic below
    factor: float
    start: dt.date
    working_days: int
    topic: str = ""  # one topic (a fiche id of the mix) in the news: a topical surge (docs/surges.md)


@dataclass
class N2Centre:
    id: str
    name: str
    domain: str
    agents: int
    hours: dict
    subdivision: str | None = None


@dataclass
class Scenario:
    start: dt.date
    days: int
    interval_minutes: int
    sl_seconds: float
    sl_target: float
    calls_per_month: float
    topics: list[Topic]
    weekday_factors: dict[int, float]
    saturday_share: float
    weekday_profile: list[float]
    weekday_profile_start: dt.time
    saturday_profile: list[float]
    saturday_profile_start: dt.time
    peaks: list[Peak]
    n1_hours: dict
    n1_agents: int
    on_phone_share: float
    staffing: str
    talk1_median: float
    talk1_p90: float
    wrap1: float
    patience1: float
    transfer_share: float
    low_popularity_factor: float
    talk2_median: float
    talk2_p90: float
    wrap2: float
    patience2: float
    max_wait2: float
    callback_accept: float
    callback_reached: float
    n2_centres: list[N2Centre]
    overflow_after_s: float | None = None
    partner_agents: int = 0
    web_callback_share: float = 0.0
    web_callback_delay_s: float = 3600.0
    source: str = ""
    extra: dict = field(default_factory=dict)

    def line_hours(self) -> OpeningHours:
        return OpeningHours.from_dict(self.n1_hours)


class _Reader:
    """Typed access to a TOML table with errors naming the dotted field."""

    def __init__(self, data: dict, prefix: str):
        self.data = data
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def table(self, key: str, required: bool = True) -> _Reader:
        value = self.data.get(key)
        if value is None:
            if required:
                raise ScenarioError(f"missing table [{self.name(key)}]")
            value = {}
        if not isinstance(value, dict):
            raise ScenarioError(f"{self.name(key)}: expected a table")
        return _Reader(value, self.name(key))

    def get(self, key: str, kind, default: Any = ..., minimum=None, maximum=None):
        if key not in self.data:
            if default is ...:
                raise ScenarioError(f"{self.name(key)}: missing")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise ScenarioError(f"{self.name(key)}: expected {kind.__name__}, got {value!r}")
        if kind in (int, float):
            if isinstance(value, float) and not math.isfinite(value):
                raise ScenarioError(f"{self.name(key)}: must be finite")
            if minimum is not None and value < minimum:
                raise ScenarioError(f"{self.name(key)}: must be >= {minimum}, got {value!r}")
            if maximum is not None and value > maximum:
                raise ScenarioError(f"{self.name(key)}: must be <= {maximum}, got {value!r}")
        return value

    def date(self, key: str, default: Any = ...) -> dt.date:
        value = self.data.get(key, default)
        if value is ...:
            raise ScenarioError(f"{self.name(key)}: missing")
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ScenarioError(f"{self.name(key)}: expected a date YYYY-MM-DD, got {value!r}") from None

    def time(self, key: str, default: str) -> dt.time:
        value = self.data.get(key, default)
        try:
            return dt.time.fromisoformat(str(value))
        except ValueError:
            raise ScenarioError(f"{self.name(key)}: expected a time HH:MM, got {value!r}") from None

    def numbers(self, key: str) -> list[float]:
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            raise ScenarioError(f"{self.name(key)}: expected a non-empty list of numbers")
        out = []
        for i, x in enumerate(value):
            if isinstance(x, bool) or not isinstance(x, int | float) or x < 0 or not math.isfinite(x):
                raise ScenarioError(f"{self.name(key)}[{i}]: expected a number >= 0, got {x!r}")
            out.append(float(x))
        if sum(out) <= 0:
            raise ScenarioError(f"{self.name(key)}: all weights are zero")
        return out

    def hours(self, key: str) -> dict:
        value = self.data.get(key)
        if not isinstance(value, dict):
            raise ScenarioError(f"{self.name(key)}: expected a table like {{ mon = [[\"08:00\", \"19:00\"]] }}")
        try:
            OpeningHours.from_dict(value)
        except (ValueError, TypeError) as exc:
            raise ScenarioError(f"{self.name(key)}: {exc}") from None
        return value


def load_topics(path: Path) -> list[Topic]:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise ScenarioError(f"traffic.topics: cannot read {path}: {exc.strerror}") from None
    topics = []
    for n, row in enumerate(rows, start=2):
        try:
            popularity = int(row["popularity"])
            topics.append(Topic(row["id"], row["theme"], (row.get("level2") or "").strip(), popularity))
        except (KeyError, TypeError, ValueError):
            raise ScenarioError(f"traffic.topics: {path.name} line {n}: expected id, theme, level2, popularity") from None
    if not topics:
        raise ScenarioError(f"traffic.topics: {path.name} has no topic")
    return topics


def _merge(base: dict, override: dict) -> dict:
    """Tables merge key by key; any other value (arrays included) replaces the base's."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: invalid TOML: {exc}") from None
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(f"{path.name}: extends: expected a file name")
    base = path.parent / parent
    if not base.exists():
        base = SCENARIOS / parent  # e.g. extends = "default.toml" from anywhere
    if base.resolve() in chain or base.resolve() == path.resolve():
        raise ScenarioError(f"{path.name}: extends: circular reference to {parent}")
    return _merge(_read_toml(base, (*chain, path.resolve())), data)


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read a scenario file; `extends = "default.toml"` at the top starts from another scenario."""
    path = Path(path) if path else DEFAULT_SCENARIO
    return parse_scenario(_read_toml(path), base=path.parent, source=str(path))


def parse_scenario(data: dict, base: Path = SCENARIOS, source: str = "") -> Scenario:
    root = _Reader(data, "")
    sim = root.table("simulation")
    traffic = root.table("traffic")
    n1 = root.table("n1")
    n2 = root.table("n2")

    factors_raw = traffic.data.get("weekday_factors", {})
    if not isinstance(factors_raw, dict):
        raise ScenarioError("traffic.weekday_factors: expected a table like { mon = 1.2 }")
    factors_reader = _Reader(factors_raw, "traffic.weekday_factors")
    weekday_factors = {}
    for key in factors_raw:
        if key not in DAY_NAMES[:5]:
            raise ScenarioError(f"traffic.weekday_factors.{key}: unknown weekday (mon..fri)")
    for i, day in enumerate(DAY_NAMES[:5]):
        weekday_factors[i] = factors_reader.get(day, float, 1.0, minimum=0.0)

    peaks = []
    raw_peaks = traffic.data.get("peaks", [])
    if not isinstance(raw_peaks, list):
        raise ScenarioError("traffic.peaks: expected an array of tables [[traffic.peaks]]")
    for i, raw in enumerate(raw_peaks):
        if not isinstance(raw, dict):
            raise ScenarioError(f"traffic.peaks[{i}]: expected a table")
        p = _Reader(raw, f"traffic.peaks[{i}]")
        topic = p.get("topic", str, "")
        peaks.append(Peak(p.get("theme", str, "") if topic else p.get("theme", str),
                          p.get("factor", float, minimum=0.0), p.date("start"), p.get("working_days", int, minimum=1),
                          topic))
        if topic and peaks[-1].theme:
            raise ScenarioError(f"traffic.peaks[{i}]: a theme or a topic, not both")

    topics_name = traffic.get("topics", str, "topics.csv")
    topics_path = Path(topics_name)
    if not topics_path.is_absolute():
        topics_path = base / topics_path
        if not topics_path.exists():
            topics_path = SCENARIOS / topics_name  # a custom scenario elsewhere still finds the shipped mix
    topics = load_topics(topics_path)
    themes = {t.theme for t in topics}
    for i, p in enumerate(peaks):
        if p.topic:
            if p.topic not in {t.id for t in topics}:
                raise ScenarioError(f"traffic.peaks[{i}].topic: unknown topic {p.topic!r}")
        elif p.theme not in themes:
            raise ScenarioError(f"traffic.peaks[{i}].theme: unknown theme {p.theme!r}")

    centres = []
    raw_centres = n2.data.get("centres", [])
    if not isinstance(raw_centres, list):
        raise ScenarioError("n2.centres: expected an array of tables [[n2.centres]]")
    for i, raw in enumerate(raw_centres):
        if not isinstance(raw, dict):
            raise ScenarioError(f"n2.centres[{i}]: expected a table")
        c = _Reader(raw, f"n2.centres[{i}]")
        cid = c.get("id", str)
        centres.append(N2Centre(cid, c.get("name", str, cid), c.get("domain", str), c.get("agents", int, minimum=0),
                                c.hours("hours"), c.get("subdivision", str, None)))
    if "cira" in n2.data:
        cira = n2.table("cira")
        names = cira.data.get("centres")
        if not isinstance(names, list) or not all(isinstance(x, str) for x in names) or not names:
            raise ScenarioError("n2.cira.centres: expected a non-empty list of centre names")
        hours = cira.hours("hours")
        per = cira.get("agents_per_centre", int, minimum=0)
        domain = cira.get("domain", str, "cira")
        subdivisions = cira.data.get("subdivisions", {})
        if not isinstance(subdivisions, dict):
            raise ScenarioError("n2.cira.subdivisions: expected a table like { Metz = \"57\" }")
        for name in names:
            centres.append(N2Centre(f"cira-{name.lower()}", f"CIRA {name}", domain, per, hours,
                                    subdivisions.get(name)))
    if not centres:
        raise ScenarioError("n2.centres: at least one N2 centre is needed")
    ids = [c.id for c in centres]
    if len(set(ids)) != len(ids):
        raise ScenarioError("n2.centres: duplicate centre id")

    staffing = n1.get("staffing", str, "erlang")
    if staffing not in {"erlang", "fixed"}:
        raise ScenarioError(f"n1.staffing: expected \"erlang\" or \"fixed\", got {staffing!r}")
    talk1_median = n1.get("talk_median_s", float, minimum=1.0)
    talk2_median = n2.get("talk_median_s", float, minimum=1.0)
    scenario = Scenario(
        start=sim.date("start"),
        days=sim.get("days", int, minimum=1, maximum=3660),
        interval_minutes=sim.get("interval_minutes", int, 15),
        sl_seconds=sim.get("service_level_seconds", float, SERVICE_LEVEL_S, minimum=0.0),
        sl_target=sim.get("service_level_target", float, 0.8, minimum=0.0, maximum=1.0),
        calls_per_month=traffic.get("calls_per_month", float, minimum=0.0),
        topics=topics,
        weekday_factors=weekday_factors,
        saturday_share=traffic.get("saturday_share", float, 0.0, minimum=0.0, maximum=0.9),
        weekday_profile=traffic.numbers("weekday_profile"),
        weekday_profile_start=traffic.time("weekday_profile_start", "08:00"),
        saturday_profile=traffic.numbers("saturday_profile") if "saturday_profile" in traffic.data else [1.0],
        saturday_profile_start=traffic.time("saturday_profile_start", "09:00"),
        peaks=peaks,
        n1_hours=n1.hours("hours"),
        n1_agents=n1.get("agents", int, minimum=1),
        on_phone_share=n1.get("on_phone_share", float, 1.0, minimum=0.0, maximum=1.0),
        staffing=staffing,
        talk1_median=talk1_median,
        talk1_p90=n1.get("talk_p90_s", float, minimum=talk1_median),
        wrap1=n1.get("wrap_s", float, 0.0, minimum=0.0),
        patience1=n1.get("patience_mean_s", float, minimum=1.0),
        transfer_share=n2.get("transfer_share", float, minimum=0.0, maximum=1.0),
        low_popularity_factor=n2.get("low_popularity_factor", float, 1.0, minimum=0.0),
        talk2_median=talk2_median,
        talk2_p90=n2.get("talk_p90_s", float, minimum=talk2_median),
        wrap2=n2.get("wrap_s", float, 0.0, minimum=0.0),
        patience2=n2.get("patience_mean_s", float, minimum=1.0),
        max_wait2=n2.get("max_wait_s", float, 900.0, minimum=0.0),
        callback_accept=n2.get("callback_accept", float, 0.7, minimum=0.0, maximum=1.0),
        callback_reached=n2.get("callback_reached", float, 0.85, minimum=0.0, maximum=1.0),
        n2_centres=centres,
        overflow_after_s=n1.get("overflow_after_s", float, None, minimum=0.0),
        partner_agents=n1.get("partner_agents", int, 0, minimum=0),
        web_callback_share=traffic.get("web_callback_share", float, 0.0, minimum=0.0, maximum=0.5),
        web_callback_delay_s=traffic.get("web_callback_delay_s", float, 3600.0, minimum=0.0),
        source=source,
    )
    if scenario.interval_minutes not in (15, 30, 60):
        raise ScenarioError(f"simulation.interval_minutes: expected 15, 30 or 60, got {scenario.interval_minutes}")
    # the transfer share must be reachable with the topics that have a level-2 destination
    from allo.simulation.traffic import transfer_probabilities

    try:
        transfer_probabilities(scenario)
    except ValueError as exc:
        raise ScenarioError(f"n2.transfer_share: {exc}") from None
    return scenario
