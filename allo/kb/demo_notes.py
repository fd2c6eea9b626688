"""Allô's notes on a few demo fiches (demo/notes.yaml), so the demo shows the layer above the text.

Seeded like the rest of the demo: notes are created for a fiche that has none, and never touched
again (an editor's or an expert's change survives every `allo init --demo`).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from allo.kb.models import Fiche, FicheNotes

NOTES_FILE = Path(__file__).resolve().parent / "demo" / "notes.yaml"
REASON = "Chargement du contenu de démonstration"


def load_demo_notes(path: Path = NOTES_FILE) -> int:
    """Notes created for the demo fiches that exist and have none; returns how many."""
    from allo.org.models import Centre

    created = 0
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        fiche = Fiche.objects.filter(pk=entry["fiche"]).first()
        if fiche is None or FicheNotes.objects.filter(fiche=fiche).exists():
            continue
        notes = FicheNotes(fiche=fiche, script=entry.get("script", "").strip(),
                           transfer_when=entry.get("transfer_when", "").strip(),
                           transfer_to=entry.get("transfer_to", ""), synonyms=entry.get("synonyms", []),
                           owner=Centre.objects.filter(code=entry.get("owner", "")).first(),
                           review_by=entry.get("review_by"))
        notes.save_with_reason(None, REASON)
        created += 1
    return created
