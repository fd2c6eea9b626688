"""Several voice nodes (docs/voice.md, « Several nodes »): the DMQ part of the generated kamailio.cfg
(present only with peers), the node's name in its calls' event_ids, and each adapter reconciling only
its own node's calls, and its phones without flapping. No network; Kamailio checks the rendered files
when it is installed."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from edge_doubles import Evapi, Ng
from loopback import run_async

from allo.voice import adapter as adapter_module
from allo.voice import config as voice_config
from allo.voice.adapter import (
    Adapter,
    SipCall,
    calls_the_edge_lost,
    confirmed_corrections,
    event_id,
    event_node,
)
from allo.voice.config import VoiceConfig, VoiceConfigError

NODE_B = {"ALLO_VOICE_NODE": "b", "ALLO_VOICE_SIP": "127.0.0.2:5060",
          "ALLO_VOICE_DMQ_PEERS": "sip:127.0.0.1:5090, 127.0.0.3:5090"}


def test_a_single_node_loads_no_dmq_and_refuses_kdmq(tmp_path):
    config = VoiceConfig.from_env(tmp_path, env={})
    voice_config.write(config)
    kamailio = config.kamailio_cfg.read_text()
    assert "loadmodule \"dmq" not in kamailio and 'modparam("dmq' not in kamailio
    assert "dmq_handle_message" not in kamailio
    assert 'if (is_method("KDMQ")) { sl_send_reply("403"' in kamailio
    assert kamailio.count("listen=") == 1
    assert config.root == tmp_path / "voice"


def test_with_peers_the_node_shares_its_registrations_over_its_own_dmq_listener(tmp_path):
    config = VoiceConfig.from_env(tmp_path, env=NODE_B)
    paths = voice_config.write(config)
    kamailio = config.kamailio_cfg.read_text()
    assert "{{" not in kamailio
    assert paths[0] == tmp_path / "voice-b" / "kamailio.cfg"  # two nodes may share a machine
    assert config.prompts_root == tmp_path / "voice"  # but not their announcements
    assert "listen=udp:127.0.0.2:5060\nlisten=udp:127.0.0.2:5090\n" in kamailio  # SIP first: the phones' socket
    assert 'loadmodule "usrloc.so"' in kamailio.split('loadmodule "dmq_usrloc.so"')[0]  # usrloc loaded first
    for line in ('modparam("dmq", "server_address", "sip:127.0.0.2:5090")',
                 'modparam("dmq", "server_socket", "udp:127.0.0.2:5090")',
                 'modparam("dmq", "notification_address", "sip:127.0.0.1:5090")',
                 'modparam("dmq", "notification_address", "sip:127.0.0.3:5090")',
                 'modparam("dmq_usrloc", "enable", 1)', 'modparam("dmq_usrloc", "sync", 1)'):
        assert line in kamailio
    # KDMQ only on the DMQ listener and from the peers; the first thing the request route does
    route = kamailio.split("request_route {")[1]
    assert route.index("dmq_handle_message") < route.index("mf_process_maxfwd_header")
    assert 'if ($Ri == "127.0.0.2" && $Rp == 5090)' in route
    assert 'is_method("KDMQ") && ($si == "127.0.0.1" || $si == "127.0.0.3")' in route


def test_the_command_line_names_the_node_and_its_peers(tmp_path):
    config = VoiceConfig.from_env(tmp_path, env={}, sip="127.0.0.2:5060", node="b", dmq="127.0.0.2:5091",
                                  dmq_peers=["127.0.0.1:5090"], dtmf="127.0.0.2:22223", media_host="127.0.0.2")
    assert (config.node, config.dmq_address, config.dmq_peers) == ("b", ("127.0.0.2", 5091), (("127.0.0.1", 5090),))
    assert config.dtmf == ("127.0.0.2", 22223) and config.media_host == "127.0.0.2"
    assert VoiceConfig.from_env(tmp_path, env=NODE_B, dmq_peers=None).dmq_peers == (("127.0.0.1", 5090),
                                                                                     ("127.0.0.3", 5090))


@pytest.mark.parametrize("env", [
    {"ALLO_VOICE_DMQ_PEERS": "127.0.0.2:5090"},  # peers without a node name: two nodes would claim sip: calls
    {"ALLO_VOICE_NODE": "B"},
    {"ALLO_VOICE_NODE": "node:b"},
    {"ALLO_VOICE_NODE": "a-very-long-name"},
    {"ALLO_VOICE_NODE": "a", "ALLO_VOICE_DMQ_PEERS": "peer.example:5090"},
    {"ALLO_VOICE_NODE": "a", "ALLO_VOICE_DMQ_PEERS": "127.0.0.1:5090"},  # itself
    {"ALLO_VOICE_NODE": "a", "ALLO_VOICE_DMQ_PEERS": "127.0.0.2:5090", "ALLO_VOICE_DMQ": "127.0.0.1:5060"},
])
def test_bad_node_settings_are_refused(tmp_path, env):
    with pytest.raises(VoiceConfigError):
        VoiceConfig.from_env(tmp_path, env=env)


@pytest.mark.skipif(shutil.which("kamailio") is None or not os.path.exists(
    os.path.join(VoiceConfig(data_dir=".").modules_dir, "dmq_usrloc.so")), reason="no kamailio or dmq_usrloc module")
def test_kamailio_accepts_the_file_of_a_node_with_peers(tmp_path):
    config = VoiceConfig.from_env(tmp_path, env=NODE_B)
    voice_config.write(config)
    out = subprocess.run([shutil.which("kamailio"), "-c", "-f", str(config.kamailio_cfg)], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out.stderr[-2000:]


# ---------------------------------------------------------------- event ids and the reconciliation


def test_a_named_node_puts_its_name_first_in_its_calls_event_ids():
    assert event_id("1-30792@127.0.0.1") == "sip:1-30792@127.0.0.1"  # the single node: as before
    assert event_id("1-30792@127.0.0.1", "b") == "sip@b:1-30792@127.0.0.1"
    assert event_node("sip@b:1-30792@127.0.0.1") == "b"
    assert event_node("sip:x:y@h") == ""  # a Call-ID with ":" is still the unnamed node's
    assert event_node("sip@b:x:y@h") == "b"
    assert event_node("1712345678.42") is None and event_node("sip@:x") is None  # not a SIP edge's
    long = event_id("x" * 200, "node-twelve1")
    assert long.startswith("sip@node-twelve1:") and len(long) <= 74  # room for a no-answer's «:<attempt>»
    assert event_id("x" * 200, "node-twelve1") == long and event_id("y" * 200, "node-twelve1") != long


def _live(call_id: str, key: str, age: float = 300) -> dict:
    return {"call_id": call_id, "event_id": key, "state": "connected", "age_s": age}


def test_each_node_judges_only_its_own_calls():
    live = [_live("a1", event_id("on-a@h", "a")), _live("b1", event_id("on-b@h", "b")),
            _live("b2", event_id("gone@h", "b")), _live("old", event_id("before-names@h")),
            _live("pbx", "1712345678.42")]
    # node b's Kamailio has b1's dialog: b2 is lost; a1 (node a's) and the unnamed node's call are not b's
    assert calls_the_edge_lost(live, {event_id("on-b@h", "b")}, node="b") == ["b2"]
    assert calls_the_edge_lost(live, {event_id("on-a@h", "a")}, node="a") == []
    # the single unnamed node judges the sip:<Call-ID> calls only, never a named node's
    assert calls_the_edge_lost(live, set()) == ["old"]


def test_with_shared_registrations_a_phone_is_corrected_after_two_reconciliations_in_a_row():
    first = [("operateur", False)]  # node b just started: the DMQ sync has not brought operateur yet
    assert confirmed_corrections(first, set()) == []
    assert confirmed_corrections([], set(first)) == []  # synced: nothing to correct, nothing posted
    assert confirmed_corrections(first, set(first)) == first  # still wrong a period later: corrected


class _Api:
    def __init__(self, live, accounts):
        self.live, self.accounts, self.lost_calls = live, accounts, []

    async def live_calls(self):
        return self.live

    async def sip_accounts(self):
        return {"accounts": self.accounts}

    async def lost(self, call_id):
        self.lost_calls.append(call_id)


def _adapter(api, node: str, shared: bool, dialogs: list[str], registered: list[str], monkeypatch) -> Adapter:
    answers = {"dlg.list": [{"call-id": c, "state": 4} for c in dialogs],
               "ul.dump": {"Domains": [{"Domain": {"AoRs": [{"Info": {"AoR": u, "Contacts": [{}]}}
                                                             for u in registered]}}]}}

    async def rpc_call(fifo, method, **_):
        return answers[method]

    monkeypatch.setattr(adapter_module.rpc, "call", rpc_call)
    adapter = Adapter(api, ("127.0.0.1", 1), ("127.0.0.1", 2), "127.0.0.1", rpc_fifo="fifo", node=node,
                      shared_registrations=shared)
    adapter.evapi, adapter.ng = Evapi(), Ng()
    return adapter


def test_two_adapters_each_reconcile_their_own_calls_and_agree_on_the_phones(monkeypatch):
    """Node b holds a call a moment old and node a another; a phone registered on a is in both dumps
    (DMQ): neither adapter reports the other's call lost nor touches the phone."""
    live = [_live("ca", event_id("call-on-a@h", "a")), _live("cb", event_id("call-on-b@h", "b"))]
    accounts = [{"username": "operateur", "registered": True}]
    for node, dialog in (("a", "call-on-a@h"), ("b", "call-on-b@h")):
        api = _Api(live, accounts)
        adapter = _adapter(api, node, True, [dialog], ["operateur"], monkeypatch)
        run_async(adapter.reconcile())
        assert api.lost_calls == [] and adapter.registrations.empty()


