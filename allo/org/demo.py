"""Demo organisation: the line, the N1 platform, the N2 specialised centres and the informant network.

Figures follow the default simulation scenario (see allo/simulation/scenarios/default.toml).
Seeded, never imposed: a centre missing from the database is created with its opening hours and the
line is created when there is none; what exists is left as an administrator set it, so running
`allo init --demo` again never reverts an edited opening hour, a capacity or a deactivated centre.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from allo.org.models import Centre, OpeningPeriod, ServiceLine

WEEKDAYS_8_19 = {day: [("08:00", "19:00")] for day in range(5)}
LINE_HOURS = {**WEEKDAYS_8_19, 5: [("09:00", "14:00")]}
EXPERT_HOURS = {day: [("09:00", "12:30"), ("13:30", "17:30")] for day in range(5)}

# code, name, kind, domain, city, provider, capacity, hours, holiday subdivision
CENTRES = [
    ("n1-plateforme", "Plateforme d'accueil téléphonique", Centre.Kind.N1_PLATFORM, Centre.Domain.GENERAL,
     "Rennes", "Prestataire de centre de contacts", 60, LINE_HOURS, ""),
    ("n2-impots", "Centre d'information fiscale", Centre.Kind.SPECIALISED, Centre.Domain.TAX,
     "Lille", "", 12, WEEKDAYS_8_19, ""),
    ("n2-consommation", "Centre d'information des consommateurs", Centre.Kind.SPECIALISED,
     Centre.Domain.CONSUMER, "Paris", "", 6, EXPERT_HOURS, ""),
]
for city, subdivision in [("Bordeaux", ""), ("Lille", ""), ("Limoges", ""), ("Lyon", ""), ("Marseille", ""),
                          ("Metz", "57"), ("Paris", ""), ("Rennes", ""), ("Toulouse", "")]:
    CENTRES.append((
        f"cira-{city.lower()}", f"Centre interministériel de renseignements administratifs de {city}",
        Centre.Kind.INFORMANT, Centre.Domain.GENERALIST, city, "", 3, EXPERT_HOURS, subdivision,
    ))


def _time(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


@transaction.atomic
def load_demo_organisation() -> dict[str, int]:
    created = 0
    for code, name, kind, domain, city, provider, capacity, hours, subdivision in CENTRES:
        centre, is_new = Centre.objects.get_or_create(
            code=code,
            defaults={
                "name": name, "kind": kind, "domain": domain, "city": city, "provider": provider,
                "capacity": capacity, "holiday_subdivision": subdivision, "active": True,
            },
        )
        if not is_new:
            continue
        created += 1
        OpeningPeriod.objects.bulk_create(
            OpeningPeriod(centre=centre, weekday=day, opens=_time(opens), closes=_time(closes))
            for day, ranges in hours.items()
            for opens, closes in ranges
        )
    if not ServiceLine.objects.exists():
        ServiceLine.objects.create(
            phone_number="39 39", name="Allô Service Public", price_note="Coût d'un appel local depuis un poste fixe",
            platform=Centre.objects.get(code="n1-plateforme"),
        )
    return {"centres": len(CENTRES), "créés": created}
