"""What citizens may see of the knowledge base: published fiches only, public fields only.

Templates get `PublicFiche` objects, never the model: internal fields (level 2 destination, callers'
phrasings, keywords, correction proposals, review dates, notes) cannot leak through a template.

Public pages read this through Django's cache, keyed on a version bumped by the fiche, theme and
organisation signals (see apps.py); entries also expire after CACHE_SECONDS, which bounds how stale
another process's cache can be when several web workers run.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count
from django.http import Http404

from allo.kb.models import Fiche, Theme
from allo.kb.sections import AUDIENCES, SECTIONS
from allo.web import pagecache

ONLINE_SECTION = "service-en-ligne"
CACHE_SECONDS = 30
KB_VERSION_KEY = "portal:kb-version"
LINE_VERSION_KEY = "portal:line-version"


def _version(key: str) -> int:
    version = cache.get(key)
    if version is None:
        version = time.time_ns()
        cache.add(key, version, None)
        version = cache.get(key, version)
    return version


def kb_changed(**kwargs) -> None:
    cache.set(KB_VERSION_KEY, time.time_ns(), None)
    pagecache.clear()


def line_changed(**kwargs) -> None:
    cache.set(LINE_VERSION_KEY, time.time_ns(), None)
    pagecache.clear()


def cached(kind: str, version_key: str, key: str, compute):
    """`compute()` once per version of the data (and at most CACHE_SECONDS old)."""
    full_key = f"portal:{kind}:{_version(version_key)}:{key}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, CACHE_SECONDS)
    return value


class _Missing:
    """Cached marker of a fiche that is not published (a 404 is cached too)."""
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
    def load():
        row = Fiche.objects.published().filter(pk=fiche_id).values(*PUBLIC_FIELDS).first()
        return _Missing() if row is None else _public(row)

    fiche = cached("fiche", KB_VERSION_KEY, fiche_id, load)
    if isinstance(fiche, _Missing):
        raise Http404("Cette fiche n'existe pas ou n'est pas publiée.")
    return fiche


@dataclass(frozen=True)
class FicheLink:
    id: str
    title: str
    theme: str
    subtheme: str
    short_answer: str


def _links(queryset) -> list[FicheLink]:
    return [FicheLink(*row) for row in queryset.values_list("id", "title", "theme_id", "subtheme", "short_answer")]


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


def themes() -> list[ThemeEntry]:
    """Themes with at least one published fiche, with their sub-themes (cached per KB version)."""
    return cached("themes", KB_VERSION_KEY, "all", _themes)


def _themes() -> list[ThemeEntry]:
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for theme_id, label, slug, n in (Fiche.objects.published().values_list("theme_id", "subtheme", "subtheme_slug")
                                     .annotate(n=Count("id")).order_by()):
        counts.setdefault(theme_id, {})[(label or "Autres", slug or "autres")] = n
    return [
        ThemeEntry(theme.slug, theme.label, sum(counts[theme.slug].values()),
                   tuple(SubthemeEntry(label, slug, n) for (label, slug), n
                         in sorted(counts[theme.slug].items(), key=lambda item: item[0][0].lower())))
        for theme in Theme.objects.all() if theme.slug in counts
    ]


def theme_labels() -> dict[str, str]:
    return {entry.slug: entry.label for entry in themes()}


def theme_fiches(theme_slug: str, subtheme_slug: str | None = None) -> list[FicheLink]:
    queryset = Fiche.objects.published().filter(theme_id=theme_slug)
    if subtheme_slug is not None:
        queryset = queryset.filter(subtheme_slug="" if subtheme_slug == "autres" else subtheme_slug)
    return _links(queryset.order_by("subtheme", "title"))


def fiche_links(ids: list[str]) -> list[FicheLink]:
    found = {link.id: link for link in _links(Fiche.objects.published().filter(pk__in=ids))}
    return [found[i] for i in ids if i in found]


def popular_fiches(limit: int = 8) -> list[FicheLink]:
    """Most viewed in the last 30 days, completed by the editors' popularity rating (cached a while)."""
    return cached("popular", KB_VERSION_KEY, str(limit), lambda: _popular_fiches(limit))


def _popular_fiches(limit: int) -> list[FicheLink]:
    from allo.portal.analytics import popular_fiche_ids

    links = fiche_links(popular_fiche_ids(limit=limit))
    if len(links) < limit:
        seen = {link.id for link in links}
        more = Fiche.objects.published().exclude(pk__in=seen).order_by("-popularity", "title")[: limit - len(links)]
        links += _links(more)
    return links


def related_fiches(fiche: PublicFiche, limit: int = 5) -> list[FicheLink]:
    def load():
        return _links(Fiche.objects.published().filter(theme_id=fiche.theme, subtheme_slug=fiche.subtheme_slug)
                      .exclude(pk=fiche.id).order_by("-popularity", "title")[:limit])

    return cached("related", KB_VERSION_KEY, fiche.id, load)


# --- The line: number, hours, status -----------------------------------------------------------------


def _line_and_hours():
    from allo.org.hours import opening_hours_for
    from allo.org.models import ServiceLine

    line = ServiceLine.current()
    if line is None:
        return None, None
    return line, opening_hours_for(line.platform)


def line_status():
    """(line, status) for the public pages: the line and its hours cached, the status computed now."""
    from allo.org import hours as org_hours

    line, hours = cached("line", LINE_VERSION_KEY, "current", _line_and_hours)
    if line is None:
        return None, None
    return line, org_hours.status_from_hours(line.platform, hours)
