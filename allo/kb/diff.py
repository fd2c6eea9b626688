"""Word-level comparison of two fiche versions, or of a fiche and a change waiting to be applied,
rendered as escaped HTML with <del>/<ins>."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from allo.kb.workflow import as_text, fiche_targets, notes_targets, read, read_from, target_label

_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class FieldDiff:
    label: str
    html: SafeString
    target: str = ""
    changed_since: bool = False  # the current text is no longer the one the change was written against


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


def diff_versions(old, new, *, notes: bool = False) -> list[FieldDiff]:
    """Changed targets between two historical records (or fiches, or notes), in reading order."""
    targets = notes_targets() if notes else ["status", *fiche_targets()]
    diffs = []
    for target in targets:
        a, b = as_text(target, read_from(old, target)), as_text(target, read_from(new, target))
        if a != b:
            diffs.append(FieldDiff(target_label(target), diff_text(a, b), target))
    return diffs


def diff_revision(fiche, revision) -> list[FieldDiff]:
    """What a change would do to the fiche as it is now (current -> proposed), target by target."""
    diffs = []
    for target, value in revision.changes.items():
        current = read(fiche, target)
        diffs.append(FieldDiff(target_label(target), diff_text(as_text(target, current), as_text(target, value)),
                               target, changed_since=revision.is_open and current != revision.base.get(target)))
    return diffs
