"""Traffic generation: arrivals by hour and weekday with holidays and topical peaks, topic mix,
handle times, patience and transfers. Vectorised per day with numpy; reproducible from the seed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from allo.simulation.scenario import Scenario

WEEKS_PER_MONTH = 52.1775 / 12
Z90 = 1.2815515655446004  # standard normal 90th percentile


def lognormal_params(median: float, p90: float) -> tuple[float, float]:
    return math.log(median), math.log(p90 / median) / Z90


def lognormal_mean(median: float, p90: float) -> float:
    mu, sigma = lognormal_params(median, p90)
    return math.exp(mu + sigma * sigma / 2)


def transfer_probabilities(scn: Scenario) -> list[float]:
    """Per topic: only topics with a level-2 destination transfer, popular ones (<= 3) more often,
    scaled so that the popularity-weighted share matches the scenario's overall transfer share."""
    weights = [t.popularity for t in scn.topics]
    raw = [
        (scn.low_popularity_factor if t.popularity <= 3 else 1.0) if t.level2 else 0.0 for t in scn.topics
    ]
    mass = sum(w * r for w, r in zip(weights, raw, strict=True)) / sum(weights)
    if scn.transfer_share == 0:
        return [0.0] * len(raw)
    if mass == 0:
        raise ValueError("no topic has a level2 destination")
    scale = scn.transfer_share / mass
    probs = [r * scale for r in raw]
    if max(probs) > 1.0:
        raise ValueError(f"{scn.transfer_share} is not reachable with the topics' level2 destinations")
    return probs


@dataclass
class DayTraffic:
    """One day's calls, sorted by arrival; plain lists for fast per-call access in the runner."""

    times: list[float]  # seconds since the day's midnight
    topic: list[int]
    transfer: list[bool]
    talk1: list[float]
    talk2: list[float]
    patience1: list[float]
    patience2: list[float]
    accept: list[bool]
    reached: list[bool]
    web: list[bool] | None = None  # web callback requests instead of calls (None: no such request)
    delay: list[float] | None = None  # seconds from the request to the requested callback time


