"""`date_fr`: Django's `date` filter with French typography — « 1er avril 2026 », not « 1 avril 2026 ».

Loaded as a template builtin (settings.TEMPLATES), so every template can use it without `{% load %}`.
"""

from __future__ import annotations

import re

from django import template
from django.template.defaultfilters import date

register = template.Library()

_MONTHS = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
_FIRST_DAY = re.compile(rf"(?<!\d)1 (?=(?:{_MONTHS})\b)")


@register.filter(expects_localtime=True)
def date_fr(value, arg: str = "j F Y") -> str:
    return _FIRST_DAY.sub("1er ", date(value, arg))
