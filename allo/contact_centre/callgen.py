"""Built-in call generator: a fake telephony connector driving the HTTP API.

Calls arrive as a Poisson process at `rate` per second (POST /api/telephony/calls), a share of them
(`partner_share`) on the entry numbers of partner administrations (allo/partners); a caller still
waiting after their patience hangs up (POST .../hangup). With `virtual_agents`, simulated N1
agents (ids "virt-001"...) log in and answer: they end each call after a random talk time, a few
with a warm transfer. Human agents logged in on their desks get the rest of the calls.

With `surge` (fiche id, share), the virtual agents write a wrap-up for each call they answer without
transferring it: that fiche for `share` of them, another published fiche for the rest, so the fiche
surges (allo/surges, docs/surges.md) while the others stay at their usual level.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
import uuid

logger = logging.getLogger(__name__)

VIRTUAL_PREFIX = "virt-"
# states of a call still on the line: when the generator stops, its callers hang up (a connector that
# stops must end its calls: before this, the calls the virtual agents held stayed connected for good)
LIVE_STATES = ("new", "queued", "connected", "transferring", "callback_offered")


class CallGenerator:
    def __init__(self, base_url: str, token: str | None = None, rate: float = 0.05, virtual_agents: int = 0,
                 talk_s: float = 20.0, patience_s: tuple[float, float] = (60, 240), transfer_share: float = 0.1,
                 seed: int | None = None, partner_share: float = 0.2, partner_numbers: list[str] | None = None,
                 surge: tuple[str, float] | None = None):
        self.base = base_url.rstrip("/")
        self.token = token
        self.rate = rate
        self.virtual_agents = virtual_agents
        self.talk_s = talk_s
        self.patience = patience_s
        self.transfer_share = transfer_share
        self.partner_share = partner_share
        self.partner_numbers = partner_numbers  # None: the active partners' entry numbers, read once
        self.surge = surge
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.stats = {"sent": 0, "errors": 0, "hangups": 0, "via_partners": 0}
        self.call_ids: list[str] = []
        self.latency: list[float] = []  # HTTP round trips of POST /calls (s)

    def _token(self) -> str:
        if not self.token:
            from allo.contact_centre.models import ApiToken
            from allo.contact_centre.tokens import create_token

            ApiToken.objects.filter(label="callgen").delete()
            self.token = create_token("telephony", "callgen")
        return self.token

    def _post(self, path: str, body: dict) -> dict | None:
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(), method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {self._token()}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self.stats["errors"] += 1
            logger.debug("callgen: %s %s", path, exc)
            return None

    def _get(self, path: str) -> dict | None:
        req = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self._token()}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def _dialed(self) -> str:
        """3939, or now and then a partner's entry number as a PBX presents it (national digits)."""
        if self.partner_numbers is None:
            from allo.partners.services import entry_numbers

            self.partner_numbers = entry_numbers()
        if self.partner_numbers and self.rng.random() < self.partner_share:
            number = self.rng.choice(self.partner_numbers)
            return "0" + number[3:] if number.startswith("+33") else number
        return "3939"

    def place_call(self, n: int) -> str | None:
        caller = f"+336{self.rng.randrange(10**7, 10**8)}"
        dialed = self._dialed()
        t0 = time.perf_counter()
        out = self._post("/api/telephony/calls", {"caller": caller, "dialed": dialed,
                                                   "ivr_choice": self.rng.choice(["", "1", "2", "3"]),
                                                   "event_id": f"callgen-{id(self)}-{n}"})
        if out is None:
            return None
        self.latency.append(time.perf_counter() - t0)
        self.stats["sent"] += 1
        self.stats["via_partners"] += dialed != "3939"
        self.call_ids.append(out["call_id"])
        return out["call_id"]

    def run(self, duration: float) -> dict:
        """Generate calls for `duration` seconds (0: until stop()); returns the counts."""
        agents = None
        if self.virtual_agents:
            agents = VirtualAgents(self.virtual_agents, self.talk_s, self.transfer_share, self.rng.random(),
                                   surge=self.surge)
            agents.start()
        patience: list[tuple[float, str]] = []
        end = time.monotonic() + duration if duration else float("inf")
        next_at = time.monotonic() if self.rate > 0 else float("inf")  # rate 0: virtual agents only
        n = 0
        while not self.stop.is_set() and time.monotonic() < end:
            now = time.monotonic()
            while patience and patience[0][0] <= now:
                _, call_id = heapq.heappop(patience)
                state = self._get(f"/api/telephony/calls/{call_id}")
                if state and state.get("state") == "callback_offered":  # the caller answers the proposal
                    self._post(f"/api/telephony/calls/{call_id}/callback-answer",
                               {"accepted": self.rng.random() < 0.7})
                elif state and state.get("state") in ("queued", "new"):
                    if self._post(f"/api/telephony/calls/{call_id}/hangup", {}) is not None:
                        self.stats["hangups"] += 1
            if now >= next_at:
                n += 1
                call_id = self.place_call(n)
                if call_id:
                    heapq.heappush(patience, (now + self.rng.uniform(*self.patience), call_id))
                next_at += self.rng.expovariate(self.rate) if self.rate > 0 else 3600
                continue
            self.stop.wait(min(0.2, max(0.0, next_at - time.monotonic())))
        if agents is not None:
            agents.stop_and_logout()
        self.hang_up_all()
        return dict(self.stats)

    def hang_up_all(self) -> int:
        """The run is over: every caller still on the line hangs up (waiting, talking to a human,
        transferred, asked about a callback); accepted callbacks stay scheduled."""
        n = 0
        for call_id in self.call_ids:
            state = self._get(f"/api/telephony/calls/{call_id}")
            if state and state.get("state") in LIVE_STATES:
                if self._post(f"/api/telephony/calls/{call_id}/hangup", {}) is not None:
                    n += 1
        self.stats["hangups"] += n
        return n


