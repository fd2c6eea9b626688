"""The surges where people work: `{% surges_for_supervisors %}` (wallboard, floor),
`{% surging_fiches %}` (editors' pages), `{% fiche_surge fiche %}` (a fiche's own pages) and
`{% questions_of_the_moment %}` (the portal's home)."""

from __future__ import annotations

from django import template

from allo.surges import services

register = template.Library()


@register.inclusion_tag("surges/_supervisor_panel.html", takes_context=True)
def surges_for_supervisors(context):
    return {"alerts": services.alerts(), "request": context.get("request")}


def _by_fiche(alerts: list[services.Alert]) -> list[dict]:
    """One entry per fiche, its surging signals together."""
    fiches: dict[str, dict] = {}
    for a in alerts:
        entry = fiches.setdefault(a.surge.key, {"id": a.surge.key, "label": a.label, "url": a.url, "summaries": []})
        entry["summaries"].append(a.summary)
    return list(fiches.values())


@register.inclusion_tag("surges/_editor_alert.html")
def surging_fiches():
    return {"fiches": _by_fiche(services.alerts(dim="fiche"))}


@register.inclusion_tag("surges/_fiche_alert.html")
def fiche_surge(fiche, link: bool = True):
    found = _by_fiche(services.fiche_alerts(fiche.pk))
    return {"entry": found[0] if found else None, "link": link}


@register.inclusion_tag("surges/_questions_of_the_moment.html")
def questions_of_the_moment(limit: int = 5):
    from allo.portal.catalogue import fiche_links

    return {"fiches": fiche_links(services.surging_fiche_ids(limit))}
