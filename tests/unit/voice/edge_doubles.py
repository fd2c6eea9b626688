"""Stand-ins for the voice adapter's two peers at the edge, for its unit tests (no network): Kamailio's
evapi (the messages sent) and rtpengine's ng (the requests made, answered « ok »)."""

from __future__ import annotations


class Evapi:
    def __init__(self):
        self.sent: list[dict] = []

    async def send(self, message: dict) -> None:
        self.sent.append(message)


class Ng:
    def __init__(self):
        self.requests: list[tuple[str, str]] = []  # (command, call-id)
        self.params: list[dict] = []  # each request's parameters, in the same order

    @property
    def commands(self) -> list[str]:
        return [command for command, _ in self.requests]

    async def request(self, command: str, timeout: float = 2.0, **params) -> dict:
        self.requests.append((command, params.get("call-id", "")))
        self.params.append(params)
        return {"result": "ok", "sdp": "v=0\r\n"} if command == "answer" else {"result": "ok"}
