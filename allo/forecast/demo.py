"""The demo's shift templates, so that « Plan de la semaine » computes a plan from the start: they
cover the demo platform's hours (allo.org.demo: Monday to Friday 08:00-19:00, Saturday 09:00-14:00).
Seeded only while no template exists: an administrator's templates are never touched."""

from __future__ import annotations

import datetime as dt

from allo.forecast.models import ShiftTemplate

# name, start, end, weekdays (1 = Monday)
TEMPLATES = [
    ("Matin", dt.time(8), dt.time(14), "12345"),
    ("Après-midi", dt.time(13), dt.time(19), "12345"),
    ("Journée", dt.time(9), dt.time(17), "12345"),
    ("Renfort du matin", dt.time(9), dt.time(12), "12345"),
    ("Samedi", dt.time(9), dt.time(14), "6"),
]


def load_demo_shift_templates() -> dict:
    if ShiftTemplate.objects.exists():
        return {}
    ShiftTemplate.objects.bulk_create(ShiftTemplate(name=name, start=start, end=end, weekdays=days)
                                      for name, start, end, days in TEMPLATES)
    return {"modèles": len(TEMPLATES)}
