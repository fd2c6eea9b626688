"""The adapter's wire formats: evapi netstrings and rtpengine's bencoded ng messages."""

from __future__ import annotations

import pytest

from allo.voice import evapi, ng
from allo.voice.adapter import dtmf_key, event_id


def test_netstrings_split_anywhere_come_out_whole_and_in_order():
    wire = evapi.encode({"event": "invite", "callid": "a@b"}) + evapi.encode({"event": "bye", "callid": "é"})
    for cut in range(len(wire) + 1):
        decoder = evapi.Decoder()
        messages = decoder.feed(wire[:cut]) + decoder.feed(wire[cut:])
        assert [m.decode() for m in messages] == ['{"event":"invite","callid":"a@b"}',
                                                  '{"event":"bye","callid":"\\u00e9"}']


@pytest.mark.parametrize("wire", [b"x:abc,", b"3:abcd", b"99999999999:"])
def test_a_broken_netstring_is_an_error(wire):
    with pytest.raises(evapi.NetstringError):
        evapi.Decoder().feed(wire)


def test_bencode_round_trip_with_sorted_keys():
    message = {"command": "delete", "call-id": "1-2@127.0.0.1", "flags": ["a", "b"], "n": 3}
    wire = ng.bencode(message)
    assert wire.startswith(b"d7:call-id")
    decoded = ng.bdecode(wire)
    assert ng._text(decoded) == {"call-id": "1-2@127.0.0.1", "command": "delete", "flags": ["a", "b"], "n": 3}


def test_an_event_id_is_the_call_id_or_its_hash_when_the_api_would_refuse_it():
    assert event_id("1-30792@127.0.0.1") == "sip:1-30792@127.0.0.1"
    long = event_id("x" * 200)
    assert long.startswith("sip:") and len(long) == 68
    assert event_id("a b") != "sip:a b"


def test_a_dtmf_report_of_rtpengine_gives_the_call_the_side_and_the_key():
    # as rtpengine 10.5 sends it (dtmf-log-dest), captured
    report = (b'{"callid":"cid1","source_tag":"ft1","tags":["ft1","q1"],"type":"DTMF","timestamp":1796176997,'
              b'"source_ip":"127.0.0.1","event":2,"duration":80,"volume":10}')
    assert dtmf_key(report) == ("cid1", "ft1", "2")
    assert dtmf_key(report.replace(b'"event":2', b'"event":11')) == ("cid1", "ft1", "#")
    for bad in (b"", b"not json", b"[]", b'{"callid":"c","event":16}', b'{"callid":"c","event":"x"}',
                b'{"callid":"c","type":"other","event":1}'):
        assert dtmf_key(bad) is None
