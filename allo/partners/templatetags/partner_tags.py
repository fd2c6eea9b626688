"""`{% partner_card contact %}`: on a desk, the card of the partner administration that sent the call."""

from __future__ import annotations

from django import template

from allo.partners.services import partner_card as card_of

register = template.Library()


@register.inclusion_tag("partners/_desk_partner.html")
def partner_card(contact) -> dict:
    return {"card": card_of(getattr(contact, "partner_id", None))}
