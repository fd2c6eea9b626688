"""The wait's announcement says the caller's position and expected wait (issue 11, item 1): the French,
the WAV joined from the sentences spoken at config time, and the adapter playing it (with stand-ins for
Kamailio's evapi and rtpengine: no network)."""

from __future__ import annotations

import os
import shutil
import wave

import pytest
from edge_doubles import Evapi, Ng
from loopback import run_async

from allo.voice import prompts
from allo.voice.adapter import Adapter, SipCall, prompt_seconds

ATTENTE = prompts.TEXTS["attente"]


def test_what_a_waiting_caller_hears_in_french():
    said = prompts.waiting_text
    assert said(3, 240) == ("Vous êtes le troisième appel en attente. Temps d'attente estimé : environ 4 minutes. "
                            + ATTENTE)
    assert said(1, 30) == "Vous êtes le prochain appel. Temps d'attente estimé : moins d'une minute. " + ATTENTE
    assert said(2, 89).startswith("Vous êtes le deuxième appel en attente. Temps d'attente estimé : environ une "
                                  "minute.")
    assert "environ 2 minutes" in said(2, 90)  # the nearest minute
    assert "environ 30 minutes" in said(20, 1800) and "vingtième" in said(20, 1800)
    assert said(22, 1801).startswith("Plus de 20 appels sont en attente avant le vôtre. "
                                     "Temps d'attente estimé : plus de 30 minutes.")
    assert "vingt-et-unième" in said(21, 60)  # 20 before it: said exactly
    assert "plus de 30 minutes" in said(4, float("inf"))  # (the router's figure with no staffed agent)
    assert said(5, None) == "Vous êtes le cinquième appel en attente. " + ATTENTE
    assert said(None, 120) == ATTENTE  # no position from the router: « attente » alone
    assert {prompts.wait_key(s) for s in (0, -5, 59.9)} == {"0"}


def test_every_fragment_has_its_sentence():
    assert len(prompts.FRAGMENTS) == 22 + 32
    for position in range(1, 40):
        for wait in (0, 61, 600, 1799, 5000):
            for part in prompts.waiting_parts(position, wait)[:-1]:
                assert part.removeprefix("fragments/") in prompts.FRAGMENTS


def _wav(path, seconds: float, rate: int = 22050, level: int = 1000):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(level.to_bytes(2, "little", signed=True) * int(rate * seconds))
    return path


def _prompts(folder, rate_of_attente: int = 22050):
    """espeak-ng's format (22050 Hz, mono, 16-bit): 1 s for position 3, 2 s for 4 minutes, 3 s of
    « attente »; position 1 lasts 0.5 s, less than a minute 1.5 s."""
    _wav(folder / "fragments" / "position-3.wav", 1.0, level=3)
    _wav(folder / "fragments" / "position-1.wav", 0.5, level=1)
    _wav(folder / "fragments" / "wait-4.wav", 2.0, level=4)
    _wav(folder / "fragments" / "wait-0.wav", 1.5, level=2)
    _wav(folder / "attente.wav", 3.0, rate=rate_of_attente, level=9)
    return folder


def test_the_sentence_is_the_fragments_one_after_the_other_composed_once(tmp_path):
    folder = _prompts(tmp_path)
    composed = prompts.waiting_prompt(folder, 3, 240)
    assert composed == folder / "cache" / "attente-position-3-wait-4.wav"
    with wave.open(str(composed)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 22050)
        frames = audio.readframes(audio.getnframes())
    assert prompt_seconds(composed) == pytest.approx(1.0 + 2.0 + 3.0, abs=1e-4)
    second = 22050 * 2  # bytes
    assert frames[:2] == b"\3\0" and frames[second:second + 2] == b"\4\0" and frames[-2:] == b"\x09\0"
    assert [p.name for p in composed.parent.iterdir()] == [composed.name]  # no temporary file left

    made = composed.stat().st_mtime_ns
    assert prompts.waiting_prompt(folder, 3, 250) == composed and composed.stat().st_mtime_ns == made  # cached
    later = made + 10**9
    _wav(folder / "fragments" / "wait-4.wav", 1.0, level=4)
    os.utime(folder / "fragments" / "wait-4.wav", ns=(later, later))  # spoken again (a new text)
    assert prompt_seconds(prompts.waiting_prompt(folder, 3, 240)) == pytest.approx(5.0, abs=1e-4)


