"""The callback proposal by keys (issue 11, item 1): the router's `play proposition-rappel` (destination
closed or saturated) is played to the waiting caller, whose key 1 or 2 (or none) becomes the
`callback-answer`; an accepted callback is confirmed and the caller released by the edge. With
stand-ins for Kamailio's evapi, rtpengine and Allô's API (no network)."""

from __future__ import annotations

import asyncio
import shutil
import wave

import pytest
from edge_doubles import Evapi, Ng
from loopback import run_async

from allo.voice import prompts
from allo.voice.adapter import CALLBACK_KEYS, Adapter, SipCall, prompt_seconds
from allo.voice.api import ApiError


class Api:
    def __init__(self, refuse: bool = False):
        self.answers: list[tuple[str, bool]] = []
        self.hangups: list[str] = []
        self.refuse = refuse

    async def callback_answer(self, call_id: str, accepted: bool) -> None:
        if self.refuse:
            raise ApiError(409, {"erreur": "L'appel est terminé."})
        self.answers.append((call_id, accepted))

    async def hangup(self, call_id: str) -> None:
        self.hangups.append(call_id)


def _wav(path, seconds: float):
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * int(8000 * seconds))


def _adapter(tmp_path, api=None, dtmf: bool = True, proposal_s: float = 0.2, confirm_s: float = 0.3):
    _wav(tmp_path / "proposition-rappel.wav", proposal_s)
    _wav(tmp_path / "rappel-enregistre.wav", confirm_s)
    adapter = Adapter(api or Api(), ("127.0.0.1", 1), ("127.0.0.1", 2), "127.0.0.1", prompts=tmp_path,
                      dtmf=("127.0.0.1", 3))
    adapter.callback_timeout = 0.3
    adapter.evapi, adapter.ng = Evapi(), Ng()
    adapter.evapi_ready.set()
    call = SipCall("sip-call", "from-tag", 7, 8, "+33611223344", "3939", call_id="c1", dtmf=dtmf)
    adapter.by_sip[call.sip_call_id] = adapter.by_call["c1"] = call
    return adapter, call


PROPOSAL = {"seq": 1, "command": "play", "call_id": "c1", "announcement": "proposition-rappel",
            "reason": "saturated", "at": 1_790_000_000.0}
DECLINED = {"seq": 2, "command": "hangup", "call_id": "c1", "reason": "declined"}


async def _proposed(adapter):
    await adapter.on_command(PROPOSAL)
    assert adapter.acks.get_nowait() == 1  # acknowledged at once: the stream is not held by the wait
    await asyncio.sleep(0.05)
    assert adapter.ng.commands == ["answer", "play media"]
    assert adapter.ng.params[1]["file"].endswith("proposition-rappel.wav")
    assert "repeat-times" not in adapter.ng.params[1]  # once, then the wait for a key


async def _pressed(tmp_path, key: str):
    """The proposal played, then the caller's `key`: (adapter, call)."""
    adapter, call = _adapter(tmp_path)
    await _proposed(adapter)
    adapter.on_dtmf("sip-call", "from-tag", key)
    await asyncio.sleep(0.05)
    return adapter, call


def test_the_prompt_offers_the_keys_the_adapter_reads():
    for key, accepted in CALLBACK_KEYS.items():
        assert f"tapez {key}." in prompts.TEXTS["proposition-rappel"]
        assert accepted is (key == "1")


def test_key_1_accepts_the_callback_the_caller_hears_it_confirmed_and_is_released(tmp_path):
    async def scenario():
        adapter, call = _adapter(tmp_path)
        await _proposed(adapter)
        adapter.on_dtmf("sip-call", "other-side-tag", "1")  # not the caller's side: ignored
        await asyncio.sleep(0.05)
        assert adapter.api.answers == [] and call.proposal is not None
        adapter.on_dtmf("sip-call", "from-tag", "1")
        await asyncio.sleep(0.05)
        assert adapter.api.answers == [("c1", True)]
        assert call.state == "confirming"
        assert adapter.ng.commands[2:] == ["stop media", "play media"]
        assert adapter.ng.params[3]["file"].endswith("rappel-enregistre.wav")
        await asyncio.wait_for(asyncio.gather(*adapter.background), 2)
        # the router sends nothing more (the callback is scheduled): the edge releases the caller itself,
        # without reporting a hang-up (which would cancel the callback)
        assert adapter.evapi.sent[-1] == {"cmd": "reject", "tindex": 7, "tlabel": 8, "code": 480}
        assert call.state == "ended" and "c1" not in adapter.by_call and adapter.api.hangups == []

    run_async(scenario())


