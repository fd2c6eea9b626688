"""« fermé » with the hours: its text, its generation, and the adapter playing it before the 480
(with stand-ins for Kamailio's evapi, rtpengine and Allô's API: no network)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import wave

import pytest
from edge_doubles import Evapi, Ng
from loopback import run_async

from allo.voice import prompts
from allo.voice.adapter import Adapter, SipCall

T = dt.time


def test_the_hours_are_said_as_a_person_would():
    weekly = {day: [(T(8, 30), T(18))] for day in range(5)} | {5: [(T(9), T(12))]}
    assert prompts.closed_text(weekly) == (
        "Allô Service Public est actuellement fermé. Nos conseillers vous répondent du lundi au vendredi, "
        "de 8 heures 30 à 18 heures ; le samedi, de 9 heures à 12 heures. Merci de rappeler à ces horaires.")
    split = {0: [(T(14), T(17)), (T(9), T(12))], 2: [(T(9), T(12)), (T(14), T(17))]}
    assert "le lundi, de 9 heures à 12 heures et de 14 heures à 17 heures ; le mercredi," in prompts.closed_text(split)
    assert "rappeler ultérieurement" in prompts.closed_text({})


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (Debian: espeak-ng)")
def test_a_generated_prompt_follows_its_text_a_recorded_one_is_kept(tmp_path):
    texts = {"ferme": prompts.closed_text({0: [(T(9), T(12))]})}
    [made] = prompts.generate(tmp_path, texts)
    first = made.read_bytes()
    assert json.loads((made.parent / "ferme.json").read_text())["text"] == texts["ferme"]
    prompts.generate(tmp_path, texts)
    assert made.read_bytes() == first  # same text: not made again
    prompts.generate(tmp_path, {"ferme": prompts.closed_text({0: [(T(9), T(17))]})})
    assert made.read_bytes() != first  # the hours changed: spoken again
    made.write_bytes(b"RIFF recorded by an admin")
    prompts.generate(tmp_path, texts)
    assert made.read_bytes() == b"RIFF recorded by an admin"




class Api:
    def __init__(self):
        self.hangups: list[str] = []

    async def hangup(self, call_id: str) -> None:
        self.hangups.append(call_id)


def _adapter(tmp_path, seconds: float | None):
    if seconds is not None:
        with wave.open(str(tmp_path / "ferme.wav"), "wb") as audio:
            audio.setnchannels(1)
            audio.setsampwidth(2)
            audio.setframerate(8000)
            audio.writeframes(b"\0\0" * int(8000 * seconds))
    adapter = Adapter(Api(), ("127.0.0.1", 1), ("127.0.0.1", 2), "127.0.0.1", prompts=tmp_path)
    adapter.evapi, adapter.ng = Evapi(), Ng()
    adapter.evapi_ready.set()
    call = SipCall("sip-call", "from-tag", 7, 8, "+33611223344", "3939", call_id="c1")
    adapter.by_sip[call.sip_call_id] = adapter.by_call["c1"] = call
    return adapter, call


CLOSED = {"seq": 1, "command": "hangup", "call_id": "c1", "reason": "closed"}


def test_a_caller_turned_away_hears_ferme_then_gets_the_480(tmp_path):
    async def scenario():
        adapter, call = _adapter(tmp_path, 0.4)
        started = asyncio.get_running_loop().time()
        await adapter.on_command(CLOSED)
        assert adapter.acks.get_nowait() == 1  # acknowledged at once: the stream is not held meanwhile
        await asyncio.gather(*adapter.background)
        assert asyncio.get_running_loop().time() - started >= 0.4  # the whole prompt first
        assert [m["cmd"] for m in adapter.evapi.sent] == ["early_media", "reject"]
        assert adapter.evapi.sent[1] == {"cmd": "reject", "tindex": 7, "tlabel": 8, "code": 480}
        assert adapter.ng.commands == ["answer", "play media", "delete"]
        assert call.state == "ended" and "c1" not in adapter.by_call

    run_async(scenario())


def test_a_caller_who_hangs_up_during_ferme_is_not_rejected_and_without_the_prompt_480_at_once(tmp_path):
    async def hangs_up():
        adapter, _ = _adapter(tmp_path, 5.0)
        await adapter.on_command(CLOSED)
        await asyncio.sleep(0.3)
        await adapter.on_event({"event": "cancel", "callid": "sip-call"})
        await asyncio.wait_for(asyncio.gather(*adapter.background), 2)  # not the prompt's 5 s
        assert [m["cmd"] for m in adapter.evapi.sent] == ["early_media"]

    async def no_prompt():
        adapter, _ = _adapter(tmp_path / "none", None)
        await adapter.on_command(CLOSED)
        assert [m["cmd"] for m in adapter.evapi.sent] == ["reject"]

    run_async(hangs_up())
    (tmp_path / "none").mkdir()
    run_async(no_prompt())


def test_the_prompts_command_makes_the_adapter_load_the_recordings_at_once(tmp_path, monkeypatch):
    """Allô's `prompts` (an admin saved or deleted a recording): acknowledged like any command, and the
    recordings' loop checks again at once instead of at its next turn (PROMPTS_EVERY_S)."""
    import asyncio

    from loopback import run_async

    from allo.voice import adapter as adapter_module
    from allo.voice.adapter import Adapter

    monkeypatch.setattr(adapter_module, "PROMPTS_EVERY_S", 60.0)
    synced = []

    async def scenario():
        adapter = Adapter(object(), ("127.0.0.1", 1), ("127.0.0.1", 2), "127.0.0.1", prompts=tmp_path)

        async def sync():
            synced.append(asyncio.get_running_loop().time())

        adapter.sync_prompts = sync
        loop = asyncio.create_task(adapter.run_prompts())
        await asyncio.sleep(0.05)
        assert len(synced) == 1  # at start
        await adapter.on_command({"seq": 1, "command": "prompts", "call_id": ""})
        assert adapter.acks.get_nowait() == 1
        await asyncio.sleep(0.05)
        assert len(synced) == 2  # at once, not 60 s later
        loop.cancel()

    run_async(scenario())