class VirtualAgents(threading.Thread):
    """Simulated N1 agents: log in, answer what the router assigns, end after a random talk time."""

    def __init__(self, count: int, talk_s: float, transfer_share: float, seed: float, poll: float = 0.05,
                 surge: tuple[str, float] | None = None):
        super().__init__(name="allo-virtual-agents", daemon=True)
        self.ids = [f"{VIRTUAL_PREFIX}{i:03d}" for i in range(1, count + 1)]
        self.talk_s = talk_s
        self.transfer_share = transfer_share
        self.rng = random.Random(seed)
        self.poll = poll
        self.halt = threading.Event()
        self.handled = 0
        self.surge = surge
        self.wrap_ups: SurgeWrapUps | None = None

    def run(self) -> None:
        from django.db import close_old_connections

        from allo.contact_centre import services
        from allo.contact_centre.models import AgentStatus, Contact

        close_old_connections()
        if self.surge:
            self.wrap_ups = SurgeWrapUps(*self.surge, self.rng)
        for agent in self.ids:
            services.agent_action(agent, "login", profile={"id": agent, "centre": "n1-plateforme", "level": 1,
                                                           "skills": {"n1": 1}})
        ending: list[tuple[float, str, str]] = []
        seen: set[str] = set()
        wrapping: dict[str, float] = {}
        while not self.halt.is_set():
            now = time.monotonic()
            for call_id, agent in Contact.objects.filter(state="connected", agent__startswith=VIRTUAL_PREFIX,
                                                         level=1).values_list("pk", "agent"):
                if call_id not in seen:
                    seen.add(call_id)
                    heapq.heappush(ending, (now + self.rng.expovariate(1 / self.talk_s), call_id, agent))
            # a caller who hung up mid-call leaves the agent in wrap-up: virtual agents end it at once
            for agent in AgentStatus.objects.filter(agent__in=self.ids, state="wrap_up").values_list("agent",
                                                                                                      flat=True):
                if wrapping.get(agent, 0.0) <= now:  # once, again after 2 s if still wrapping up
                    wrapping[agent] = now + 2.0
                    services.end_wrap_up(agent, key=f"wrapup:{agent}:{uuid.uuid4().hex}")
            while ending and ending[0][0] <= now:
                _, call_id, agent = heapq.heappop(ending)
                transfer = "impots" if self.rng.random() < self.transfer_share else None
                services.end_call(agent, call_id, transfer=transfer, question="Question simulée" if transfer else "",
                                  wrap_up=False)
                if self.wrap_ups is not None and not transfer:
                    self.wrap_ups.record(call_id)
                self.handled += 1
            self.halt.wait(self.poll)
        close_old_connections()

    def stop_and_logout(self) -> None:
        """Stop answering and log out; then end the calls still held: a logout during a call waits for
        its end, and no hang-up would come for them (33 agents stayed « en communication » for good)."""
        from django.db import close_old_connections

        from allo.contact_centre import services
        from allo.contact_centre.models import AgentStatus, Contact, RouterInput

        self.halt.set()
        self.join(timeout=5)
        keys = [f"logout:{agent}:{uuid.uuid4().hex}" for agent in self.ids]
        for agent, key in zip(self.ids, keys, strict=True):
            services.agent_action(agent, "logout", key=key)
        # once the router has applied the logouts nobody gets a new call: end those still held
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and RouterInput.objects.filter(key__in=keys, seq__isnull=True).exists():
            time.sleep(0.05)
        for call_id, agent in Contact.objects.filter(state="connected", agent__in=self.ids).values_list("pk", "agent"):
            services.end_call(agent, call_id, wrap_up=False)
            self.handled += 1
        for agent in AgentStatus.objects.filter(agent__in=self.ids, state="wrap_up").values_list("agent", flat=True):
            services.end_wrap_up(agent)
        close_old_connections()


class SurgeWrapUps:
    """The wrap-ups of `callgen --surge FICHE:SHARE`: the fiche (and its theme) for `share` of the
    calls, another published fiche for the rest."""

    def __init__(self, fiche_id: str, share: float, rng: random.Random):
        from allo.contact_centre.models import OutcomeKind, WrapUpOutcome
        from allo.kb.models import Fiche

        self.fiche = Fiche.objects.published().select_related("theme").get(pk=fiche_id)
        self.others = list(Fiche.objects.published().exclude(pk=fiche_id).select_related("theme").order_by("pk"))
        self.share = share
        self.rng = rng
        self.outcome = WrapUpOutcome.objects.filter(active=True, kind=OutcomeKind.ANSWERED).order_by("position").first()
        self.recorded = 0

    def record(self, call_id: str) -> None:
        from allo.contact_centre import services
        from allo.contact_centre.desks.wrapup import top_of
        from allo.contact_centre.models import Contact

        contact = Contact.objects.filter(pk=call_id).first()
        if contact is None or self.outcome is None:
            return
        fiche = self.fiche if not self.others or self.rng.random() < self.share else self.rng.choice(self.others)
        services.record_wrap_up(contact, None, fiches=[fiche.pk], theme=fiche.theme, top_theme=top_of(fiche.theme),
                                outcome=self.outcome, reason=None, note="", level=1)
        self.recorded += 1
