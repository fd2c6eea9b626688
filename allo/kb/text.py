"""Fiche Markdown as plain text, written once (pure: no Django, and light: importing it does not
load the search package)."""

from __future__ import annotations

import re

_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_MD = re.compile(r"\*\*|__|^\s*(?:[-*]|\d+\.)\s+|^#+\s*|^\|[-| :]*\|?\s*$", re.MULTILINE)


def markdown_to_text(text: str) -> str:
    """The fiche Markdown subset -> plain text (bullets become lines; an HTML tag a source holds is
    dropped, a lone "<" of a sentence is kept): the one conversion, for the search index and its
    snippets (allo/kb/search/document.py) and the editors' word count (allo/kb/content.py)."""
    return _MD.sub("", _TAG.sub(" ", text or "")).strip()
