"""Template tags for DILA's official text: `{% official_text fiche %}`, `{% dila_attribution %}`."""

from __future__ import annotations

from django import template

from allo.kb import official

register = template.Library()


@register.simple_tag
def official_text(fiche, answers=None, prefix="dila"):
    """The fiche's official text for staff pages (links to other fiches stay in the staff space)."""
    return official.render_official(fiche, answers=answers, prefix=prefix)


@register.inclusion_tag("kb/_dila_attribution.html")
def dila_attribution(fiche=None):
    """Where the text comes from, under which licence, and of when (every screen showing it says so)."""
    return {"attribution": official.attribution(), "fiche": fiche}
