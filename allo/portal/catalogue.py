"""What citizens may see of the knowledge base: published fiches only, public fields only.

Templates get `PublicFiche` objects, never the model: internal fields (level 2 destination, callers'
phrasings, keywords, correction proposals, review dates, notes) cannot leak through a template.

Public pages read this through Django's cache, keyed on a version bumped by the fiche, theme,
import and organisation signals (see apps.py); entries also expire after CACHE_SECONDS, which bounds
how stale another process's cache can be when several web workers run (or after an import run by
another process: it writes in bulk, without signals).

Two collections share the pages: the official service-public.fr fiches, listed in DILA's theme tree
(themes > sous-thèmes > dossiers > sous-dossiers, `Placement` in DILA's order), and the line's own
local fiches, listed under their top-level theme as « Fiches du 3939 ».
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.http import Http404
from django.urls import reverse

from allo.kb.models import Fiche, ImportRun, Placement, Theme
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


def _clear_pages() -> None:
    """Every process's cached pages, now and again once the change is committed: a page another
    worker rendered in between read the data of before the commit."""
    pagecache.clear()
    pending = transaction.get_connection().run_on_commit
    if not any(func is pagecache.clear for _, func, _ in pending):  # once per transaction (an import saves many)
        transaction.on_commit(pagecache.clear)


def kb_changed(**kwargs) -> None:
    cache.set(KB_VERSION_KEY, time.time_ns(), None)
    _clear_pages()


def line_changed(**kwargs) -> None:
    cache.set(LINE_VERSION_KEY, time.time_ns(), None)
    _clear_pages()


def cached(kind: str, version_key: str, key: str, compute, keep=None):
    """`compute()` once per version of the data (and at most CACHE_SECONDS old); a value `keep(value)`
    refuses is returned but not stored."""
    full_key = f"portal:{kind}:{_version(version_key)}:{key}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        if keep is None or keep(value):
            cache.set(full_key, value, CACHE_SECONDS)
    return value


class _Missing:
    """Cached marker of a fiche that is not published (a 404 is cached too)."""
PUBLIC_FIELDS = ["id", "theme_id", "theme__label", "subtheme", "subtheme_slug", "audience", "title",
                 "short_answer", "sections_html", "references", "published_at", "updated_at", "version",
                 "collection", "kind", "audiences", "paths", "dila_status", "modified_on"]
KIND_LABELS = dict(Fiche.Kind.choices)
STATUS_LABELS = dict(Fiche.DilaStatus.choices)


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
    official: bool = False
    kind: str = ""
    audiences: tuple[str, ...] = ()
    node: str = ""  # the slug of the tree node the fiche is listed under (its crumbs)
    dila_status: str = ""
    modified_on: dt.date | None = None  # DILA's own date of the text: the one shown

    @property
    def audience_label(self) -> str:
        return AUDIENCES.get(self.audience, "")

    @property
    def audience_labels(self) -> list[str]:
        return [AUDIENCES[a] for a in self.audiences or (self.audience,) if a in AUDIENCES]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, "") if self.official else ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.dila_status, "")


def _public(row: dict) -> PublicFiche:
    html = row["sections_html"] or {}
    official = row["collection"] == Fiche.Collection.OFFICIAL
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
        official=official, kind=row["kind"] or "", audiences=tuple(row["audiences"] or ()),
        node=listed_under(row["id"], row["paths"]) if official else "",
        dila_status=row["dila_status"] or "", modified_on=row["modified_on"],
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
    kind: str = ""
    dila_status: str = ""
    official: bool = False

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, "") if self.official else ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.dila_status, "")


LINK_FIELDS = ("id", "title", "theme_id", "subtheme", "short_answer", "kind", "dila_status", "collection")


def _link(row: tuple) -> FicheLink:
    *head, collection = row
    return FicheLink(*head, official=collection == Fiche.Collection.OFFICIAL)


def _links(queryset) -> list[FicheLink]:
    return [_link(row) for row in queryset.values_list(*LINK_FIELDS)]


def fiche_links(ids: list[str]) -> list[FicheLink]:
    found = {link.id: link for link in _links(Fiche.objects.published().filter(pk__in=ids))}
    return [found[i] for i in ids if i in found]


# --- The theme tree ------------------------------------------------------------------------------------

# A dossier lists its own fiches first (positions under 10000, with its sous-dossiers in between),
# then, apart, its questions-réponses, "comment faire si" and guided searches; 90000 is a fiche only
# its own file places there (see allo/kb/importers/dila/nodes.py).
PLACEMENT_GROUPS = ((10_000, "questions", "Questions ? Réponses !"), (20_000, "comment-faire-si", "Comment faire si…"),
                    (30_000, "recherches-guidees", "Recherches guidées"),
                    (90_000, "autres-fiches", "Autres fiches de ce dossier"))


@dataclass(frozen=True)
class Node:
    slug: str
    label: str
    kind: str
    audience: str
    parent: str  # "" for a top-level theme
    position: int
    introduction: str

    @property
    def url(self) -> str:
        # DILA shows a sous-dossier as a part of its dossier's page
        if self.kind == Theme.Kind.SUBDOSSIER and self.parent:
            return reverse("portal-theme", args=[self.parent]) + f"#{self.slug}"
        return reverse("portal-theme", args=[self.slug])

    @property
    def audience_label(self) -> str:
        return AUDIENCES.get(self.audience, "")


@dataclass(frozen=True)
class Tree:
    nodes: dict[str, Node]
    children: dict[str, tuple[str, ...]]  # parent slug ("" for the roots) -> children, in DILA's order
    by_dila: dict[str, str]  # DILA id -> slug
    populated: frozenset[str]  # nodes with a published fiche at or under them: the only ones shown

    def kids(self, slug: str) -> list[Node]:
        return [self.nodes[c] for c in self.children.get(slug, ()) if c in self.populated]

    def ancestors(self, slug: str) -> list[Node]:
        """The node and its parents, the top-level theme first."""
        chain: list[Node] = []
        while slug in self.nodes and len(chain) < 10:
            chain.append(self.nodes[slug])
            slug = self.nodes[slug].parent
        return chain[::-1]

    def crumbs(self, slug: str) -> list[tuple[str, str]]:
        return [(node.label, node.url) for node in self.ancestors(slug)]


def tree() -> Tree:
    """The active theme tree, with the nodes that lead to published fiches (cached per KB version)."""
    return cached("tree", KB_VERSION_KEY, "all", _tree)


def _tree() -> Tree:
    nodes: dict[str, Node] = {}
    children: dict[str, list[str]] = {}
    by_dila: dict[str, str] = {}
    rows = Theme.objects.filter(active=True).order_by("position", "label").values_list(
        "slug", "label", "kind", "audience", "parent_id", "position", "introduction", "dila_id")
    for slug, label, kind, audience, parent, position, intro, dila_id in rows:
        nodes[slug] = Node(slug, label, kind, audience, parent or "", position, intro)
        if dila_id:
            by_dila[dila_id] = slug
    for node in nodes.values():
        if not node.parent or node.parent in nodes:
            children.setdefault(node.parent, []).append(node.slug)
    listed = set(Placement.objects.filter(fiche__status=Fiche.Status.PUBLISHED).values_list("node_id", flat=True))
    listed |= set(Fiche.objects.published().local().values_list("theme_id", flat=True))
    populated: set[str] = set()
    for slug in listed:
        while slug in nodes and slug not in populated:
            populated.add(slug)
            slug = nodes[slug].parent
    return Tree(nodes, {k: tuple(v) for k, v in children.items()}, by_dila, frozenset(populated))


def audiences() -> list[tuple[str, str, list[Node]]]:
    """(audience, label, its top-level themes) for the home page, in service-public.fr's order."""
    t = tree()
    roots = t.kids("")
    return [(key, label, [n for n in roots if n.audience == key]) for key, label in AUDIENCES.items()
            if any(n.audience == key for n in roots)]


