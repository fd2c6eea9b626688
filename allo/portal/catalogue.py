"""What citizens may see of the knowledge base: published fiches only, public fields only.

Templates get `PublicFiche` objects, never the model: internal fields (level 2 destination, callers'
phrasings, keywords, correction proposals, review dates, notes) cannot leak through a template.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max
from django.http import Http404

from allo.kb.models import Fiche, Theme
from allo.kb.sections import AUDIENCES, SECTIONS

ONLINE_SECTION = "service-en-ligne"
PUBLIC_FIELDS = ["id", "theme_id", "theme__label", "subtheme", "subtheme_slug", "audience", "title",
                 "short_answer", "sections_html", "references", "published_at", "updated_at", "version"]


@dataclass(frozen=True)
class PublicFiche:
    id: str
    theme: str
    theme_label: str
    subtheme: str
    subtheme_slug: str
    audience: str
    title: str
    short_answer: str
    sections: tuple[tuple[str, str, str], ...]  # (key, French label, sanitised HTML), online services excluded
    online_services: str  # sanitised HTML of the "Service en ligne" section
    references: tuple[dict, ...]
    updated: dt.datetime | None
    version: int

    @property
    def audience_label(self) -> str:
        return AUDIENCES.get(self.audience, "")


def _public(row: dict) -> PublicFiche:
    html = row["sections_html"] or {}
    return PublicFiche(
        id=row["id"], theme=row["theme_id"], theme_label=row["theme__label"], subtheme=row["subtheme"],
        subtheme_slug=row["subtheme_slug"], audience=row["audience"], title=row["title"],
        short_answer=row["short_answer"],
        sections=tuple((key, label, html[key]) for key, label in SECTIONS.items()
                       if key != ONLINE_SECTION and html.get(key)),
        online_services=html.get(ONLINE_SECTION, ""),
        references=tuple(ref for ref in row["references"] or []
                         if isinstance(ref, dict) and str(ref.get("url", "")).startswith(("https://", "http://"))),
        updated=row["published_at"] or row["updated_at"], version=row["version"],
    )


def published_fiche(fiche_id: str) -> PublicFiche:
    row = Fiche.objects.published().filter(pk=fiche_id).values(*PUBLIC_FIELDS).first()
    if row is None:
        raise Http404("Cette fiche n'existe pas ou n'est pas publiée.")
    return _public(row)


@dataclass(frozen=True)
class FicheLink:
    id: str
    title: str
    theme: str
    subtheme: str
    short_answer: str


def _links(queryset) -> list[FicheLink]:
    return [FicheLink(*row) for row in queryset.values_list("id", "title", "theme_id", "subtheme", "short_answer")]


def kb_stamp() -> str:
    """Changes whenever the published knowledge base changes (one cheap query)."""
    agg = Fiche.objects.published().aggregate(n=Count("id"), last=Max("updated_at"))
    themes = Theme.objects.aggregate(n=Count("slug"))
    return f"{agg['n']}:{agg['last'].timestamp() if agg['last'] else 0}:{themes['n']}"


@dataclass(frozen=True)
class SubthemeEntry:
    label: str
    slug: str
    count: int


@dataclass(frozen=True)
class ThemeEntry:
    slug: str
    label: str
    count: int
    subthemes: tuple[SubthemeEntry, ...]


def themes(stamp: str | None = None) -> list[ThemeEntry]:
    """Themes with at least one published fiche, with their sub-themes (cached per KB version)."""
    key = f"portal:themes:{stamp or kb_stamp()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for theme_id, label, slug, n in (Fiche.objects.published().values_list("theme_id", "subtheme", "subtheme_slug")
                                     .annotate(n=Count("id")).order_by()):
        counts.setdefault(theme_id, {})[(label or "Autres", slug or "autres")] = n
    result = [
        ThemeEntry(theme.slug, theme.label, sum(counts[theme.slug].values()),
                   tuple(SubthemeEntry(label, slug, n) for (label, slug), n
                         in sorted(counts[theme.slug].items(), key=lambda item: item[0][0].lower())))
        for theme in Theme.objects.all() if theme.slug in counts
    ]
    cache.set(key, result, 3600)
    return result


def theme_labels(stamp: str | None = None) -> dict[str, str]:
    return {entry.slug: entry.label for entry in themes(stamp)}


def theme_fiches(theme_slug: str, subtheme_slug: str | None = None) -> list[FicheLink]:
    queryset = Fiche.objects.published().filter(theme_id=theme_slug)
    if subtheme_slug is not None:
        queryset = queryset.filter(subtheme_slug="" if subtheme_slug == "autres" else subtheme_slug)
    return _links(queryset.order_by("subtheme", "title"))


def fiche_links(ids: list[str]) -> list[FicheLink]:
    found = {link.id: link for link in _links(Fiche.objects.published().filter(pk__in=ids))}
    return [found[i] for i in ids if i in found]


def popular_fiches(limit: int = 8) -> list[FicheLink]:
    """Most viewed in the last 30 days, completed by the editors' popularity rating."""
    from allo.portal.analytics import popular_fiche_ids

    links = fiche_links(popular_fiche_ids(limit=limit))
    if len(links) < limit:
        seen = {link.id for link in links}
        more = Fiche.objects.published().exclude(pk__in=seen).order_by("-popularity", "title")[: limit - len(links)]
        links += _links(more)
    return links


def related_fiches(fiche: PublicFiche, limit: int = 5) -> list[FicheLink]:
    queryset = (Fiche.objects.published().filter(theme_id=fiche.theme, subtheme_slug=fiche.subtheme_slug)
                .exclude(pk=fiche.id).order_by("-popularity", "title")[:limit])
    return _links(queryset)
