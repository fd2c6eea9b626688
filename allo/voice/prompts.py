"""The announcements callers hear (the welcome and its menu, the wait, the callback proposal), spoken in French by
espeak-ng (Debian's `espeak-ng`) when the configuration is written, under
`ALLO_DATA_DIR/voice/prompts/<name>.wav`; rtpengine plays them (ng `play media`) as early media.
Without espeak-ng there are none: no menu (callers go straight to the queue), and the adapter
acknowledges the router's `play` commands without playing anything.

Recorded prompts can replace them: a file of the same name is kept. A generated one is made again
when its text changed (`<name>.json` beside it keeps its text and the digest of the file made from it;
a file that is not that one was recorded, and is kept): « ferme »
says the line's opening hours as they are when the configuration is written (`allo voice config`,
every `allo voice up`). A waiting caller hears its position and expected wait before « attente »
(sentences under prompts/fragments/, joined per caller into prompts/cache/: below).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

logger = logging.getLogger(__name__)

# « accueil »: the welcome and the voice menu, which the adapter plays to a caller who can press keys
# before the call reaches Allô; the key becomes the call's ivr_choice, whose meaning Allô defines
# (IVR_TOPICS in allo/contact_centre/services.py: 1 impôts, 2 consommation, 3 CIRA): keep both in step.
# The others are the router's `play` announcements (allo/contact_centre/router/notifier.py).
TEXTS = {
    "accueil": "Bienvenue sur Allô Service Public. "
               "Pour une question sur vos impôts, tapez 1. "
               "Pour une question de consommation, tapez 2. "
               "Pour toute autre démarche administrative, tapez 3.",
    "attente": "Tous nos conseillers sont en ligne. "
               "Merci de patienter, votre appel va être traité dans quelques instants.",
    # the caller on hold while its operator consults an N2 expert (warm transfer: the router's `hold`)
    "consultation": "Ne quittez pas. Votre conseiller consulte un expert pour répondre à votre question.",
    # the router's ProposeCallback (destination closed or saturated): the caller answers with a key, 1 yes,
    # 2 no (the adapter's CALLBACK_KEYS: keep both in step); no key is a no (never called back unasked)
    "proposition-rappel": "Nos conseillers ne peuvent pas vous répondre pour le moment. "
                          "Pour être rappelé gratuitement, tapez 1. "
                          "Pour mettre fin à l'appel, tapez 2.",
    # a callback accepted: the router sends nothing more (the call is scheduled), the edge says when
    # (callback_parts: « Un conseiller vous rappellera à ce numéro demain, vers 9 heures 15. »), then this,
    # and releases the caller
    "rappel-enregistre": "Votre demande de rappel est enregistrée. Au revoir.",
}


# What an administrator may replace by a recording (Allô's admin, « Annonces enregistrées »): the voice
# edge downloads it (GET /api/telephony/prompts) into prompts/recorded/, which it plays rather than the
# spoken one; deleted in Allô, the spoken one is played again.
RECORDABLE = {
    "accueil": "Accueil et menu (« tapez 1, 2, 3 »)",
    "attente": "Attente (après la position et l'attente estimée, dites par la voix de synthèse)",
    "consultation": "Mise en attente pendant une consultation",
    "proposition-rappel": "Proposition de rappel (« tapez 1 / 2 »)",
    "rappel-enregistre": "Rappel enregistré, au revoir (après le jour et l'heure du rappel, dits par la voix de "
                         "synthèse)",
    "ferme": "Ligne fermée, avec les horaires",
}
RECORDED_DIR = "recorded"
RECORDING_RATES = (8000, 16000, 22050, 44100, 48000)
RECORDING_MAX_S = 180.0
RECORDING_MAX_BYTES = 20 * 1024 * 1024


def check_recording(data: bytes) -> float:
    """The length in seconds of an uploaded prompt; ValueError (a French message) unless it is a WAV file
    rtpengine plays as it is: PCM 16 bits, mono, a usual rate, between half a second and 3 minutes."""
    import io
    import wave

    if len(data) > RECORDING_MAX_BYTES:
        raise ValueError(f"Fichier trop volumineux ({len(data) // 1024 // 1024} Mo) : 20 Mo au plus.")
    try:
        with wave.open(io.BytesIO(data)) as w:
            channels, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
    except (wave.Error, EOFError) as exc:
        raise ValueError("Ce fichier n'est pas un enregistrement WAV (PCM) lisible : exportez-le en WAV, "
                         "PCM 16 bits, mono.") from exc
    if channels != 1:
        raise ValueError(f"L'enregistrement a {channels} canaux : il doit être mono.")
    if width != 2:
        raise ValueError(f"L'enregistrement est en {8 * width} bits : il doit être en PCM 16 bits.")
    if rate not in RECORDING_RATES:
        raise ValueError(f"Fréquence de {rate} Hz non prise en charge : "
                         f"{', '.join(str(r) for r in RECORDING_RATES)} Hz.")
    seconds = frames / rate
    if not 0.5 <= seconds <= RECORDING_MAX_S:
        raise ValueError(f"L'enregistrement dure {seconds:.1f} s : entre une demi-seconde et "
                         f"{RECORDING_MAX_S / 60:.0f} minutes.")
    return seconds


WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def _spoken(t: dt.time) -> str:
    return f"{t.hour} heures" + (f" {t.minute}" if t.minute else "")


def closed_text(weekly: dict[int, list[tuple[dt.time, dt.time]]]) -> str:
    """« ferme »: the line is closed, and its hours as spoken. `weekly` maps a weekday (0 = Monday) to
    its (opens, closes) ranges, as the N1 platform's timetable (allo.org.hours); consecutive days with
    the same ranges are said once (« du lundi au vendredi, de 8 heures 30 à 18 heures »)."""
    groups: list[tuple[int, int, tuple]] = []
    for day in range(7):
        ranges = tuple(sorted(weekly.get(day, [])))
        if not ranges:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == ranges:
            groups[-1] = (groups[-1][0], day, ranges)
        else:
            groups.append((day, day, ranges))
    if not groups:
        return "Allô Service Public est actuellement fermé. Merci de rappeler ultérieurement."
    said = []
    for first, last, ranges in groups:
        days = f"le {WEEKDAYS[first]}" if first == last else f"du {WEEKDAYS[first]} au {WEEKDAYS[last]}"
        said.append(days + ", " + " et ".join(f"de {_spoken(a)} à {_spoken(b)}" for a, b in ranges))
    return ("Allô Service Public est actuellement fermé. Nos conseillers vous répondent "
            + " ; ".join(said) + ". Merci de rappeler à ces horaires.")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _made(record: Path) -> tuple[str, str]:
    """(text, digest) of the prompt generated last under this name; ("", "") if none."""
    try:
        data = json.loads(record.read_text())
        return str(data["text"]), str(data["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return "", ""


def prompts_dir(root: Path) -> Path:
    return root / "prompts"


def _made_again(folder: Path, texts: dict[str, str], espeak: str | None) -> None:
    """Speak each missing prompt of `folder`, and each generated one whose text changed."""
    for name, text in texts.items():
        path, made = folder / f"{name}.wav", folder / f"{name}.json"
        if path.exists():
            made_text, made_digest = _made(made)
            if made_digest != _digest(path) or made_text == text:
                continue  # recorded by an administrator (not the file made here), or up to date
        if espeak is None:
            logger.warning("espeak-ng is not installed: no « %s » announcement (Debian: espeak-ng)", name)
            continue
        tmp = path.with_suffix(f".{os.getpid()}.tmp.wav")  # nodes of one machine share the folder
        subprocess.run([espeak, "-v", "fr", "-s", "150", "-w", str(tmp), text], check=True, capture_output=True,
                       timeout=60)
        tmp.replace(path)
        made.write_text(json.dumps({"text": text, "sha256": _digest(path)}, ensure_ascii=False))


def generate(root: Path, texts: dict[str, str] | None = None) -> list[Path]:
    """Make each missing prompt, and each generated one whose text changed (`texts`: TEXTS and more,
    e.g. « ferme » with the hours), with the wait's sentences (FRAGMENTS) when « attente » is among
    them and the callback's day and time (CALLBACK_FRAGMENTS) with « rappel-enregistre »; returns the
    prompts present (the fragments, under fragments/, are not listed)."""
    folder = prompts_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    espeak = shutil.which("espeak-ng")
    texts = TEXTS if texts is None else texts
    _made_again(folder, texts, espeak)
    for prompt, fragments in ((WAIT_PROMPT, FRAGMENTS), (CALLBACK_CONFIRM_PROMPT, CALLBACK_FRAGMENTS)):
        if prompt in texts and espeak is not None:  # (without it: recorded fragments, if any, are used)
            (folder / FRAGMENTS_DIR).mkdir(exist_ok=True)
            _made_again(folder / FRAGMENTS_DIR, fragments, espeak)
    return sorted(folder.glob("*.wav"))


# ---------------------------------------------------------------- the wait: position and expected wait
#
# The router's `play attente` carries the caller's position (1 = next) and expected wait (seconds). The
# caller hears « Vous êtes le troisième appel en attente. Temps d'attente estimé : environ 4 minutes. »
# then « attente ». Each of those two sentences is spoken whole by espeak-ng at config time (22
# positions, 32 waits: 1 to 4 s of espeak once, measured idle and loaded), and the adapter joins the two
# and « attente » into one WAV per (position, wait) the first time a caller needs it (prompts/cache/,
# 2 to 13 ms measured, off the event loop; no espeak while callers wait). Whole sentences rather than words joined (« le » + « 3e » + …): espeak's
# intonation is a sentence's, and the join falls on a sentence's pause. One file per combination
# rather than three plays: rtpengine's `play media` takes one file and repeats it. The cache is bounded
# (22 × 32 combinations of about 12 s, 0.5 MB: 0.35 GB if every one is heard; a few in practice).

WAIT_PROMPT = "attente"
FRAGMENTS_DIR = "fragments"
CACHE_DIR = "cache"
POSITIONS_SAID = 21  # beyond: « plus de 20 appels avant le vôtre » (21 or more are before it)
MINUTES_SAID = 30  # beyond: « plus de 30 minutes »

_ORDINALS = ["", "premier", "deuxième", "troisième", "quatrième", "cinquième", "sixième", "septième", "huitième",
             "neuvième", "dixième", "onzième", "douzième", "treizième", "quatorzième", "quinzième", "seizième",
             "dix-septième", "dix-huitième", "dix-neuvième", "vingtième", "vingt-et-unième"]


def position_key(position: int) -> str:
    """The fragment that says a position: "1" … "21", "plus" beyond."""
    return str(max(1, position)) if position <= POSITIONS_SAID else "plus"


def wait_key(seconds: float) -> str:
    """The fragment that says an expected wait: "0" under a minute, "1" … "30" (the nearest minute),
    "plus" beyond 30 minutes."""
    if seconds != seconds or seconds > MINUTES_SAID * 60:  # (NaN: not a figure to say)
        return "plus"
    if seconds < 60:
        return "0"
    return str(int(seconds / 60 + 0.5))


def position_text(key: str) -> str:
    if key == "1":
        return "Vous êtes le prochain appel."
    if key == "plus":
        return f"Plus de {POSITIONS_SAID - 1} appels sont en attente avant le vôtre."
    return f"Vous êtes le {_ORDINALS[int(key)]} appel en attente."


def wait_text(key: str) -> str:
    if key == "0":
        said = "moins d'une minute"
    elif key == "plus":
        said = f"plus de {MINUTES_SAID} minutes"
    elif key in ("1", "21"):  # (une minute, vingt et une minutes: espeak says « un »)
        said = "environ " + ("une minute" if key == "1" else "vingt et une minutes")
    else:
        said = f"environ {key} minutes"
    return f"Temps d'attente estimé : {said}."


FRAGMENTS = ({f"position-{k}": position_text(k) for k in [*map(str, range(1, POSITIONS_SAID + 1)), "plus"]}
             | {f"wait-{k}": wait_text(k) for k in [*map(str, range(MINUTES_SAID + 1)), "plus"]})


def waiting_parts(position: int | None, expected_wait_s: float | None) -> list[str]:
    """What a waiting caller hears, in order: the fragments' names, then « attente » (alone when the
    router sent no position)."""
    if position is None:
        return [WAIT_PROMPT]
    parts = [f"{FRAGMENTS_DIR}/position-{position_key(position)}"]
    if expected_wait_s is not None:
        parts.append(f"{FRAGMENTS_DIR}/wait-{wait_key(max(0.0, float(expected_wait_s)))}")
    return [*parts, WAIT_PROMPT]


def waiting_text(position: int | None, expected_wait_s: float | None) -> str:
    """The French a waiting caller hears (what waiting_prompt's file says with the generated texts)."""
    return " ".join(FRAGMENTS[part.removeprefix(FRAGMENTS_DIR + "/")] if part != WAIT_PROMPT else TEXTS[WAIT_PROMPT]
                    for part in waiting_parts(position, expected_wait_s))


def concatenate(parts: list[Path], target: Path) -> None:
    """One WAV of `parts` one after the other, at the last part's rate, written atomically (another
    caller may be composing the same one, rtpengine may be reading it). A part of another rate (the
    spoken sentences at espeak-ng's 22,050 Hz before an « attente » an admin recorded at 8 or 48 kHz) is
    resampled (a polyphase filter: no aliasing); ValueError unless every part is mono 16-bit PCM."""
    frames, params = [], None
    for part in parts:
        with wave.open(str(part)) as audio:
            these = audio.getparams()
            if these[:2] != (1, 2):
                raise ValueError(f"{part.name}: {these.nchannels} channel(s), {8 * these.sampwidth} bits, "
                                 "not mono 16-bit")
            frames.append((these.framerate, audio.readframes(audio.getnframes())))
            params = these
    frames = [chunk if rate == params.framerate else _resampled(chunk, rate, params.framerate)
              for rate, chunk in frames]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, wave.open(out, "wb") as audio:
            audio.setnchannels(params.nchannels)
            audio.setsampwidth(params.sampwidth)
            audio.setframerate(params.framerate)
            for chunk in frames:
                audio.writeframes(chunk)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _resampled(chunk: bytes, rate: int, to: int) -> bytes:
    import math

    import numpy as np
    from scipy.signal import resample_poly

    g = math.gcd(rate, to)
    samples = resample_poly(np.frombuffer(chunk, dtype="<i2").astype(np.float64), to // g, rate // g)
    return np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes()


def waiting_prompt(folder: Path, position: int | None, expected_wait_s: float | None) -> Path | None:
    """The file a waiting caller hears (`folder`: the prompts): its position and expected wait then
    « attente » (the one an admin recorded in Allô, recorded/, else the spoken one), composed once into
    cache/ (again when one of its parts is newer); « attente » alone when the router sent no position or
    a part is missing or unreadable; None without it."""
    return _composed(folder, waiting_parts(position, expected_wait_s)[:-1], WAIT_PROMPT)


def _composed(folder: Path, fragments: list[str], prompt: str) -> Path | None:
    """`fragments` (names under `folder`) then `prompt` (recorded in Allô, else spoken) joined into one
    file of cache/, made once (again when a part is newer); `prompt` alone without fragments or when a
    part is missing or unreadable; None without `prompt`."""
    recorded = folder / RECORDED_DIR / f"{prompt}.wav"
    plain = recorded if recorded.exists() else folder / f"{prompt}.wav"
    if not plain.exists():
        return None
    if not fragments:
        return plain
    parts = [folder / f"{name}.wav" for name in fragments] + [plain]
    stem = "-".join([prompt + ("-enregistree" if plain == recorded else ""),
                     *(n.rsplit("/", 1)[-1] for n in fragments)])
    target = folder / CACHE_DIR / f"{stem}.wav"
    try:
        newest = max(part.stat().st_mtime_ns for part in parts)
        if not target.exists() or target.stat().st_mtime_ns < newest:
            concatenate(parts, target)
    except (OSError, ValueError, wave.Error, EOFError) as exc:
        logger.warning("« %s » is said alone (%s)", prompt, exc)
        return plain
    return target


# ---------------------------------------------------------------- the callback's day and time
#
# An accepted callback is confirmed with its day and time, rounded to the quarter hour: « Un conseiller
# vous rappellera à ce numéro demain, » « vers 9 heures 15. » then « rappel-enregistre ». The router's
# `play proposition-rappel` carries `at_local` (the platform's local time of the callback) and `today`
# (its local date when it proposed): the edge needs no time zone. 9 day sentences and 96 times, spoken at
# config time like the wait's; a callback a week or more ahead is confirmed without them.

CALLBACK_CONFIRM_PROMPT = "rappel-enregistre"
_DAYS_SAID = {0: "aujourd'hui", 1: "demain"}


def _callback_time_text(hour: int, minute: int) -> str:
    return f"vers {hour} heure{'s' if hour > 1 else ''}" + (f" {minute}" if minute else "") + "."


CALLBACK_FRAGMENTS = ({f"rappel-jour-{k}": f"Un conseiller vous rappellera à ce numéro {day},"
                       for k, day in [*_DAYS_SAID.items(), *((d, d) for d in WEEKDAYS)]}
                      | {f"rappel-heure-{h:02d}h{m:02d}": _callback_time_text(h, m)
                         for h in range(24) for m in (0, 15, 30, 45)})


def callback_parts(at_local: str | None, today: str | None) -> list[str]:
    """The fragments that say when the callback comes (before « rappel-enregistre »); none when the
    router did not say or the day is a week or more ahead (or past)."""
    try:
        at, day = dt.datetime.fromisoformat(str(at_local)), dt.date.fromisoformat(str(today))
    except ValueError:
        return []
    quarter = (at + dt.timedelta(minutes=7, seconds=30)).replace(second=0, microsecond=0)
    quarter -= dt.timedelta(minutes=quarter.minute % 15)
    ahead = (quarter.date() - day).days
    if not 0 <= ahead < 7:
        return []
    said = ahead if ahead in _DAYS_SAID else WEEKDAYS[quarter.weekday()]
    return [f"{FRAGMENTS_DIR}/rappel-jour-{said}", f"{FRAGMENTS_DIR}/rappel-heure-{quarter:%Hh%M}"]


def callback_text(at_local: str | None, today: str | None) -> str:
    """The French a caller whose callback is accepted hears."""
    return " ".join([*(CALLBACK_FRAGMENTS[p.removeprefix(FRAGMENTS_DIR + "/")] for p in callback_parts(at_local, today)),
                     TEXTS[CALLBACK_CONFIRM_PROMPT]])


def confirmation_prompt(folder: Path, at_local: str | None, today: str | None) -> Path | None:
    """The file an accepted callback's caller hears: its day and time, then « rappel-enregistre »."""
    return _composed(folder, callback_parts(at_local, today), CALLBACK_CONFIRM_PROMPT)
