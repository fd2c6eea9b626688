"""The desk's knowledge-base panel: search hits, and a fiche opened inside the desk.

During a call the operator must never leave the desk: the call context and the half-filled wrap-up
form live there. So a hit opens the fiche in the panel (htmx swaps #zone-kb only), DILA's links to
another fiche or dossier open in the panel too, the questionnaire filters the text in place, and
"Retour aux résultats" brings the hits back. Every panel URL also answers a plain GET with the whole
desk and the panel open (no JavaScript, or a reload after the router pushed a state change: htmx
replaces the address with the panel's own).
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse

from allo.accounts.access import roles
from allo.accounts.roles import Role
from allo.contact_centre.router import config as cfg
from allo.kb.importers.dila.render import SECTION_TITLES
from allo.kb.models import Fiche, Theme
from allo.kb.sections import AUDIENCES
from allo.portal import catalogue, official_text

MIN_TYPED = 3  # characters typed before the panel searches as the operator types
HITS = 10
DESK = official_text.Space(
    "desk", lambda fiche_id: reverse("desk-fiche", args=[fiche_id]),
    lambda slug: reverse("desk-node", args=[slug]),
    level=3,  # the panel's title is an h2: the fiche's sections are h3
    prefix="panneau",
)


def _level(user) -> int:
    profile = cfg.agent_profile(user)
    return profile["level"] if profile else 1


def _answer(request, template: str, kb: dict, status: int = 200):
    """The panel alone for htmx (the address becomes the panel's own, so a reload keeps it open),
    or the whole desk with the panel open."""
    if request.htmx:
        response = render(request, template, {"kb": kb})
        response["HX-Replace-Url"] = request.get_full_path()
        return response
    from allo.contact_centre.desks.views import desk

    response = desk(request, _level(request.user), kb=kb)
    response.status_code = status
    return response


# -- search ----------------------------------------------------------------------------------------------


def search_context(query: str, back: bool = False) -> dict:
    from allo.kb.search import QueryError
    from allo.kb.search_service import search_index

    kb = {"mode": "results", "query": query, "back": back}
    if not query.strip():
        return kb
    if len(query.strip()) < MIN_TYPED:
        return kb | {"too_short": True}
    try:
        response = search_index().search(query, limit=HITS)
    except QueryError as exc:
        return kb | {"error": str(exc)}
    facts = {row[0]: row[1:] for row in Fiche.objects.filter(pk__in=[h.id for h in response.hits])
             .values_list("id", "collection", "kind", "dila_status")}
    labels = catalogue.theme_labels() or dict(Theme.objects.filter(parent=None).values_list("slug", "label"))
    hits = []
    for hit in response.hits:
        collection, kind, status = facts.get(hit.id, ("", "", ""))
        hits.append({"hit": hit, "theme": labels.get(hit.theme, hit.theme),
                     "official": collection == Fiche.Collection.OFFICIAL,
                     "kind": catalogue.KIND_LABELS.get(kind, "") if collection == Fiche.Collection.OFFICIAL else "",
                     "status": catalogue.STATUS_LABELS.get(status, "")})
    return kb | {"response": response, "hits": hits, "any_official": any(h["official"] for h in hits)}


@roles(Role.OPERATOR, Role.EXPERT)
def search(request):
    query = request.GET.get("q", "")[:500]
    return _answer(request, "contact_centre/_desk_results.html", search_context(query, "retour" in request.GET))


# -- a fiche -----------------------------------------------------------------------------------------------


def fiche_context(request, fiche_id: str) -> dict | None:
    fiche = Fiche.objects.published().select_related("theme", "notes", "notes__owner").filter(pk=fiche_id).first()
    if fiche is None:
        return None
    url = reverse("desk-fiche", args=[fiche.id])
    kb = {"mode": "fiche", "fiche": fiche, "query": request.GET.get("q", "")[:500], "fiche_url": url,
          "audiences": [AUDIENCES[a] for a in fiche.audiences or [fiche.audience] if a in AUDIENCES]}
    if not fiche.is_official:
        return kb
    source = official_text.Source(fiche.id)
    shape = official_text.shape(fiche.id, source)
    where = official_text.situation(request.GET, shape)
    parts = official_text.parts(fiche.id, DESK, where, source)
    kb |= {"parts": parts, "situation": where,
           "sections": [(key, title, parts[key]) for key, title in SECTION_TITLES if parts.get(key)]}
    if shape and shape.guided.get("items"):
        kb["walk"] = official_text.walk(fiche.id, shape, request.GET.get("chemin", ""), DESK, url,
                                        anchor="#panneau-parcours")
        kb["walking"] = "chemin" in request.GET
    tree = catalogue.tree()
    listed = catalogue.listed_under(fiche.id, fiche.paths)
    kb["crumbs"] = [(n.label, reverse("desk-node", args=[n.slug])) for n in tree.ancestors(listed)] if listed else []
    return kb


@roles(Role.OPERATOR, Role.EXPERT)
def fiche(request, fiche_id: str):
    kb = fiche_context(request, fiche_id)
    if kb is None:
        return _answer(request, "contact_centre/_desk_missing.html", {"mode": "missing", "fiche_id": fiche_id},
                       status=200 if request.htmx else 404)
    return _answer(request, "contact_centre/_desk_fiche.html", kb)


# -- a node of the theme tree (a dossier DILA's text links to) --------------------------------------------------


@roles(Role.OPERATOR, Role.EXPERT)
def node(request, slug: str):
    tree = catalogue.tree()
    found = tree.nodes.get(slug)
    if found is not None and found.kind == Theme.Kind.SUBDOSSIER:
        found = tree.nodes.get(found.parent)
    if found is None or found.slug not in tree.populated:
        return _answer(request, "contact_centre/_desk_missing.html", {"mode": "missing", "fiche_id": slug},
                       status=200 if request.htmx else 404)
    kb = {"mode": "node", "node": found, "query": request.GET.get("q", "")[:500],
          "crumbs": [(n.label, reverse("desk-node", args=[n.slug])) for n in tree.ancestors(found.slug)[:-1]]}
    if found.kind in (Theme.Kind.THEME, Theme.Kind.SUBTHEME):
        kb["children"] = tree.kids(found.slug)
        if found.kind == Theme.Kind.THEME:
            kb["local"] = catalogue.local_fiches(found.slug)
    else:
        kb["groups"] = catalogue.dossier_groups(found.slug)
    return _answer(request, "contact_centre/_desk_node.html", kb)
