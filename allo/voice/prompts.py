"""The announcements callers hear while they wait, spoken in French by espeak-ng (Debian's
`espeak-ng`) when the configuration is written, under `ALLO_DATA_DIR/voice/prompts/<name>.wav`;
rtpengine plays them (ng `play media`) as early media. Without espeak-ng there are none, and the
adapter acknowledges the router's `play` commands without playing anything.

Recorded prompts can replace them: a file of the same name is kept (only missing ones are made).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

logger = logging.getLogger(__name__)

# the router's `play` announcements (allo/contact_centre/router/notifier.py) that have a prompt
TEXTS = {
    "attente": "Bienvenue sur Allô Service Public. Tous nos conseillers sont en ligne. "
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