def test_a_key_that_is_no_answer_says_the_proposal_again_once_then_counts_as_no(tmp_path):
    async def answered_the_second_time():
        adapter, _ = await _pressed(tmp_path, "7")
        assert adapter.api.answers == [] and adapter.ng.commands[2:] == ["stop media", "play media"]
        assert adapter.ng.params[3]["file"].endswith("proposition-rappel.wav")  # from its start
        adapter.on_dtmf("sip-call", "from-tag", "1")
        await asyncio.wait_for(asyncio.gather(*adapter.background), 2)
        assert adapter.api.answers == [("c1", True)]

    async def twice_wrong():
        adapter, _ = await _pressed(tmp_path, "7")
        adapter.on_dtmf("sip-call", "from-tag", "#")
        await asyncio.wait_for(asyncio.gather(*adapter.background), 2)
        assert adapter.api.answers == [("c1", False)]
        assert adapter.ng.commands.count("play media") == 2  # said twice, no more

    run_async(answered_the_second_time())
    run_async(twice_wrong())


def test_the_confirmation_says_the_callbacks_day_and_time(tmp_path):
    """The router's proposal carries the callback's local time and today's date: « demain, vers 9 heures
    15 » (9:08 rounded to the quarter) is said before « rappel-enregistre », joined in one file."""
    assert prompts.callback_text("2026-12-03T09:08", "2026-12-02") == (
        "Un conseiller vous rappellera à ce numéro demain, vers 9 heures 15. " + prompts.TEXTS["rappel-enregistre"])
    assert prompts.callback_text("2026-12-02T14:52", "2026-12-02").startswith(
        "Un conseiller vous rappellera à ce numéro aujourd'hui, vers 14 heures 45.")
    assert "lundi, vers 0 heure." in prompts.callback_text("2026-12-06T23:55", "2026-12-02")  # Sunday night
    assert prompts.callback_text("2026-12-10T09:00", "2026-12-02") == prompts.TEXTS["rappel-enregistre"]
    assert prompts.callback_text(None, None) == prompts.TEXTS["rappel-enregistre"]  # an older router's command

    async def scenario():
        adapter, call = _adapter(tmp_path)
        (tmp_path / "fragments").mkdir()
        _wav(tmp_path / "fragments" / "rappel-jour-1.wav", 0.4)
        _wav(tmp_path / "fragments" / "rappel-heure-09h15.wav", 0.5)
        await adapter.on_command({**PROPOSAL, "at_local": "2026-12-03T09:08", "today": "2026-12-02"})
        await asyncio.sleep(0.05)
        adapter.on_dtmf("sip-call", "from-tag", "1")
        await asyncio.wait_for(asyncio.gather(*adapter.background), 3)
        said = tmp_path / "cache" / "rappel-enregistre-rappel-jour-1-rappel-heure-09h15.wav"
        assert adapter.ng.params[3]["file"] == str(said)
        assert prompt_seconds(said) == pytest.approx(0.4 + 0.5 + 0.3, abs=1e-3)

    run_async(scenario())


def test_key_2_declines_and_the_routers_hangup_releases_the_caller(tmp_path):
    async def scenario():
        adapter, call = await _pressed(tmp_path, "2")
        assert adapter.api.answers == [("c1", False)] and call.state == "parked"
        assert adapter.ng.commands[-1] == "stop media"
        await adapter.on_command(DECLINED)
        assert adapter.evapi.sent[-1] == {"cmd": "reject", "tindex": 7, "tlabel": 8, "code": 480}
        assert call.state == "ended" and adapter.api.hangups == []
        assert "rappel-enregistre" not in str(adapter.ng.params)

    run_async(scenario())


