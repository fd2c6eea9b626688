"""The announcements callers hear (the welcome and its menu, then the wait), spoken in French by
espeak-ng (Debian's `espeak-ng`) when the configuration is written, under
`ALLO_DATA_DIR/voice/prompts/<name>.wav`; rtpengine plays them (ng `play media`) as early media.
Without espeak-ng there are none: no menu (callers go straight to the queue), and the adapter
acknowledges the router's `play` commands without playing anything.

Recorded prompts can replace them: a file of the same name is kept. A generated one is made again
when its text changed (`<name>.json` beside it keeps its text and the digest of the file made from it;
a file that is not that one was recorded, and is kept): « ferme »
says the line's opening hours as they are when the configuration is written (`allo voice config`,
every `allo voice up`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import subprocess
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
}


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


def generate(root: Path, texts: dict[str, str] | None = None) -> list[Path]:
    """Make each missing prompt, and each generated one whose text changed (`texts`: TEXTS and more,
    e.g. « ferme » with the hours); returns the prompts present."""
    folder = prompts_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    espeak = shutil.which("espeak-ng")
    for name, text in (TEXTS if texts is None else texts).items():
        path, made = folder / f"{name}.wav", folder / f"{name}.json"
        if path.exists():
            made_text, made_digest = _made(made)
            if made_digest != _digest(path) or made_text == text:
                continue  # recorded by an administrator (not the file made here), or up to date
        if espeak is None:
            logger.warning("espeak-ng is not installed: no « %s » announcement (Debian: espeak-ng)", name)
            continue
        tmp = path.with_suffix(".tmp.wav")
        subprocess.run([espeak, "-v", "fr", "-s", "150", "-w", str(tmp), text], check=True, capture_output=True,
                       timeout=60)
        tmp.replace(path)
        made.write_text(json.dumps({"text": text, "sha256": _digest(path)}, ensure_ascii=False))
    return sorted(folder.glob("*.wav"))