def themes() -> list[Node]:
    """The top-level themes shown (a published fiche under them)."""
    return tree().kids("")


def theme_labels() -> dict[str, str]:
    return {node.slug: node.label for node in themes()}


def theme_sections(slug: str) -> list[tuple[Node | None, list[Node]]]:
    """A theme's sous-thèmes with their dossiers, in DILA's order; dossiers placed directly under the
    theme come as a section without a sous-thème (None)."""
    t = tree()
    sections: list[tuple[Node | None, list[Node]]] = []
    for child in t.kids(slug):
        if child.kind == Theme.Kind.SUBTHEME:
            sections.append((child, t.kids(child.slug)))
        elif sections and sections[-1][0] is None:
            sections[-1][1].append(child)
        else:
            sections.append((None, [child]))
    return sections


@dataclass(frozen=True)
class DossierGroup:
    key: str  # the anchor of its heading
    title: str  # "" for the dossier's own fiches
    fiches: tuple[FicheLink, ...]
    node: Node | None = None  # a sous-dossier


def dossier_groups(slug: str) -> list[DossierGroup]:
    """What a dossier page lists, in DILA's order: its fiches and sous-dossiers, then apart its
    questions-réponses, "comment faire si", guided searches and other fiches (cached per KB version)."""
    return cached("dossier", KB_VERSION_KEY, slug, lambda: _dossier_groups(slug))


