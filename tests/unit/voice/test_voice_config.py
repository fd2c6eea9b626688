"""The voice edge's generated configuration (allo/voice/config.py): pure, no Django, no network;
the last test has Kamailio itself check the rendered file when it is installed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from allo.voice import config as voice_config
from allo.voice.config import VoiceConfig, VoiceConfigError, render


def test_every_placeholder_of_both_templates_is_filled(tmp_path):
    config = VoiceConfig.from_env(tmp_path, env={"ALLO_VOICE_SIP": "127.0.0.5:15070",
                                                  "ALLO_VOICE_SERVICE_NUMBERS": "3939, 0806000000"})
    paths = voice_config.write(config)
    kamailio = config.kamailio_cfg.read_text()
    rtpengine = config.rtpengine_conf.read_text()
    assert "{{" not in kamailio and "{{" not in rtpengine
    assert "listen=udp:127.0.0.5:15070" in kamailio
    assert '$rU =~ "^(3939|0806000000)$"' in kamailio
    assert "listen-ng = 127.0.0.1:22222" in rtpengine
    assert paths == [config.kamailio_cfg, config.rtpengine_conf]


def test_no_credential_is_written_kamailio_checks_the_ha1s_the_adapter_loads(tmp_path):
    """The agents' secrets are in no file: Kamailio checks the digest against the `sip` htable (HA1,
    flags 1) that the adapter fills from Allô's API, in the realm of the edge's domain."""
    config = VoiceConfig.from_env(tmp_path, env={"ALLO_VOICE_SIP_DOMAIN": "voix.allo.example"})
    voice_config.write(config)
    kamailio = config.kamailio_cfg.read_text()
    assert 'pv_auth_check("voix.allo.example", "$sht(sip=>$au)", "1", "1")' in kamailio
    assert "db_text" not in kamailio and "auth_db" not in kamailio
    assert not (config.root / "db").exists()


@pytest.mark.parametrize("env", [
    {"ALLO_VOICE_SIP": "localhost:5060"},
    {"ALLO_VOICE_SIP": "127.0.0.1"},
    {"ALLO_VOICE_SERVICE_NUMBERS": "39;39"},
    {"ALLO_VOICE_RTP_PORTS": "30000-30001"},
    {"ALLO_VOICE_EVAPI": "127.0.0.1:22222"},  # the same as rtpengine's ng
    {"ALLO_VOICE_DTMF": "127.0.0.1:22222"},  # idem
    {"ALLO_VOICE_MENU_TIMEOUT": "-1"},
])
def test_bad_settings_are_refused_with_their_name(tmp_path, env):
    with pytest.raises(VoiceConfigError):
        VoiceConfig.from_env(tmp_path, env=env)


def test_a_placeholder_without_a_value_is_an_error():
    with pytest.raises(VoiceConfigError, match="NOPE"):
        render("a {{NOPE}} b", {})


def test_command_line_addresses_override_the_settings(tmp_path):
    config = VoiceConfig.from_env(tmp_path, env={"ALLO_VOICE_SIP": "127.0.0.1:5060"}, sip="127.0.0.2:5070",
                                  ng=None)
    assert config.sip == ("127.0.0.2", 5070)
    assert config.agent_uri("operateur") == "sip:operateur@127.0.0.2"


@pytest.mark.skipif(shutil.which("kamailio") is None, reason="kamailio is not installed (Debian: kamailio)")
def test_kamailio_accepts_the_generated_configuration(tmp_path):
    config = VoiceConfig.from_env(tmp_path, env={})
    voice_config.write(config)
    out = subprocess.run(["kamailio", "-c", "-f", str(config.kamailio_cfg)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (Debian: espeak-ng)")
def test_the_announcements_are_spoken_once_and_a_recorded_one_is_kept(tmp_path):
    from allo.voice import prompts
    from allo.voice.adapter import PROMPT_SECONDS_UNKNOWN, prompt_seconds

    made = prompts.generate(tmp_path)
    assert [p.name for p in made] == ["accueil.wav", "attente.wav", "consultation.wav", "proposition-rappel.wav",
                                      "rappel-enregistre.wav"]
    assert all(prompt_seconds(p) > 3 for p in made)  # seconds of speech (the menu waits that long first)
    made[1].write_bytes(b"RIFF recorded by an admin")
    prompts.generate(tmp_path)
    assert made[1].read_bytes() == b"RIFF recorded by an admin"
    assert prompt_seconds(made[1]) == PROMPT_SECONDS_UNKNOWN  # not a WAV file: the menu waits a default


def test_rtpengine_reports_the_keys_to_the_adapter_and_the_menu_follows_allos_choices(tmp_path):
    config = VoiceConfig.from_env(tmp_path, env={"ALLO_VOICE_DTMF": "127.0.0.1:23000"})
    voice_config.write(config)
    assert "dtmf-log-dest = 127.0.0.1:23000" in config.rtpengine_conf.read_text()
    assert '\\"dtmf\\":$var(dtmf)' in config.kamailio_cfg.read_text()  # the caller can send keys
    from allo.contact_centre.services import IVR_TOPICS
    from allo.voice.prompts import TEXTS

    for key in IVR_TOPICS:  # every choice Allô knows is offered by the welcome
        assert f"tapez {key}." in TEXTS["accueil"]
    from allo.voice.adapter import MENU_KEYS

    assert set(MENU_KEYS) == set(IVR_TOPICS)  # the keys the adapter takes as choices
