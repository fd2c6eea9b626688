"""Fiche text: a small Markdown subset rendered once on save, then sanitised with nh3.

Nothing an editor, an importer or a proposal writes is trusted as HTML: raw HTML in the source is
dropped by the sanitiser, links keep only http(s) and mailto, and every link gets rel=noopener.
"""

from __future__ import annotations

import re

import markdown
import nh3

from allo.kb.text import markdown_to_text  # the one Markdown -> text

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "a", "h3", "h4", "br", "table", "thead", "tbody", "tr",
                "th", "td", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}


def render(text: str) -> str:
    """Markdown source -> safe HTML."""
    html = markdown.markdown(text or "", extensions=["sane_lists"], output_format="html")
    return sanitise(html)


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def word_count(text: str) -> int:
    return len(re.findall(r"\w+(?:['’-]\w+)*", markdown_to_text(text)))
