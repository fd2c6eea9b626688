"""Is every word of DILA's text in what we render? Measured per element kind.

For each element whose kind is CONTENT (elements.py), its words (descendants included, except the
text of navigation, metadata and logic elements) are looked for among the words of the fiche's
rendered page text. The import report and the coverage test use the same measure.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from xml.etree import ElementTree as ET

from .elements import ELEMENTS, NOT_TEXT
from .safexml import local

_WORD = re.compile(r"\w+", re.UNICODE)
_TAG = re.compile(r"<[^>]+>")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def html_words(fragment: str) -> set[str]:
    """The words a reader sees in an HTML fragment (tags dropped; attributes such as title count:
    a sigle's meaning is in its <abbr title>, read by screen readers and shown on hover)."""
    titles = " ".join(html.unescape(t) for t in re.findall(r'title="([^"]*)"', fragment))
    return set(words(html.unescape(_TAG.sub(" ", fragment)) + " " + titles))


def _own_words(elem: ET.Element) -> list[str]:
    out: list[str] = []

    def walk(e: ET.Element) -> None:
        if e.text:
            out.extend(words(e.text))
        for child in e:
            if local(child.tag) not in NOT_TEXT:
                walk(child)
            if child.tail:
                out.extend(words(child.tail))

    walk(elem)
    return out


def measure(root: ET.Element, rendered: set[str], totals: dict[str, list[int]] | None = None,
            missing: Counter | None = None) -> dict[str, list[int]]:
    """Add to `totals` {kind: [words found, words in all]} for every content element of one fiche."""
    totals = totals if totals is not None else {}

    def walk(e: ET.Element) -> None:
        kind = local(e.tag)
        if kind in NOT_TEXT:
            return
        ws = _own_words(e)
        if ws:
            found = sum(1 for w in ws if w in rendered)
            entry = totals.setdefault(kind, [0, 0])
            entry[0] += found
            entry[1] += len(ws)
            if missing is not None and found < len(ws):
                missing.update(w for w in ws if w not in rendered)
        for child in e:
            walk(child)

    for child in root:  # the root's own attributes are metadata; its children are the fiche
        walk(child)
    return totals


def unknown_kinds(root: ET.Element) -> set[str]:
    return {local(e.tag) for e in root.iter()} - set(ELEMENTS)
