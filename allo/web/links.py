"""Which addresses from content (fiche references, imports) may become links on a page."""

from __future__ import annotations

import re

LINK_SCHEMES = ("http", "https", "mailto", "tel")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
# browsers drop these before reading a scheme ("java\tscript:" is javascript:)
_IGNORED = re.compile(r"[\x00-\x20\x7f]")


def safe_link(url) -> str:
    """`url` when it is a web, mail or phone address (or a path of this site), else "": never a
    javascript:, data: or vbscript: link, however written."""
    if not isinstance(url, str):
        return ""
    text = url.strip()
    if not text:
        return ""
    match = _SCHEME.match(_IGNORED.sub("", text))
    if match is None:
        return text if text.startswith("/") and not text.startswith("//") else ""
    return text if match.group(1).lower() in LINK_SCHEMES else ""