def test_no_key_within_the_prompt_and_the_timeout_is_a_no(tmp_path):
    async def scenario():
        adapter, _ = _adapter(tmp_path)
        started = asyncio.get_running_loop().time()
        await _proposed(adapter)
        await asyncio.wait_for(asyncio.gather(*adapter.background), 2)
        assert asyncio.get_running_loop().time() - started >= 0.2 + 0.3  # the prompt, then the timeout
        assert adapter.api.answers == [("c1", False)]

    run_async(scenario())


def test_a_caller_who_hangs_up_during_the_proposal_or_its_confirmation(tmp_path):
    async def during_the_proposal():
        adapter, _ = _adapter(tmp_path)
        await _proposed(adapter)
        await adapter.on_event({"event": "cancel", "callid": "sip-call"})
        await asyncio.wait_for(asyncio.gather(*adapter.background), 1)
        # the proposal left unanswered: the router ends it (abandoned) on the hang-up, no answer posted
        assert adapter.api.answers == [] and adapter.api.hangups == ["c1"]

    async def during_the_confirmation():
        adapter, _ = _adapter(tmp_path, confirm_s=5.0)
        await _proposed(adapter)
        adapter.on_dtmf("sip-call", "from-tag", "1")
        await asyncio.sleep(0.1)
        await adapter.on_event({"event": "cancel", "callid": "sip-call"})
        await asyncio.wait_for(asyncio.gather(*adapter.background), 2)  # not the prompt's 5 s
        assert adapter.api.answers == [("c1", True)] and adapter.api.hangups == []  # the callback stands
        assert [m["cmd"] for m in adapter.evapi.sent] == ["early_media"]  # not rejected: already gone

    run_async(during_the_proposal())
    run_async(during_the_confirmation())


def test_a_caller_who_cannot_press_keys_is_answered_no_at_once(tmp_path):
    async def scenario():
        adapter, _ = _adapter(tmp_path, dtmf=False)
        await adapter.on_command(PROPOSAL)
        await asyncio.wait_for(asyncio.gather(*adapter.background), 1)
        assert adapter.api.answers == [("c1", False)] and adapter.ng.commands == []

    run_async(scenario())


def test_an_answer_allo_refuses_releases_the_caller_and_reports_the_hangup(tmp_path):
    async def scenario():
        adapter, call = _adapter(tmp_path, api=Api(refuse=True))
        await _proposed(adapter)
        adapter.on_dtmf("sip-call", "from-tag", "1")
        await asyncio.wait_for(asyncio.gather(*adapter.background), 2)
        assert adapter.evapi.sent[-1]["cmd"] == "reject" and call.state == "ended"
        assert adapter.api.hangups == ["c1"] and "rappel-enregistre" not in str(adapter.ng.params)

    run_async(scenario())


def test_keys_without_a_proposal_still_go_to_the_menu(tmp_path):
    async def scenario():
        adapter, call = _adapter(tmp_path)
        call.call_id = None
        call.menu = asyncio.get_running_loop().create_future()
        adapter.on_dtmf("sip-call", "from-tag", "2")
        assert call.menu.result() == "2" and call.proposal is None
        call.menu = None
        adapter.on_dtmf("sip-call", "from-tag", "1")  # neither menu nor proposal: ignored
        assert adapter.api.answers == []

    run_async(scenario())


def test_a_proposal_replaces_the_wait_announcement(tmp_path):
    async def scenario():
        adapter, call = _adapter(tmp_path)
        _wav(tmp_path / "attente.wav", 1.0)
        await adapter.on_command({"seq": 1, "command": "play", "call_id": "c1", "announcement": "attente",
                                  "position": None, "expected_wait_s": None})
        assert call.playing.endswith("attente.wav")
        await adapter.on_command({**PROPOSAL, "seq": 2})
        await asyncio.sleep(0.05)
        assert adapter.ng.commands == ["answer", "play media", "stop media", "play media"]
        assert adapter.ng.params[3]["file"].endswith("proposition-rappel.wav") and call.playing == ""
        adapter.on_dtmf("sip-call", "from-tag", "2")
        await asyncio.wait_for(asyncio.gather(*adapter.background), 1)
        assert adapter.api.answers == [("c1", False)]

    run_async(scenario())


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (Debian: espeak-ng)")
def test_espeak_speaks_the_proposal_and_its_confirmation(tmp_path):
    names = ("proposition-rappel", "rappel-enregistre")
    made = prompts.generate(tmp_path, {name: prompts.TEXTS[name] for name in names})
    assert [p.stem for p in made] == list(names)
    assert all(prompt_seconds(p) > 3 for p in made)  # seconds of speech


