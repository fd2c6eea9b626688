"""Word-level comparison of two fiche versions, rendered as escaped HTML with <del>/<ins>."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from allo.kb.sections import SECTIONS

_TOKENS = re.compile(r"\s+|[^\s]+")

FIELD_LABELS = {"title": "Titre", "short_answer": "Réponse courte", "keywords": "Mots-clés",
                "phrasings": "Formulations des usagers", "level2": "Destination de niveau 2",
                "review_by": "À revoir avant le", "status": "Statut", "theme": "Thème", "subtheme": "Sous-thème",
                "references": "Références"}


@dataclass(frozen=True)
class FieldDiff:
    label: str
    html: SafeString


def diff_text(old: str, new: str) -> SafeString:
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return mark_safe("".join(out))  # every piece of text above is escaped


def _as_text(value) -> str:
    if isinstance(value, list):
        return "\n".join(
            f"{item.get('title', '')} — {item.get('url', '')}" if isinstance(item, dict) else str(item) for item in value
        )
    return "" if value is None else str(value)


def diff_versions(old, new) -> list[FieldDiff]:
    """Changed fields between two historical records (or fiches), in reading order."""
    diffs = []
    for name, label in FIELD_LABELS.items():
        a, b = _as_text(getattr(old, name + "_id", None) or getattr(old, name, None)), _as_text(
            getattr(new, name + "_id", None) or getattr(new, name, None)
        )
        if a != b:
            diffs.append(FieldDiff(label, diff_text(a, b)))
    old_sections, new_sections = old.sections or {}, new.sections or {}
    for key, label in SECTIONS.items():
        a, b = old_sections.get(key, ""), new_sections.get(key, "")
        if a != b:
            diffs.append(FieldDiff(f"Rubrique « {label} »", diff_text(a, b)))
    return diffs