def _dossier_groups(slug: str) -> list[DossierGroup]:
    t = tree()
    subs = [n for n in t.kids(slug) if n.kind == Theme.Kind.SUBDOSSIER]
    rows = (Placement.objects.filter(node_id__in=[slug, *(n.slug for n in subs)], fiche__status=Fiche.Status.PUBLISHED)
            .order_by("position", "fiche__title")
            .values_list("node_id", "position", *(f"fiche__{f}" if f != "theme_id" else "fiche__theme_id"
                                                 for f in LINK_FIELDS)))
    own: list[tuple[int, FicheLink]] = []
    by_sub: dict[str, list[FicheLink]] = {n.slug: [] for n in subs}
    for node_id, position, *fields in rows:
        if node_id == slug:
            own.append((position, _link(tuple(fields))))
        else:
            by_sub[node_id].append(_link(tuple(fields)))
    # sous-dossiers and the dossier's own fiches share DILA's positions: interleave them
    items: list[tuple[int, int, object]] = [(pos, 1, link) for pos, link in own if pos < PLACEMENT_GROUPS[0][0]]
    items += [(n.position, 0, n) for n in subs if by_sub[n.slug]]
    groups: list[DossierGroup] = []
    run: list[FicheLink] = []
    for _, _, item in sorted(items, key=lambda i: (i[0], i[1])):
        if isinstance(item, FicheLink):
            run.append(item)
            continue
        if run:
            groups.append(DossierGroup(f"fiches-{len(groups) + 1}", "", tuple(run)))
            run = []
        groups.append(DossierGroup(item.slug, item.label, tuple(by_sub[item.slug]), item))
    if run:
        groups.append(DossierGroup(f"fiches-{len(groups) + 1}", "", tuple(run)))
    bounds = [g[0] for g in PLACEMENT_GROUPS] + [1 << 31]
    for (low, key, title), high in zip(PLACEMENT_GROUPS, bounds[1:], strict=True):
        links = tuple(link for pos, link in own if low <= pos < high)
        if links:
            groups.append(DossierGroup(key, title, links))
    return groups


def local_fiches(theme_slug: str) -> list[tuple[str, str, list[FicheLink]]]:
    """The line's own fiches under a theme, by their sub-theme: (label, slug, fiches)."""
    def load():
        groups: dict[tuple[str, str], list[FicheLink]] = {}
        rows = (Fiche.objects.published().local().filter(theme_id=theme_slug).order_by("subtheme", "title")
                .values_list("subtheme_slug", *LINK_FIELDS))
        for sub_slug, *fields in rows:
            link = _link(tuple(fields))
            groups.setdefault((link.subtheme or "Autres", sub_slug or "autres"), []).append(link)
        return [(label, sub, links) for (label, sub), links in groups.items()]
    return cached("local", KB_VERSION_KEY, theme_slug, load)


def local_subtheme(theme_slug: str, subtheme_slug: str) -> tuple[str, list[FicheLink]] | None:
    for label, slug, links in local_fiches(theme_slug):
        if slug == subtheme_slug:
            return label, links
    return None