def _on_the_operators_phone(tmp_path):
    """The operator transferred its caller to an N2 destination closed or saturated: the router sent no
    `transfer`, the caller is still in its dialog with the operator's phone when the proposal comes."""
    adapter, call = _adapter(tmp_path)
    call.state, call.to_tag, call.agent = "talking", "phone-tag", "operateur"
    return adapter, call


def test_a_caller_still_on_its_operators_phone_hears_the_proposal_in_that_dialog(tmp_path):
    async def accepted():
        adapter, call = _on_the_operators_phone(tmp_path)
        await adapter.on_command(PROPOSAL)
        await asyncio.sleep(0.05)
        assert adapter.ng.commands == ["block media", "play media"]  # no early media: the dialog exists
        assert adapter.ng.params[0]["from-tag"] == "phone-tag"  # the operator's side no longer reaches it
        adapter.on_dtmf("sip-call", "from-tag", "1")
        await asyncio.wait_for(asyncio.gather(*adapter.background), 2)
        assert adapter.api.answers == [("c1", True)] and adapter.api.hangups == []
        assert adapter.ng.params[3]["file"].endswith("rappel-enregistre.wav")
        # confirmed, then both phones get a BYE (Allô sends nothing more for a scheduled callback)
        assert adapter.evapi.sent == [{"cmd": "end", "callid": "sip-call", "fromtag": "from-tag", "totag": "phone-tag"}]
        assert adapter.ng.commands[-1] == "delete" and call.state == "ended"

    async def declined():
        adapter, call = _on_the_operators_phone(tmp_path)
        await adapter.on_command(PROPOSAL)
        await asyncio.sleep(0.05)
        adapter.on_dtmf("sip-call", "from-tag", "2")
        await asyncio.wait_for(asyncio.gather(*adapter.background), 1)
        assert adapter.api.answers == [("c1", False)] and call.state == "talking"
        await adapter.on_command(DECLINED)
        assert adapter.evapi.sent == [{"cmd": "end", "callid": "sip-call", "fromtag": "from-tag", "totag": "phone-tag"}]

    run_async(accepted())
    run_async(declined())


class _Calls:
    """Allô's API as far as the menu goes: the calls it is told of, with their choice."""

    def __init__(self):
        self.new: list[tuple[str, str]] = []

    async def new_call(self, caller, dialed, event_id, ivr_choice="", keepalive_s=None):
        self.new.append((caller, ivr_choice))
        return "c9"


@pytest.mark.parametrize("keys, choice", [(["9", "2"], "2"), (["9", "#"], ""), (["3"], "3")])
def test_a_key_the_menu_does_not_offer_says_the_menu_again_once(tmp_path, keys, choice):
    """The welcome's menu offers 1, 2, 3 (Allô's IVR topics): another key says it again from its start,
    once; a second such key is no choice (the call reaches Allô without one)."""
    _wav(tmp_path / "accueil.wav", 0.2)

    async def scenario():
        adapter, _ = _adapter(tmp_path, api=_Calls())
        await adapter.on_event({"event": "invite", "callid": "menu-call", "fromtag": "menu-tag", "tindex": 1,
                                "tlabel": 2, "caller": "+33611223344", "dialed": "3939", "dtmf": True})
        await asyncio.sleep(0.05)
        for key in keys:
            adapter.on_dtmf("menu-call", "menu-tag", key)
            await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*adapter.background), 2)
        assert adapter.api.new == [("+33611223344", choice)]
        said = len([p for p in adapter.ng.params if p.get("file", "").endswith("accueil.wav")])
        assert said == min(len(keys), 2)

    run_async(scenario())
