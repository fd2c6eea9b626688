"""Showing the official layer: DILA's text rendered for a page, its links, its attribution.

The pure renderer (allo/kb/importers/dila/render.py) needs three things from the database, all
kept per process and refreshed when an import or a fiche change happened (`stamp`):
- the labels of the situations conditions refer to, gathered from every fiche's questionnaires
  and guided searches (a condition often names a situation defined in another fiche);
- how to link another publication: a fiche we have (staff or public page), a node of the theme
  tree, or a DILA resource (its own address);
- the attribution: DILA's name, the licence and the date of the data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db.models import Max
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from allo.kb.importers.dila import render_html
from allo.kb.importers.dila.render import Renderer
from allo.kb.models import Fiche, ImportRun, OfficialText, Resource, Theme

LICENCE = "Licence Ouverte / Etalab 2.0"
LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
PUBLISHER = "Direction de l'information légale et administrative (DILA) — service-public.fr"

_lock = threading.Lock()
_cache: dict[str, object] = {}


def _stamp() -> tuple:
    fiches = Fiche.objects.aggregate(last=Max("updated_at"))["last"]
    run = ImportRun.objects.filter(status=ImportRun.Status.DONE).aggregate(last=Max("pk"))["last"]
    return (fiches, run)


def _cached(name: str, compute: Callable[[], object]):
    stamp = _stamp()
    with _lock:
        entry = _cache.get(name)
        if entry is not None and entry[0] == stamp:
            return entry[1]
    value = compute()
    with _lock:
        _cache[name] = (stamp, value)
    return value


def condition_labels() -> dict[str, list[str]]:
    """variable -> [label when true, label when false], from every official fiche."""
    def load():
        labels: dict[str, list[str]] = {}
        for defines in OfficialText.objects.values_list("document__defines", flat=True):
            for var, pair in (defines or {}).items():
                slot = labels.setdefault(var, ["", ""])
                slot[0] = slot[0] or pair[0]
                slot[1] = slot[1] or pair[1]
        return labels
    return _cached("labels", load)


@dataclass(frozen=True)
class Targets:
    fiches: frozenset[str]  # published fiche ids
    nodes: dict[str, str]  # DILA node id -> theme slug
    resources: dict[str, str]  # resource id -> its address
    redirects: dict[str, str]  # old DILA id -> new id


def targets() -> Targets:
    def load():
        from allo.kb.models import Redirect

        return Targets(
            frozenset(Fiche.objects.published().values_list("id", flat=True)),
            dict(Theme.objects.exclude(dila_id=None).filter(active=True).values_list("dila_id", "slug")),
            dict(Resource.objects.filter(active=True).exclude(url="").values_list("id", "url")),
            dict(Redirect.objects.values_list("old_id", "new_id")),
        )
    return _cached("targets", load)


def linker(fiche_url: Callable[[str], str]) -> Callable[[str, str], str | None]:
    """A link function for the renderer: another fiche (through `fiche_url`), a theme-tree node
    (its public page), or a resource (its own address); old ids follow DILA's redirections."""
    known = targets()

    def link(target: str, kind: str) -> str | None:
        target = known.redirects.get(target, target)
        if target in known.fiches:
            return fiche_url(target)
        if target in known.nodes:
            return reverse("portal-theme", args=[known.nodes[target]])
        return known.resources.get(target)
    return link


def staff_fiche_url(fiche_id: str) -> str:
    return reverse("kb-fiche", args=[fiche_id])


def public_fiche_url(fiche_id: str) -> str:
    return reverse("portal-fiche", args=[fiche_id])


def render_official(fiche: Fiche, *, fiche_url: Callable[[str], str] = staff_fiche_url,
                    answers: dict[str, bool] | None = None, prefix: str = "dila") -> SafeString:
    """The whole official text of a fiche as safe HTML (every string escaped by the renderer)."""
    text = getattr(fiche, "official", None)
    if text is None:
        return mark_safe("")
    return mark_safe(render_html(text.document, linker(fiche_url), labels=condition_labels(), answers=answers,
                                 prefix=prefix))


def renderer(fiche: Fiche, *, fiche_url: Callable[[str], str] = public_fiche_url,
             answers: dict[str, bool] | None = None, prefix: str = "dila") -> Renderer | None:
    """A renderer for a page that lays the fiche's parts out itself (Renderer.parts())."""
    text = getattr(fiche, "official", None)
    if text is None:
        return None
    return Renderer(text.document, linker(fiche_url), condition_labels(), answers, prefix)


@dataclass(frozen=True)
class Attribution:
    publisher: str
    licence: str
    licence_url: str
    data_date: date | None  # the date DILA produced the archive last imported

    @property
    def sentence(self) -> str:
        when = ""
        if self.data_date:
            from allo.kb.importers.dila.render import french_date

            when = f", données du {french_date(self.data_date)}"
        return f"Source : {self.publisher}, {self.licence}{when}."


def attribution() -> Attribution:
    def load():
        run = ImportRun.last_done()
        return Attribution(PUBLISHER, LICENCE, LICENCE_URL, run.archive_date if run else None)
    return _cached("attribution", load)