def listed_under(fiche_id: str, paths: list | None) -> str:
    """The node whose crumbs a fiche shows: the dossier of its first path (DILA's fil d'Ariane), or
    the sous-dossier of that dossier listing it; else the first node that lists it."""
    t = tree()
    dossier = ""
    for path in paths or []:
        crumbs = path.get("crumbs") if isinstance(path, dict) else None
        if crumbs and crumbs[-1] and crumbs[-1][0] in t.by_dila:
            dossier = t.by_dila[crumbs[-1][0]]
            break
    placed = list(Placement.objects.filter(fiche_id=fiche_id).order_by("position").values_list("node_id", flat=True))
    for node in placed:
        if node in t.nodes and t.nodes[node].parent == dossier and t.nodes[node].kind == Theme.Kind.SUBDOSSIER:
            return node
    if dossier:
        return dossier
    return next((node for node in placed if node in t.nodes), "")


def siblings(fiche: PublicFiche, limit: int = 8) -> list[FicheLink]:
    """Other fiches of the node an official fiche is listed under, in DILA's order."""
    def load():
        rows = (Placement.objects.filter(node_id=fiche.node, fiche__status=Fiche.Status.PUBLISHED)
                .exclude(fiche_id=fiche.id).order_by("position")
                .values_list(*(f"fiche__{f}" for f in LINK_FIELDS))[:limit])
        return [_link(tuple(row)) for row in rows]
    return cached("siblings", KB_VERSION_KEY, fiche.id, load) if fiche.node else []


# --- DILA's own lists (the home pages of service-public.fr) and redirections ------------------------------


def dila_lists() -> dict[str, dict[str, list[FicheLink]]]:
    """Per audience: DILA's most-read fiches ("popular") and its "comment faire si" list ("howto"),
    from the last import's index files, published fiches only."""
    def load():
        run = ImportRun.last_done()
        lists = (run.report or {}).get("lists", {}) if run else {}
        out: dict[str, dict[str, list[FicheLink]]] = {}
        for audience, pages in lists.items():
            home = pages.get("accueil") or {}
            popular = [e.get("id") for key in ("fichesPratiques", "Fiche Question-réponse") for e in home.get(key, [])]
            howto = [e.get("id") for e in (pages.get("commentFaireSi") or {}).get("Liste - Comment faire si", [])]
            out[audience] = {"popular": fiche_links(popular), "howto": fiche_links(howto)}
        return out
    return cached("dila-lists", KB_VERSION_KEY, "all", load)


def popular_fiches(limit: int = 8) -> list[FicheLink]:
    """Most viewed here in the last 30 days, completed by DILA's most-read fiches, then by the
    editors' popularity rating (cached a while)."""
    return cached("popular", KB_VERSION_KEY, str(limit), lambda: _popular_fiches(limit))


def _popular_fiches(limit: int) -> list[FicheLink]:
    from allo.portal.analytics import popular_fiche_ids

    links = fiche_links(popular_fiche_ids(limit=limit))
    seen = {link.id for link in links}
    for link in dila_lists().get("particulier", {}).get("popular", []):
        if len(links) < limit and link.id not in seen:
            links.append(link)
            seen.add(link.id)
    if len(links) < limit:
        more = Fiche.objects.published().exclude(pk__in=seen).order_by("-popularity", "title")[: limit - len(links)]
        links += _links(more)
    return links


def related_fiches(fiche: PublicFiche, limit: int = 5) -> list[FicheLink]:
    if fiche.official:
        return siblings(fiche, limit)

    def load():
        return _links(Fiche.objects.published().filter(theme_id=fiche.theme, subtheme_slug=fiche.subtheme_slug)
                      .exclude(pk=fiche.id).order_by("-popularity", "title")[:limit])

    return cached("related", KB_VERSION_KEY, fiche.id, load)


def redirect_url(old_id: str) -> str | None:
    """Where an old DILA id now leads (a fiche, a dossier, or a resource's own address), following
    DILA's redirections; None when it leads nowhere we know."""
    from allo.kb import official

    known = official.targets()
    target, hops = old_id, 0
    while target in known.redirects and hops < 5:
        target, hops = known.redirects[target], hops + 1
    if hops == 0:
        return None
    if target in known.fiches:
        return reverse("portal-fiche", args=[target])
    if target in known.nodes:
        node = tree().nodes.get(known.nodes[target])
        return node.url if node else None
    return known.resources.get(target)


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
