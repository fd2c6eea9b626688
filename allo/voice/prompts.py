"""The announcements callers hear (the welcome and its menu, then the wait), spoken in French by
espeak-ng (Debian's `espeak-ng`) when the configuration is written, under
`ALLO_DATA_DIR/voice/prompts/<name>.wav`; rtpengine plays them (ng `play media`) as early media.
Without espeak-ng there are none: no menu (callers go straight to the queue), and the adapter
acknowledges the router's `play` commands without playing anything.

Recorded prompts can replace them: a file of the same name is kept (only missing ones are made).
"""

from __future__ import annotations

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


def prompts_dir(root: Path) -> Path:
    return root / "prompts"


def generate(root: Path) -> list[Path]:
    """Make each missing prompt; returns the prompts present."""
    folder = prompts_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    espeak = shutil.which("espeak-ng")
    for name, text in TEXTS.items():
        path = folder / f"{name}.wav"
        if path.exists():
            continue
        if espeak is None:
            logger.warning("espeak-ng is not installed: no « %s » announcement (Debian: espeak-ng)", name)
            continue
        tmp = path.with_suffix(".tmp.wav")
        subprocess.run([espeak, "-v", "fr", "-s", "150", "-w", str(tmp), text], check=True, capture_output=True,
                       timeout=60)
        tmp.replace(path)
    return sorted(folder.glob("*.wav"))