def test_sentences_of_another_rate_are_resampled_to_the_attentes(tmp_path):
    """« attente » at 8 kHz (a telephone recording): the 22,050 Hz sentences are resampled to it, their
    lengths and levels kept (a constant level stays that level away from the joins)."""
    folder = _prompts(tmp_path / "mixed", rate_of_attente=8000)
    composed = prompts.waiting_prompt(folder, 3, 240)
    with wave.open(str(composed)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 8000)
        frames = audio.readframes(audio.getnframes())
    assert prompt_seconds(composed) == pytest.approx(1.0 + 2.0 + 3.0, abs=1e-3)
    level = [int.from_bytes(frames[2 * k:2 * k + 2], "little", signed=True) for k in (4000, 8000 + 8000, 8000 * 4)]
    assert level == [3, 4, 9]  # the middle of each part


def test_without_its_parts_attente_alone_and_without_attente_nothing(tmp_path):
    folder = _prompts(tmp_path / "stereo")
    with wave.open(str(folder / "fragments" / "wait-4.wav"), "wb") as audio:  # not what espeak-ng writes
        audio.setnchannels(2)
        audio.setsampwidth(2)
        audio.setframerate(22050)
        audio.writeframes(b"\0\0" * 44100)
    assert prompts.waiting_prompt(folder, 3, 240) == folder / "attente.wav"  # not joined
    assert not (folder / "cache" / "attente-position-3-wait-4.wav").exists()
    folder = _prompts(tmp_path / "some")
    assert prompts.waiting_prompt(folder, 7, 240) == folder / "attente.wav"  # no position-7 fragment
    assert prompts.waiting_prompt(folder, None, 240) == folder / "attente.wav"
    assert prompts.waiting_prompt(tmp_path / "none", 3, 240) is None


def _adapter(folder):
    adapter = Adapter(object(), ("127.0.0.1", 1), ("127.0.0.1", 2), "127.0.0.1", prompts=folder)
    adapter.evapi, adapter.ng = Evapi(), Ng()
    adapter.evapi_ready.set()
    call = SipCall("sip-call", "from-tag", 7, 8, "+33611223344", "3939", call_id="c1")
    adapter.by_sip[call.sip_call_id] = adapter.by_call["c1"] = call
    return adapter, call


def _play(seq, position, wait):
    return {"seq": seq, "command": "play", "call_id": "c1", "announcement": "attente", "position": position,
            "expected_wait_s": wait}


def test_a_waiting_caller_hears_its_position_and_wait_and_the_new_ones_when_queued_again(tmp_path):
    folder = _prompts(tmp_path)

    async def scenario():
        adapter, call = _adapter(folder)
        await adapter.on_command(_play(1, 3, 240))
        assert adapter.acks.get_nowait() == 1
        assert [m["cmd"] for m in adapter.evapi.sent] == ["early_media"]
        assert adapter.ng.commands == ["answer", "play media"]
        played = adapter.ng.params[1]
        assert played["file"] == str(folder / "cache" / "attente-position-3-wait-4.wav")
        assert played["repeat-times"] == 100 and played["call-id"] == "sip-call"

        await adapter.on_command(_play(2, 3, 250))  # the same sentence: not started again
        assert adapter.ng.commands == ["answer", "play media"]
        await adapter.on_command(_play(3, 1, 20))  # queued again at the head: the new sentence
        assert adapter.ng.commands == ["answer", "play media", "stop media", "play media"]
        assert adapter.ng.params[3]["file"] == str(folder / "cache" / "attente-position-1-wait-0.wav")
        assert call.playing == adapter.ng.params[3]["file"]

        await adapter.on_command({"seq": 4, "command": "bridge", "call_id": "c1", "agent": "operateur",
                                  "outbound": False})
        assert adapter.ng.commands[-1] == "stop media" and call.playing == ""

    run_async(scenario())


