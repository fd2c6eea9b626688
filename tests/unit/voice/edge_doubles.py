"""Stand-ins for the voice adapter's two peers at the edge, for its unit tests (no network): Kamailio's
evapi (the messages sent) and rtpengine's ng (the requests made, answered « ok »); and an adapter with
a caller talking to the operator's phone over them (`talking`)."""

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


def talking(tmp_path, monkeypatch, api=None):
    """An adapter on the stand-ins, Kamailio's JSON-RPC recorded, with a caller talking to the operator's
    phone (call « c1 »): (adapter, call, the JSON-RPC calls made)."""
    from allo.voice import adapter as adapter_module
    from allo.voice.adapter import Adapter, SipCall

    rpcs: list[tuple[str, list]] = []

    async def rpc_call(fifo, method, timeout=5.0, params=None):
        rpcs.append((method, params))
        return None

    monkeypatch.setattr(adapter_module.rpc, "call", rpc_call)
    adapter = Adapter(api if api is not None else object(), ("127.0.0.1", 1), ("127.0.0.1", 2), "allo.test",
                      rpc_fifo=tmp_path / "fifo")
    adapter.evapi, adapter.ng = Evapi(), Ng()
    adapter.evapi_ready.set()
    call = SipCall("first-call", "citizen-tag", 7, 8, "+33611223344", "3939", call_id="c1", state="talking",
                   to_tag="phone-tag", agent="operateur", from_uri="sip:+33611223344@10.0.0.9",
                   contact="sip:+33611223344@10.0.0.9:5062", edge="192.0.2.1:5060", to_uri="sip:3939@192.0.2.1",
                   agent_contact="sip:operateur@10.0.0.5:5070")
    adapter.by_sip[call.sip_call_id] = adapter.by_call["c1"] = call
    return adapter, call, rpcs