def test_a_node_reports_its_own_call_lost_and_a_phone_only_once_two_dumps_agree(monkeypatch):
    live = [_live("ca", event_id("call-on-a@h", "a")), _live("cb", event_id("call-on-b@h", "b"))]
    api = _Api(live, [{"username": "operateur", "registered": True}])
    adapter = _adapter(api, "b", True, [], [], monkeypatch)  # b restarted: no dialog, no registration yet

    async def twice():
        await adapter.reconcile()
        first = adapter.registrations.qsize()
        await adapter.reconcile()
        return first

    assert run_async(twice()) == 0  # the first dump may predate the DMQ sync
    assert adapter.registrations.get_nowait() == ("operateur", False)
    assert api.lost_calls == ["cb", "cb"]  # its own call only (409 from Allô the second time)


def test_the_adapter_posts_its_calls_with_its_node_name():
    call = SipCall("the-call@h", "tag", 1, 2, "+33611223344", "3939", allo_event=event_id("the-call@h", "b"))
    assert call.allo_event == "sip@b:the-call@h"
    assert SipCall("the-call@h", "tag", 1, 2, "+33611223344", "3939").allo_event == "sip:the-call@h"


def test_a_named_node_asks_for_its_own_position_in_the_command_stream():
    from allo.voice.api import TelephonyApi

    assert TelephonyApi("http://127.0.0.1:8000", "t").ws_url() == "ws://127.0.0.1:8000/ws/telephony/"
    assert TelephonyApi("https://allo.example/", "t", node="b").ws_url() == "wss://allo.example/ws/telephony/?node=b"