class TrafficModel:
    def __init__(self, scn: Scenario, days: int | None = None, calls: int | None = None):
        self.scn = scn
        self.days = days or scn.days
        self.start = scn.start
        self.hours = scn.line_hours()
        weights = np.array([t.popularity for t in scn.topics], dtype=float)
        self.topic_weights = weights / weights.sum()
        self.themes = [t.theme for t in scn.topics]
        self.topic_ids = [t.id for t in scn.topics]
        self.domains = [t.level2 or "cira" for t in scn.topics]
        self.p_transfer = np.array(transfer_probabilities(scn))
        self.mu1, self.s1 = lognormal_params(scn.talk1_median, scn.talk1_p90)
        self.mu2, self.s2 = lognormal_params(scn.talk2_median, scn.talk2_p90)
        week_weekdays = sum(scn.weekday_factors.values())
        sat = scn.saturday_share / (1 - scn.saturday_share) * week_weekdays
        self.sat_factor = sat
        self.per_unit = scn.calls_per_month / WEEKS_PER_MONTH / (week_weekdays + sat)
        self.peak_days = self._peak_days()
        self.scale = 1.0
        expected = sum(self.expected_calls(self.day(i)) for i in range(self.days))
        if calls is not None:
            if expected <= 0:
                raise ValueError("the period has no open day to place calls in")
            self.scale = calls / expected
        self.expected_total = expected * self.scale

    def day(self, index: int) -> dt.date:
        return self.start + dt.timedelta(days=index)

    def _peak_days(self) -> dict[dt.date, dict[str, float]]:
        out: dict[dt.date, dict[str, float]] = {}
        for peak in self.scn.peaks:
            day, left = peak.start, peak.working_days
            for _ in range(400):
                if left == 0:
                    break
                if day.weekday() < 5 and self.hours.ranges_on(day):
                    # a topic's peak is keyed by ("topic", id), a theme's by its name
                    out.setdefault(day, {})[("topic", peak.topic) if peak.topic else peak.theme] = peak.factor
                    left -= 1
                day += dt.timedelta(days=1)
        return out

    def topic_probabilities(self, day: dt.date) -> np.ndarray:
        peaks = self.peak_days.get(day)
        if not peaks:
            return self.topic_weights
        w = self.topic_weights * np.array([peaks.get(th, 1.0) * peaks.get(("topic", tid), 1.0)
                                           for th, tid in zip(self.themes, self.topic_ids, strict=True)])
        return w / w.sum()

    def day_factor(self, day: dt.date, with_peaks: bool = True) -> float:
        if not self.hours.ranges_on(day):
            return 0.0  # closed all day (Sunday, public holiday, closure): nobody reaches an agent
        wd = day.weekday()
        if wd < 5:
            base = self.scn.weekday_factors[wd]
        elif wd == 5:
            base = self.sat_factor
        else:
            return 0.0
        if with_peaks and day in self.peak_days:
            peaks = self.peak_days[day]
            base *= 1.0 + sum(
                (f - 1.0) * self.topic_weights[[i for i, (th, tid) in enumerate(zip(self.themes, self.topic_ids,
                                                                                    strict=True))
                                                if th == key or key == ("topic", tid)]].sum()
                for key, f in peaks.items()
            )
        return base

    def expected_calls(self, day: dt.date, with_peaks: bool = True) -> float:
        return self.per_unit * self.day_factor(day, with_peaks) * self.scale

    def profile(self, day: dt.date) -> tuple[float, list[float]]:
        """(start second of day, half-hour weights normalised to 1)."""
        if day.weekday() == 5:
            weights, start = self.scn.saturday_profile, self.scn.saturday_profile_start
        else:
            weights, start = self.scn.weekday_profile, self.scn.weekday_profile_start
        total = sum(weights)
        return start.hour * 3600 + start.minute * 60, [w / total for w in weights]

    def rate_per_hour(self, day: dt.date, second: float, with_peaks: bool = False) -> float:
        """Forecast arrival rate at that second of the day (staffing ignores unforeseen peaks)."""
        start, weights = self.profile(day)
        slot = int((second - start) // 1800)
        if slot < 0 or slot >= len(weights):
            return 0.0
        return self.expected_calls(day, with_peaks) * weights[slot] * 2.0

    def generate_day(self, day: dt.date, rng: np.random.Generator) -> DayTraffic:
        expected = self.expected_calls(day)
        start, weights = self.profile(day)
        lam = expected * np.asarray(weights)
        counts = rng.poisson(lam)
        n = int(counts.sum())
        slot_start = start + 1800.0 * np.repeat(np.arange(len(weights)), counts)
        times = np.sort(slot_start + rng.random(n) * 1800.0)
        cum = np.cumsum(self.topic_probabilities(day))
        topic = np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), len(cum) - 1)
        transfer = rng.random(n) < self.p_transfer[topic]
        talk1 = np.exp(self.mu1 + self.s1 * rng.standard_normal(n))
        talk2 = np.exp(self.mu2 + self.s2 * rng.standard_normal(n))
        patience1 = rng.exponential(self.scn.patience1, n)
        patience2 = rng.exponential(self.scn.patience2, n)
        accept = rng.random(n) < self.scn.callback_accept
        reached = rng.random(n) < self.scn.callback_reached
        day = DayTraffic(times.tolist(), topic.tolist(), transfer.tolist(), talk1.tolist(), talk2.tolist(),
                         patience1.tolist(), patience2.tolist(), accept.tolist(), reached.tolist())
        if self.scn.web_callback_share > 0:  # drawn last: scenarios without it keep their draws
            day.web = (rng.random(n) < self.scn.web_callback_share).tolist()
            day.delay = rng.exponential(self.scn.web_callback_delay_s, n).tolist() if \
                self.scn.web_callback_delay_s > 0 else [0.0] * n
        return day
