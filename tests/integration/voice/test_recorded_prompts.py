"""Announcements an administrator records in place of the spoken ones (issue 11, item 1: « generated at
install with espeak-ng or uploaded by an admin »): the admin checks the file and plays it back, the
telephony API lists and serves it to the voice nodes (the adapter's side: tests/unit/voice)."""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave

import pytest
from django.test import Client
from django.urls import reverse

from allo.accounts.models import User
from allo.contact_centre.tokens import create_token
from allo.voice.models import RecordedPrompt

pytestmark = [pytest.mark.django_db]


def wav(seconds=1.0, rate=8000, channels=1, width=2) -> bytes:
    """A tone: what an administrator's recording is, as far as the checks go."""
    frames = int(seconds * rate)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        if width == 2:
            samples = (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(frames))
            w.writeframes(b"".join(struct.pack("<h", s) * channels for s in samples))
        else:
            w.writeframes(bytes([128]) * frames * channels * width)
    return out.getvalue()


def upload(client, name, data, filename="annonce.wav"):
    f = io.BytesIO(data)
    f.name = filename
    return client.post(reverse("admin:voice_recordedprompt_add"), {"name": name, "fichier": f})


@pytest.fixture
def admin_client(demo):
    c = Client()
    c.force_login(User.objects.get(username="admin"))
    return c


def test_an_administrator_uploads_a_recording_and_listens_to_it(admin_client):
    data = wav(2.5)
    r = upload(admin_client, "accueil", data)
    assert r.status_code == 302, r.content.decode()[-2000:]
    prompt = RecordedPrompt.objects.get(name="accueil")
    assert (bytes(prompt.audio), prompt.sha256, prompt.seconds) == (data, hashlib.sha256(data).hexdigest(), 2.5)
    assert prompt.uploaded_by.username == "admin"
    page = admin_client.get(reverse("admin:voice_recordedprompt_change", args=[prompt.pk])).content.decode()
    listen = reverse("admin:voice_recordedprompt_audio", args=[prompt.pk])
    assert f'<audio controls preload="none" src="{listen}"' in page
    played = admin_client.get(listen)
    assert played["Content-Type"] == "audio/wav" and played.content == data


@pytest.mark.parametrize("data, message", [
    (b"ID3 not a wav at all", "n&#x27;est pas un enregistrement WAV"),
    (wav(channels=2), "2 canaux : il doit être mono"),
    (wav(width=1), "en 8 bits : il doit être en PCM 16 bits"),
    (wav(rate=11025), "11025 Hz non prise en charge"),
    (wav(seconds=0.2), "dure 0.2 s"),
])
def test_a_file_the_edge_cannot_play_is_refused_with_the_reason(admin_client, data, message):
    r = upload(admin_client, "attente", data)
    assert r.status_code == 200 and message in r.content.decode()
    assert not RecordedPrompt.objects.exists()


def test_the_voice_nodes_get_the_recordings_through_the_telephony_api(admin_client, client):
    data = wav(1.0)
    upload(admin_client, "consultation", data)
    token = create_token("telephony", "test")
    bearer = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/telephony/prompts", headers=bearer).json()
    assert listed == {"prompts": [{"name": "consultation", "sha256": hashlib.sha256(data).hexdigest(),
                                   "seconds": 1.0}]}
    served = client.get("/api/telephony/prompts/consultation", headers=bearer)
    assert served.status_code == 200 and served["Content-Type"] == "audio/wav" and served.content == data
    assert client.get("/api/telephony/prompts/accueil", headers=bearer).status_code == 404
    assert client.get("/api/telephony/prompts").status_code == 401
    supervisor = create_token("supervisor")
    assert client.get("/api/telephony/prompts", headers={"Authorization": f"Bearer {supervisor}"}).status_code == 403


def test_a_second_upload_for_the_same_announcement_says_to_replace_the_first(admin_client):
    upload(admin_client, "ferme", wav(1.0))
    r = upload(admin_client, "ferme", wav(2.0))
    assert "est déjà enregistrée : ouvrez-la dans la liste pour remplacer son fichier" in r.content.decode()
    prompt = RecordedPrompt.objects.get(name="ferme")
    f = io.BytesIO(wav(2.0))
    f.name = "ferme.wav"
    r = admin_client.post(reverse("admin:voice_recordedprompt_change", args=[prompt.pk]), {"name": "ferme", "fichier": f})
    assert r.status_code == 302 and RecordedPrompt.objects.get(name="ferme").seconds == 2.0


def test_the_adapter_downloads_the_recordings_and_plays_them_instead_of_the_spoken_ones(
        admin_client, live_server, tmp_path):
    """The voice edge's side, against a live Allô through the real API client (no Kamailio needed)."""
    from loopback import run_async

    from allo.voice.adapter import MENU_PROMPT, Adapter
    from allo.voice.api import TelephonyApi

    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "accueil.wav").write_bytes(wav(3.0))  # the spoken ones, as `allo voice config` makes them
    (folder / "ferme.wav").write_bytes(wav(3.0))
    adapter = Adapter(TelephonyApi(live_server.url, create_token("telephony", "edge")), ("127.0.0.1", 1),
                      ("127.0.0.1", 2), "allo.test", prompts=folder)
    adapter.ng = object()  # rtpengine present (nothing is played here)
    recorded = wav(1.5)
    upload(admin_client, "accueil", recorded)
    run_async(adapter.sync_prompts())
    assert (folder / "recorded" / "accueil.wav").read_bytes() == recorded
    assert adapter._prompt(MENU_PROMPT) == folder / "recorded" / "accueil.wav"
    assert adapter._prompt("ferme") == folder / "ferme.wav"  # not recorded: the spoken one

    RecordedPrompt.objects.filter(name="accueil").delete()  # deleted in Allô: the spoken one again
    run_async(adapter.sync_prompts())
    assert not (folder / "recorded" / "accueil.wav").exists()
    assert adapter._prompt(MENU_PROMPT) == folder / "accueil.wav"


def test_a_recording_saved_or_deleted_tells_the_voice_nodes_on_the_command_stream(
        admin_client, django_capture_on_commit_callbacks):
    """The `prompts` command (no call): every node loads the recordings again at once, not at its next
    check (30 s); journaled after the save commits, so a node away gets it when it comes back."""
    from allo.contact_centre.models import TelephonyCommand
    from allo.contact_centre.telephony import services

    def prompts_commands():
        return [c for c in TelephonyCommand.objects.order_by("seq").values_list("command", flat=True)
                if c["command"] == "prompts"]

    with django_capture_on_commit_callbacks(execute=True):
        assert upload(admin_client, "attente", wav(1.0)).status_code == 302
    assert prompts_commands() == [services.PROMPTS_CHANGED]
    with django_capture_on_commit_callbacks(execute=True):
        RecordedPrompt.objects.get(name="attente").delete()
    assert len(prompts_commands()) == 2
    # the stream a node reads from its position has it, with its seq
    assert [m["command"] for m in services.after(0)][-1] == "prompts"
