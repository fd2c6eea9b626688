"""`{% partner_card contact %}`: on a desk, the card of the partner administration that sent the call;
`{% liaison_form contact %}`: the form that returns the call's case to a partner (fiche de liaison)."""

from __future__ import annotations

from django import template

from allo.partners.services import partner_card as card_of

register = template.Library()


@register.inclusion_tag("partners/_desk_partner.html")
def partner_card(contact) -> dict:
    return {"card": card_of(getattr(contact, "partner_id", None))}


@register.inclusion_tag("partners/_desk_liaison.html", takes_context=True)
def liaison_form(context, contact) -> dict:
    """`{% liaison_form contact %}`: the desk's « fiche de liaison » for the call (allo.partners.views)."""
    from allo.partners.views import desk_context

    return desk_context(context["request"], contact)