def test_without_a_position_attente_alone_and_without_prompts_acknowledged_and_nothing_played(tmp_path):
    folder = _prompts(tmp_path / "prompts")

    async def no_position():
        adapter, _ = _adapter(folder)
        await adapter.on_command(_play(1, None, None))
        assert adapter.ng.params[-1]["file"] == str(folder / "attente.wav")

    async def no_prompts():
        (tmp_path / "empty").mkdir()
        adapter, _ = _adapter(tmp_path / "empty")
        await adapter.on_command(_play(1, 3, 240))
        assert adapter.acks.get_nowait() == 1
        assert adapter.ng.commands == [] and adapter.evapi.sent == []

    run_async(no_position())
    run_async(no_prompts())


def test_a_play_kept_during_a_transfer_says_the_position_once_the_caller_called_back(tmp_path):
    folder = _prompts(tmp_path)

    async def scenario():
        adapter, call = _adapter(folder)
        call.state, call.transfer = "transferring", "token"
        adapter.transfers["token"] = call
        await adapter.on_command(_play(1, 3, 240))
        assert adapter.ng.commands == [] and call.pending_play["position"] == 3
        await adapter.on_event({"event": "invite", "tindex": 3, "tlabel": 4, "callid": "second-call",
                                "fromtag": "tag-2", "caller": "+33611223344", "dialed": "transfer-token"})
        assert adapter.ng.commands[-2:] == ["answer", "play media"]
        assert adapter.ng.params[-1]["file"] == str(folder / "cache" / "attente-position-3-wait-4.wav")
        assert call.pending_play is None

    run_async(scenario())


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (Debian: espeak-ng)")
def test_espeak_speaks_the_fragments_once_and_they_join_with_attente(tmp_path):
    made = prompts.generate(tmp_path)
    assert [p.name for p in made] == ["accueil.wav", "attente.wav", "consultation.wav", "proposition-rappel.wav",
                                      "rappel-enregistre.wav"]  # the fragments are not listed
    folder = prompts.prompts_dir(tmp_path)
    fragments = sorted((folder / "fragments").glob("*.wav"))
    assert len(fragments) == len(prompts.FRAGMENTS) + len(prompts.CALLBACK_FRAGMENTS)  # the wait's and the callback's
    three = folder / "fragments" / "position-3.wav"
    first = three.read_bytes()
    assert 1.0 < prompt_seconds(three) < 5.0  # a sentence, spoken

    composed = prompts.waiting_prompt(folder, 3, 240)
    parts = [three, folder / "fragments" / "wait-4.wav", folder / "attente.wav"]
    with wave.open(str(parts[0])) as audio:
        rate = audio.getframerate()
    assert prompt_seconds(composed) == pytest.approx(sum(prompt_seconds(p) for p in parts), abs=1 / rate)

    three.write_bytes(b"RIFF recorded by an admin")
    prompts.generate(tmp_path)
    assert three.read_bytes() == b"RIFF recorded by an admin"  # kept
    three.unlink()
    prompts.generate(tmp_path)
    assert three.read_bytes() == first  # spoken again, the same
    three.unlink()
    prompts.generate(tmp_path, {"ferme": "Fermé."})
    assert not three.exists()  # « ferme » alone: the wait's fragments are not made


def test_an_attente_recorded_in_allo_follows_the_spoken_position_and_wait(tmp_path):
    """An admin's « attente » (16 kHz here) replaces the spoken one after the position and the wait, which
    are still said; without a position it is played as it is."""
    folder = _prompts(tmp_path)
    recorded = _wav(folder / "recorded" / "attente.wav", 4.0, rate=16000, level=7)

    async def scenario():
        adapter, call = _adapter(folder)
        await adapter.on_command(_play(1, 3, 240))
        composed = folder / "cache" / "attente-enregistree-position-3-wait-4.wav"
        assert adapter.ng.params[-1]["file"] == str(composed)
        assert prompt_seconds(composed) == pytest.approx(1.0 + 2.0 + 4.0, abs=1e-3)
        with wave.open(str(composed)) as audio:
            assert audio.getframerate() == 16000
            assert audio.readframes(audio.getnframes())[-2:] == b"\x07\0"  # the recording last
        await adapter.on_command(_play(2, None, None))
        assert adapter.ng.params[-1]["file"] == str(recorded)

    run_async(scenario())
