"""`{{ url|safe_link }}`: the address when it may be a link (allo.web.links), else "" (show text)."""

from __future__ import annotations

from django import template

from allo.web.links import safe_link as _safe_link

register = template.Library()


@register.filter
def safe_link(url) -> str:
    return _safe_link(url)
