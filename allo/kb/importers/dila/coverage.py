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


def measure(root: ET.Element, rendered: set[str], totals: dict[str, list[int]] | None = None,
            missing: Counter | None = None) -> dict[str, list[int]]:
    """Add to `totals` {kind: [words found, words in all]} for every content element of one fiche.

    One pass: an element's counts are its own text's plus its measured children's (a navigation,
    metadata or logic child is skipped with its subtree; the text after it still counts)."""
    totals = totals if totals is not None else {}

    def count(text: str | None) -> tuple[int, int]:
        if not text:
            return 0, 0
        ws = words(text)
        found = sum(1 for w in ws if w in rendered)
        if missing is not None and found < len(ws):
            missing.update(w for w in ws if w not in rendered)
        return found, len(ws)

    def walk(e: ET.Element) -> tuple[int, int]:
        found, total = count(e.text)
        for child in e:
            if local(child.tag) not in NOT_TEXT:
                f, t = walk(child)
                found, total = found + f, total + t
            f, t = count(child.tail)
            found, total = found + f, total + t
        if total:
            entry = totals.setdefault(local(e.tag), [0, 0])
            entry[0] += found
            entry[1] += total
        return found, total

    for child in root:  # the root's own attributes are metadata; its children are the fiche
        if local(child.tag) not in NOT_TEXT:
            walk(child)
    return totals


def unknown_kinds(root: ET.Element) -> set[str]:
    return {local(e.tag) for e in root.iter()} - set(ELEMENTS)
