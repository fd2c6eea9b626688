"""What the rest of the line asks about partners: which partner a dialed number belongs to (the
telephony API), the partner's card (the desks), the list (the `allo partners` command, callgen)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True, slots=True)
class Origin:
    """A call taken for a partner: stored on the contact, its priority given to the routing engine."""

    partner_id: int
    priority: int


def normalise_number(raw: str) -> str:
    """A French number in E.164 (+33...), or ValidationError with a French message: the project's one
    phone-number rule (allo.portal.forms.parse_french_number)."""
    from allo.portal.forms import parse_french_number

    return parse_french_number(raw)


def origin_of(dialed: str) -> Origin | None:
    """The partner a call is taken for, from the number the caller reached (the API's `dialed`).

    None for the line's own numbers (3939), an unknown number, an inactive partner, and for a partner
    whose calls are accepted only on overflow when the number is not one of its overflow numbers:
    that call is answered as a direct call to the line (docs/partners.md)."""
    digits = sum(ch.isdigit() for ch in dialed or "")
    if digits < 9:  # the short number 3939 and the like: no partner, and no parsing on the hot path
        return None
    try:
        number = normalise_number(dialed)
    except ValidationError:
        return None
    from allo.partners.models import EntryNumber, Partner

    row = (EntryNumber.objects.filter(number=number, partner__active=True)
           .values_list("partner_id", "overflow", "partner__acceptance", "partner__priority").first())
    if row is None:
        return None
    partner_id, overflow, acceptance, priority = row
    if acceptance == Partner.Acceptance.OVERFLOW and not overflow:
        return None
    return Origin(partner_id, priority)


def partners_list() -> list[dict]:
    """[{"id", "name", "entry_numbers": [...]}] of every partner, by id (`allo partners list --json`)."""
    from allo.partners.models import Partner

    return [{"id": p.pk, "name": p.name, "entry_numbers": [e.number for e in p.entry_numbers.all()]}
            for p in Partner.objects.order_by("pk").prefetch_related("entry_numbers")]


def entry_numbers(active_only: bool = True) -> list[str]:
    from allo.partners.models import EntryNumber

    rows = EntryNumber.objects.order_by("number")
    if active_only:
        rows = rows.filter(partner__active=True)
    return list(rows.values_list("number", flat=True))


def partner_card(partner_id: int | None, now: dt.datetime | None = None) -> dict | None:
    """What the desk shows beside the knowledge base for a call a partner sent: name, kind, address,
    whether it is open now and its weekly hours, its published local fiches."""
    if partner_id is None:
        return None
    from allo.kb.models import Fiche
    from allo.org.hours import status_from_hours
    from allo.partners.models import Partner

    partner = (Partner.objects.filter(pk=partner_id)
               .prefetch_related("opening_periods", "closures").first())
    if partner is None:
        return None
    status = status_from_hours(partner, partner.opening_hours(), now)
    fiches = list(partner.fiches.filter(collection=Fiche.Collection.LOCAL, status=Fiche.Status.PUBLISHED)
                  .order_by("title").values("id", "title"))
    return {"partner": partner, "status": status, "fiches": fiches}
