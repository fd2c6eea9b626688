"""`date_fr`: Django's `date` filter with French typography — « 1er avril 2026 », not « 1 avril 2026 »;
`when_fr`: a coming moment said relative to today (« demain à 08h00 »).

Loaded as a template builtin (settings.TEMPLATES), so every template can use them without `{% load %}`.
"""

from __future__ import annotations

import re

from django import template
from django.template.defaultfilters import date
from django.utils import timezone
from django.utils.safestring import mark_safe

register = template.Library()

_MONTHS = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
_FIRST_DAY = re.compile(rf"(?<!\d)1 (?=(?:{_MONTHS})\b)")


@register.filter(expects_localtime=True)
def date_fr(value, arg: str = "j F Y") -> str:
    return _FIRST_DAY.sub("1er ", date(value, arg))


@register.filter
def when_fr(moment) -> str:
    """A coming moment as people say it: « aujourd'hui à 08h00 », « demain à 08h00 », or
    « le lundi 4 mai à 08h00 » (the portal's and the desk's « réouverture … »)."""
    # the opening hours' moments are naive, already in the line's local time
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    days = (local.date() - timezone.localdate()).days
    at = date(local, r"H\hi")  # below, our words and a formatted date only: safe
    if days == 0:
        return mark_safe(f"aujourd'hui à {at}")
    if days == 1:
        return mark_safe(f"demain à {at}")
    return mark_safe("le " + date_fr(local, r"l j F à H\hi"))
