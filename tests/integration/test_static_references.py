"""Templates: every static file one names exists (tests serve static files without the manifest,
so a wrong path would only show in production)."""

from __future__ import annotations

import re
from pathlib import Path

from django.contrib.staticfiles import finders

import allo

STATIC_TAG = re.compile(r"""{%\s*static\s+['"]([^'"]+)['"]\s*%}""")


def test_static_paths_in_templates_exist():
    root = Path(allo.__file__).parent
    missing = []
    templates = list(root.glob("**/templates/**/*.html"))
    assert templates
    for template in templates:
        for path in STATIC_TAG.findall(template.read_text(encoding="utf-8")):
            if finders.find(path) is None:
                missing.append(f"{template.relative_to(root)}: {path}")
    assert not missing, "\n".join(missing)


def test_no_template_comment_reaches_the_page():
    """Django's {# … #} comment holds on one line: one spread over two is printed in the page (the
    desk once showed its results' comment to operators). Read as Django's lexer reads it."""
    from django.template.base import Lexer, TokenType

    root = Path(allo.__file__).parent
    leaking = []
    for template in root.glob("**/templates/**/*.html"):
        for token in Lexer(template.read_text(encoding="utf-8")).tokenize():
            if token.token_type == TokenType.TEXT and "{#" in token.contents:
                leaking.append(f"{template.relative_to(root)}:{token.lineno}")
    assert not leaking, "\n".join(leaking)
