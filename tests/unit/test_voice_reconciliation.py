"""The voice adapter's reconciliation (docs/voice.md): the readers of Kamailio's `dlg.list` and `ul.dump`
(JSON-RPC answers as Kamailio 5.6.3 gives them, captured from a running edge) and the pure comparisons
with Allô's live calls and SIP accounts. No network."""

from __future__ import annotations

from allo.voice.adapter import calls_the_edge_lost, event_id, phone_corrections
from allo.voice.rpc import dialog_call_ids, registered_users


def _dialog(call_id: str, state: int, to_tag: str | None) -> dict:
    return {"h_entry": 2852, "h_id": 971, "ref": 2, "call-id": call_id, "from_uri": "sip:+33611220099@127.0.0.1:40570",
            "to_uri": "sip:3939@127.0.0.1:51273", "state": state, "start_ts": 1796175700, "init_ts": 1796175700,
            "end_ts": 0, "duration": 0, "timeout": 1796218900, "lifetime": 43200, "dflags": 515, "sflags": 0,
            "iflags": 0,
            "caller": {"tag": "22564citizen1", "contact": "sip:+33611220099@127.0.0.1:40570", "cseq": "1",
                       "route_set": "", "socket": "udp:127.0.0.1:51273"},
            "callee": {"tag": to_tag, "contact": to_tag and "sip:127.0.0.1:50033", "cseq": to_tag and "0",
                       "route_set": to_tag and "", "socket": to_tag and "udp:127.0.0.1:51273"},
            "profiles": [], "variables": []}


# a conversation (4, confirmed), a parked INVITE (1: dlg_manage() comes before the park, no callee yet)
# and a caller's CANCEL a moment ago (5: deleted, still listed until its last reference goes)
DLG_LIST = [_dialog("1-22564@127.0.0.1", 4, "22493agent1"), _dialog("1-24011@127.0.0.1", 1, None),
            _dialog("1-24012@127.0.0.1", 5, None)]


def _contact(address: str) -> dict:
    return {"Contact": {"Address": address, "Expires": 598, "Q": -1, "Call-ID": "1-22494@127.0.0.1", "CSeq": 2,
                        "User-Agent": "n/a", "Received": "[not set]", "Path": "[not set]", "State": "CS_NEW",
                        "Flags": 0, "CFlags": 0, "Socket": "udp:127.0.0.1:51273", "Methods": 4294967295,
                        "Ruid": "uloc-6b0f7751-57a8-1", "Instance": "[not set]", "Reg-Id": 0, "Server-Id": 0,
                        "Tcpconn-Id": -1, "Keepalive": 0, "Last-Keepalive": 1796175698, "KA-Roundtrip": 0,
                        "Last-Modified": 1796175698}}


UL_DUMP = {"Domains": [{"Domain": {"Domain": "location", "Size": 1024, "AoRs": [
    {"Info": {"AoR": "operateur", "HashID": 3491353798,
              "Contacts": [_contact("sip:operateur@127.0.0.1:50033"), _contact("sip:operateur@10.0.0.7:5060")]}},
    {"Info": {"AoR": "expert@allo.example", "HashID": 12, "Contacts": [_contact("sip:expert@10.0.0.8:5060")]}},
    {"Info": {"AoR": "operateur2", "HashID": 13, "Contacts": []}},
], "Stats": {"Records": 3, "Max-Slots": 1}}}]}
UL_DUMP_EMPTY = {"Domains": [{"Domain": {"Domain": "location", "Size": 1024, "AoRs": [],
                                         "Stats": {"Records": 0, "Max-Slots": 0}}}]}


def test_the_dialogs_are_the_live_ones_of_dlg_list():
    assert dialog_call_ids(DLG_LIST) == {"1-22564@127.0.0.1", "1-24011@127.0.0.1"}
    assert dialog_call_ids([]) == set()  # Kamailio without a dialog
    assert dialog_call_ids(None) == set()


def test_the_registered_users_are_the_aors_with_a_contact_in_ul_dump():
    assert registered_users(UL_DUMP) == {"operateur", "expert"}
    assert registered_users(UL_DUMP_EMPTY) == set()


def _live(call_id: str, event: str, age_s: int, state: str = "connected") -> dict:
    return {"call_id": call_id, "event_id": event, "state": state, "age_s": age_s}


def test_a_call_allo_holds_is_lost_only_when_it_came_through_sip_is_old_enough_and_the_edge_lacks_it():
    live = [_live("a", event_id("1-22564@127.0.0.1"), 300),  # talking at the edge
            _live("b", event_id("1-24011@127.0.0.1"), 40, "queued"),  # parked at the edge
            _live("c", event_id("gone@127.0.0.1"), 300),  # Kamailio restarted: no dialog any more
            _live("d", event_id("young@127.0.0.1"), 3, "new"),  # its INVITE may still be on its way
            _live("e", "", 300),  # created by another connector, without event_id
            _live("f", "pbx:42", 300),  # another connector's own key space
            _live("g", event_id("held@127.0.0.1"), 300)]  # the adapter holds it (ended meanwhile, reported)
    edge = {event_id(c) for c in dialog_call_ids(DLG_LIST)} | {event_id("held@127.0.0.1")}
    assert calls_the_edge_lost(live, edge) == ["c"]
    assert calls_the_edge_lost(live, edge, grace_s=0) == ["c", "d"]
    assert calls_the_edge_lost(live, set()) == ["a", "b", "c", "g"]
    assert calls_the_edge_lost([], edge) == []


def test_a_long_call_id_is_matched_by_its_hashed_event_id():
    long_id = "x" * 100 + "@host"
    assert event_id(long_id).startswith("sip:") and len(event_id(long_id)) == 68
    assert calls_the_edge_lost([_live("a", event_id(long_id), 60)], {event_id(long_id)}) == []


def test_phones_are_corrected_where_allo_and_kamailio_disagree():
    accounts = [{"username": "operateur", "ha1": "0" * 32, "registered": False},  # registered at the edge
                {"username": "operateur2", "ha1": "1" * 32, "registered": True},  # lost in a restart
                {"username": "expert", "ha1": "2" * 32, "registered": True},  # agrees
                {"username": "operateur3", "ha1": "3" * 32, "registered": False}]  # agrees
    assert phone_corrections(accounts, registered_users(UL_DUMP)) == [("operateur", True), ("operateur2", False)]
    assert phone_corrections(accounts, registered_users(UL_DUMP_EMPTY)) == [("operateur2", False), ("expert", False)]
    assert phone_corrections([], {"operateur"}) == []  # a registration without an account in Allô: not Allô's
