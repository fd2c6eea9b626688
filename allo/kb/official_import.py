"""Importing DILA's archives into the official layer, all or nothing, applying only what changed.

    summary = import_archives(["part.zip", "pro.zip"])

What it writes: official fiches (`Fiche` rows of the service-public collection and their
`OfficialText`), the theme tree below our top-level themes (`Theme` nodes) and the placements,
resources, redirections, and an `ImportRun`. What it never writes: Allô's own layer (FicheNotes,
revisions, proposals, DILA reports, synonyms) and the local fiches; a fiche's status set by an
editor is kept, except that the import publishes new fiches, archives the fiches DILA withdrew and
publishes them again if they come back.

A fiche whose source files did not change (same digest) is not parsed nor written: a daily re-import
of an unchanged archive reads the zip directories and the theme pages, and writes nothing but its
ImportRun.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from allo.kb.importers.dila import (
    PARSER_VERSION,
    Corpus,
    DilaFormatError,
    read_corpus,
    render_text,
    search_fields,
)
from allo.kb.models import Fiche, ImportRun, OfficialText, Placement, Redirect, Resource, Theme
from allo.kb.services import load_themes

logger = logging.getLogger(__name__)

SOURCE = "service-public.fr"
BATCH = 500
Progress = Callable[[str, int, int], None]
FICHE_FIELDS = ["theme", "subtheme", "subtheme_slug", "audience", "audiences", "title", "short_answer", "kind",
                "paths", "dila_status", "modified_on", "important_change_on", "status", "version", "published_at",
                "source", "collection", "is_demo"]
FROM_FICHES = {"contact", "definition", "sigle"}  # resources whose details come from the fiches citing them
TEXT_FIELDS = ["document", "text", "search", "digest", "files", "imported_at"]


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    reread: list[str] = field(default_factory=list)  # same DILA files, read again by a newer importer
    unchanged: int = 0
    withdrawn: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    nodes: int = 0
    resources: int = 0
    redirects: int = 0
    placements_changed: int = 0
    unknown: dict[str, int] = field(default_factory=dict)
    archive_date: str | None = None
    seconds: float = 0.0
    run_id: int | None = None

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.reread or self.withdrawn or self.restored
                    or self.placements_changed)

    def counts(self) -> dict:
        return {"created": len(self.created), "updated": len(self.updated), "reread": len(self.reread),
                "unchanged": self.unchanged,
                "withdrawn": len(self.withdrawn), "restored": len(self.restored), "nodes": self.nodes,
                "resources": self.resources, "redirects": self.redirects,
                "placements_changed": self.placements_changed}

    def __str__(self) -> str:
        parts = [f"{len(self.created)} fiche(s) créée(s)", f"{len(self.updated)} mise(s) à jour",
                 f"{self.unchanged} inchangée(s)", f"{len(self.withdrawn)} retirée(s) par la DILA"]
        if self.restored:
            parts.append(f"{len(self.restored)} republiée(s)")
        if self.reread:
            parts.append(f"{len(self.reread)} relue(s) par un importeur plus récent")
        text = ", ".join(parts) + (f" ; {self.nodes} nœuds de l'arborescence, {self.resources} ressources, "
                                   f"{self.redirects} redirections")
        if self.archive_date:
            text += f" ; données DILA du {date.fromisoformat(self.archive_date):%d/%m/%Y}"
        return text + f" ({self.seconds:.0f} s)"


def import_archives(paths: list[str | Path], *, progress: Progress | None = None, census: bool = False,
                    user=None) -> tuple[ImportSummary, Corpus]:
    """Import DILA archives (zips, folders or files) together. Raises DilaFormatError (nothing written)."""
    started = time.monotonic()
    run = ImportRun.objects.create(sources=[{"name": Path(p).name} for p in paths])
    try:
        # A withdrawn fiche that comes back is read again, even with the very same bytes.
        known = dict(OfficialText.objects.exclude(fiche__dila_status=Fiche.DilaStatus.WITHDRAWN)
                     .values_list("fiche_id", "digest"))
        corpus = read_corpus(paths, known, progress=progress, census=census)
        with transaction.atomic():
            summary = _apply(corpus, known, progress)
    except Exception as exc:
        run.status, run.finished_at = ImportRun.Status.FAILED, timezone.now()
        run.message = str(exc)[:10_000]
        run.save()
        raise
    summary.seconds = time.monotonic() - started
    summary.run_id = run.pk
    summary.unknown = dict(corpus.unknown)
    summary.archive_date = max((a.date for a in corpus.archives if a.date), default=None)
    run.status, run.finished_at = ImportRun.Status.DONE, timezone.now()
    run.sources = [{"name": Path(a.path).name, "site": a.site, "date": a.date, "sha256": a.sha256, "size": a.size,
                    "parser": PARSER_VERSION} for a in corpus.archives]
    run.archive_date = date.fromisoformat(summary.archive_date) if summary.archive_date else None
    run.counts = summary.counts()
    run.report = {"unknown": summary.unknown, "withdrawn": summary.withdrawn[:500], "created": summary.created[:500],
                  "updated": summary.updated[:500],
                  "lists": {site: lists for site, lists in corpus.lists.items()}}
    run.message = str(summary)
    run.save()
    logger.info("DILA import done: %s", summary)
    return summary, corpus


def _apply(corpus: Corpus, known: dict[str, str], progress: Progress | None) -> ImportSummary:
    summary = ImportSummary()
    load_themes()
    slugs = _write_nodes(corpus, summary)
    summary.resources = _write_resources(corpus)
    _write_fiches(corpus, known, slugs, summary, progress)
    summary.placements_changed = _write_placements(corpus, slugs)
    summary.redirects = _write_redirects(corpus)
    _withdraw_departed(corpus, summary)
    return summary


# --- the theme tree ---------------------------------------------------------------------------------

def _write_nodes(corpus: Corpus, summary: ImportSummary) -> dict[str, str]:
    """Theme rows for DILA's nodes; returns {DILA id: slug}. Top-level themes are ours (themes.yaml)."""
    existing = {t.dila_id: t for t in Theme.objects.exclude(dila_id=None)}
    slugs = {dila_id: t.slug for dila_id, t in existing.items()}
    taken = set(Theme.objects.values_list("slug", flat=True))
    tops = {slugify(t.label): t.slug for t in Theme.objects.filter(parent=None)}
    nodes = corpus.tree.nodes
    for node in nodes.values():
        if node["id"] in slugs:
            continue
        if node["kind"] == "theme" and slugify(node["title"]) in tops:
            # A site's theme we know by its label (an archive older or newer than themes.yaml).
            slugs[node["id"]] = tops[slugify(node["title"])]
            continue
        base = (node["id"].lower() if node["kind"] != "theme" else slugify(node["title"]) or node["id"].lower())[:60]
        slug = base if base not in taken else f"{base[:48]}-{node['id'].lower()}"[:60]
        taken.add(slug)
        slugs[node["id"]] = slug
    creates, updates = [], []
    for node in nodes.values():
        slug = slugs[node["id"]]
        parent = slugs.get(node["parent"]) if node["parent"] else None
        values = {"label": node["title"][:200] or node["id"], "position": min(node["position"], 32_000),
                  "parent_id": parent, "kind": node["kind"], "audience": node["audience"] or "",
                  "introduction": node["introduction"], "active": True}
        row = existing.get(node["id"])
        if row is None and node["kind"] == "theme" and slug in tops.values():
            continue  # one of ours, known by its label
        if row is None:
            creates.append(Theme(slug=slug, dila_id=node["id"], **values))
        elif node["kind"] == "theme":
            # Our top-level themes keep the label, order and audience of themes.yaml.
            if not row.active:
                row.active = True
                updates.append(row)
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            updates.append(row)
    Theme.objects.bulk_create(creates, batch_size=BATCH)
    Theme.objects.bulk_update(updates, ["label", "position", "parent", "kind", "audience", "introduction", "active"],
                              batch_size=BATCH)
    gone = (Theme.objects.exclude(dila_id=None).exclude(dila_id__in=list(nodes)).exclude(kind=Theme.Kind.THEME)
            .filter(audience__in=_sites(corpus)))
    gone.filter(active=True).update(active=False)
    summary.nodes = len(nodes)
    return slugs


# --- resources ----------------------------------------------------------------------------------------

def _write_resources(corpus: Corpus) -> int:
    import hashlib
    import json

    existing = {r.pk: r for r in Resource.objects.all()}
    creates, updates = [], []
    for rid, record in corpus.resources.items():
        values = {"kind": record["kind"], "title": (record["title"] or rid)[:400], "url": record["url"][:1000],
                  "cerfa": record["cerfa"][:40], "other_number": record.get("other_number", "")[:80],
                  "description": record["description"], "notices": record["notices"],
                  "audiences": record["audiences"],
                  "modified_on": date.fromisoformat(record["modified"]) if record.get("modified") else None,
                  "active": True}
        row = existing.get(rid)
        if row is not None and record["kind"] in FROM_FICHES:
            # Details read from fiches that did not change (so were not parsed) are kept as they are.
            for name in ("description", "url"):
                values[name] = values[name] or getattr(row, name)
        digest = hashlib.sha256(json.dumps({**values, "modified_on": str(values["modified_on"])},
                                           sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        if row is None:
            creates.append(Resource(id=rid, digest=digest, **values))
        elif row.digest != digest:
            for k, v in values.items():
                setattr(row, k, v)
            row.digest = digest
            updates.append(row)
    Resource.objects.bulk_create(creates, batch_size=BATCH)
    Resource.objects.bulk_update(updates, ["kind", "title", "url", "cerfa", "other_number", "description", "notices",
                                           "audiences", "modified_on", "active", "digest"], batch_size=BATCH)
    sites = _sites(corpus)
    # Definitions and sigles live inside fiches: an unchanged fiche is not read, so absence means nothing.
    departed = [r.pk for r in existing.values()
                if r.pk not in corpus.resources and r.active and set(r.audiences or []) <= sites
                and r.kind not in (Resource.Kind.DEFINITION, Resource.Kind.SIGLE)]
    Resource.objects.filter(pk__in=departed).update(active=False)
    return len(corpus.resources)


# --- fiches ------------------------------------------------------------------------------------------

def _theme_of(record: dict, slugs: dict[str, str], defaults: dict[str, str]) -> str:
    for path in record.get("paths") or []:
        crumbs = path.get("crumbs") or []
        if crumbs and crumbs[0][0] in slugs:
            return slugs[crumbs[0][0]]
    return defaults.get(record["audiences"][0], next(iter(defaults.values())))


def _as_json(value) -> str:
    """Stored JSON and a fresh record compare alike (tuples and lists)."""
    return json.dumps(value, sort_keys=True)


def _values(record: dict, slugs: dict[str, str], defaults: dict[str, str]) -> dict:
    paths = record.get("paths") or []
    crumbs = paths[0]["crumbs"] if paths else []
    subtheme = crumbs[-1][1] if len(crumbs) > 1 else ""
    return {
        "theme_id": _theme_of(record, slugs, defaults),
        "subtheme": subtheme[:120],
        "subtheme_slug": slugify(subtheme)[:120],
        "audience": record["audiences"][0],
        "audiences": record["audiences"],
        "title": record["title"][:200],
        "short_answer": record.get("description") or record["title"],
        "kind": record.get("kind", ""),
        "paths": paths,
        "dila_status": record.get("status", ""),
        "modified_on": date.fromisoformat(record["modified"]) if record.get("modified") else None,
        "important_change_on": date.fromisoformat(record["important"]) if record.get("important") else None,
    }


def _write_fiches(corpus: Corpus, known: dict[str, str], slugs: dict[str, str], summary: ImportSummary,
                  progress: Progress | None) -> None:
    defaults = {}
    for theme in Theme.objects.filter(kind=Theme.Kind.THEME, parent=None).order_by("position"):
        defaults.setdefault(theme.audience or "particulier", theme.slug)
    now = timezone.now()
    reason = _reason(corpus)
    # A full read (the report's) parses unchanged fiches too: they are still not written.
    ids = [i for i in corpus.fiches if known.get(i) != corpus.fiches[i]["digest"]]
    existing = Fiche.objects.in_bulk(ids)
    withdrawn = {i for i, f in existing.items() if f.dila_status == Fiche.DilaStatus.WITHDRAWN}
    stored_files = dict(OfficialText.objects.filter(fiche_id__in=list(existing)).values_list("fiche_id", "files"))
    reread_reason = f"Nouvelle lecture du texte DILA par Allô (importeur v{PARSER_VERSION})"
    stored = _stored_other_sites(corpus, ids)
    summary.unchanged = len(corpus.unchanged) + len(corpus.fiches) - len(ids)
    creates, updates, rereads, texts_new, texts_changed = [], [], [], [], []
    for fiche_id in ids:
        record = corpus.fiches[fiche_id]
        if fiche_id in stored:
            record = _keep_other_sites(record, stored[fiche_id])
            if record["digest"] == known.get(fiche_id):
                summary.unchanged += 1  # one site's archive said what the full import had said
                continue
        record["document"]["urls"] = record.get("urls", {})
        values = _values(record, slugs, defaults)
        text = OfficialText(fiche_id=fiche_id, document=record["document"], text=render_text(record["document"]),
                            search=search_fields(record), digest=record["digest"], files=record["files"],
                            imported_at=now)
        fiche = existing.get(fiche_id)
        if fiche is None:
            fiche = Fiche(id=fiche_id, status=Fiche.Status.PUBLISHED, version=1, published_at=now, source=SOURCE,
                          collection=Fiche.Collection.OFFICIAL, popularity=3, **values)
            creates.append(fiche)
            texts_new.append(text)
            summary.created.append(fiche_id)
            continue
        if fiche.collection != Fiche.Collection.OFFICIAL:
            raise DilaFormatError(f"{fiche_id} : cet identifiant est déjà celui d'une fiche locale d'Allô ; "
                                  "renommez la fiche locale avant d'importer")
        if fiche_id not in withdrawn and _as_json(stored_files.get(fiche_id)) == _as_json(record["files"]):
            # DILA's files are byte for byte the ones imported: only Allô's reading of them changed (a
            # newer importer). The text is rewritten; the fiche gets a version only if what it shows
            # changed, and never one that says DILA updated it.
            texts_changed.append(text)
            summary.reread.append(fiche_id)
            if all(getattr(fiche, k) == v for k, v in values.items()):
                continue
            for k, v in values.items():
                setattr(fiche, k, v)
            fiche.version += 1
            rereads.append(fiche)
            continue
        if fiche_id in withdrawn:
            # Back in DILA's archive: published again (an archive decided in Allô is kept).
            fiche.status = Fiche.Status.PUBLISHED
            summary.restored.append(fiche_id)
        for k, v in values.items():
            setattr(fiche, k, v)
        fiche.version += 1
        fiche.published_at = now
        fiche.source = SOURCE
        updates.append(fiche)
        texts_changed.append(text)
        summary.updated.append(fiche_id)
    if progress:
        progress("écriture", 0, len(creates) + len(updates) + len(rereads))
    for start in range(0, len(creates), BATCH):
        batch = creates[start:start + BATCH]
        Fiche.objects.bulk_create(batch)
        Fiche.history.bulk_history_create(batch, default_change_reason=reason, default_date=now)
        if progress:
            progress("écriture", start + len(batch), len(creates) + len(updates))
    OfficialText.objects.bulk_create(texts_new, batch_size=100)
    done = len(creates)
    for fiches, why in ((updates, reason), (rereads, reread_reason)):
        for start in range(0, len(fiches), BATCH):
            batch = fiches[start:start + BATCH]
            Fiche.objects.bulk_update(batch, FICHE_FIELDS, batch_size=BATCH)
            Fiche.history.bulk_history_create(batch, default_change_reason=why, default_date=now)
            done += len(batch)
            if progress:
                progress("écriture", done, len(creates) + len(updates) + len(rereads))
    for text in texts_changed:
        # One row at a time: documents are large, and an update must not load all of them at once.
        OfficialText.objects.update_or_create(fiche_id=text.fiche_id, defaults={
            name: getattr(text, name) for name in TEXT_FIELDS})
    # the search index sees a fiche's version in its updated_at: a re-read text may weigh differently
    Fiche.objects.filter(pk__in=[*(f.pk for f in updates), *summary.reread]).update(updated_at=now)


def _sites(corpus: Corpus) -> set[str]:
    return {a.site for a in corpus.archives}


def _stored_other_sites(corpus: Corpus, ids: list[str]) -> dict[str, OfficialText]:
    """Stored texts of fiches also published on a site whose archive is not in this import."""
    sites = _sites(corpus)
    out = {}
    for text in OfficialText.objects.filter(fiche_id__in=ids).only("fiche_id", "files"):
        if any(f.get("site") not in sites for f in text.files or []):
            out[text.fiche_id] = text
    return out


def _keep_other_sites(record: dict, stored: OfficialText) -> dict:
    """Importing one site's archive keeps what the other sites' archives said of a shared fiche:
    their audiences, paths and files, and their text when that site comes first (Particuliers)."""
    from allo.kb.importers.dila.archives import SITE_ORDER, digest_of

    sites = {f["site"] for f in record["files"]}
    others = [f for f in stored.files if f.get("site") not in sites]
    full = OfficialText.objects.get(pk=stored.pk)
    kept = dict(record)
    old_paths = [p for p in full.fiche.paths if p.get("audience") not in sites]
    kept["paths"] = sorted(record["paths"] + [p for p in old_paths if p not in record["paths"]],
                           key=lambda p: SITE_ORDER.get(p.get("audience"), 3))
    kept["audiences"] = sorted(set(record["audiences"]) | set(full.fiche.audiences), key=lambda a: SITE_ORDER.get(a, 3))
    kept["files"] = record["files"] + others
    kept["digest"] = digest_of([(f["site"], f["name"].rsplit("/", 1)[-1], f["crc"], f["size"]) for f in kept["files"]])
    if min(SITE_ORDER.get(f["site"], 3) for f in others) < min(SITE_ORDER.get(s, 3) for s in sites):
        kept["document"] = full.document
        kept["urls"] = {**(record.get("urls") or {}), **(full.document.get("urls") or {})}
    return kept


def _reason(corpus: Corpus) -> str:
    dates = sorted({a.date for a in corpus.archives if a.date})
    when = f" du {date.fromisoformat(dates[-1]):%d/%m/%Y}" if dates else ""
    return f"Mise à jour DILA{when} (service-public.fr)"


def _withdraw_departed(corpus: Corpus, summary: ImportSummary) -> None:
    """Fiches DILA no longer publishes are archived (Allô's notes follow a redirection, if any)."""
    from allo.kb.workflow import move_notes

    sites = _sites(corpus)
    candidates = (Fiche.objects.official().exclude(pk__in=list(corpus.digests))
                  .exclude(dila_status=Fiche.DilaStatus.WITHDRAWN))
    # Only what the imported sites published can have left them: importing Professionnels alone
    # withdraws nothing of Particuliers.
    files = dict(OfficialText.objects.filter(fiche__in=candidates).values_list("fiche_id", "files"))
    gone = [f for f in candidates if all(entry.get("site") in sites for entry in files.get(f.pk) or [{}])]
    if not gone:
        return
    redirects = dict(Redirect.objects.values_list("old_id", "new_id"))
    dates = sorted({a.date for a in corpus.archives if a.date})
    reason = "Retirée de service-public.fr" + (f" (archive DILA du {date.fromisoformat(dates[-1]):%d/%m/%Y})"
                                              if dates else "")
    for fiche in gone:
        fiche.status = Fiche.Status.ARCHIVED
        fiche.dila_status = Fiche.DilaStatus.WITHDRAWN
        target = redirects.get(fiche.pk)
        fiche.save_with_reason(None, reason + (f" : remplacée par {target}" if target else ""))
        summary.withdrawn.append(fiche.pk)
        if target and Fiche.objects.filter(pk=target).exists():
            move_notes(fiche.pk, target)
    logger.info("DILA import: %d fiches withdrawn", len(summary.withdrawn))


# --- placements and redirections ---------------------------------------------------------------------

def _write_placements(corpus: Corpus, slugs: dict[str, str]) -> int:
    official = set(corpus.digests)
    wanted = {(slugs[node], fiche): pos for (node, fiche), pos in corpus.tree.placements.items()
              if node in slugs and fiche in official}
    current = {(p.node_id, p.fiche_id): p for p in Placement.objects.filter(
        fiche__collection=Fiche.Collection.OFFICIAL, node__audience__in=_sites(corpus))}
    stale = [p.pk for key, p in current.items() if key not in wanted]
    creates = [Placement(node_id=n, fiche_id=f, position=pos) for (n, f), pos in wanted.items() if (n, f) not in current]
    moved = []
    for key, pos in wanted.items():
        row = current.get(key)
        if row is not None and row.position != pos:
            row.position = pos
            moved.append(row)
    Placement.objects.filter(pk__in=stale).delete()
    Placement.objects.bulk_create(creates, batch_size=BATCH)
    Placement.objects.bulk_update(moved, ["position"], batch_size=BATCH)
    return len(stale) + len(creates) + len(moved)


def _write_redirects(corpus: Corpus) -> int:
    """Redirections are added or updated, never dropped: an old id stays an old id."""
    current = {r.old_id: r for r in Redirect.objects.all()}
    wanted = {r["old"]: r for r in corpus.redirects}
    changed = [old for old, r in wanted.items() if old not in current or current[old].new_id != r["new"]
               or str(current[old].date or "") != str(r.get("date") or "")]
    Redirect.objects.filter(pk__in=changed).delete()
    Redirect.objects.bulk_create([
        Redirect(old_id=old, new_id=wanted[old]["new"], kind=wanted[old]["kind"][:80],
                 date=date.fromisoformat(wanted[old]["date"]) if wanted[old].get("date") else None)
        for old in changed], batch_size=BATCH)
    return len(wanted)


# --- the demo ----------------------------------------------------------------------------------------

SHIPPED_ARCHIVES = Path(__file__).resolve().parent / "dila_data"


def demo_archives() -> list[Path]:
    """The archives `allo init --demo` imports: ALLO_DEMO_ARCHIVES (comma-separated paths; empty for
    none), else the ones shipped in allo/kb/dila_data/."""
    import os

    raw = os.environ.get("ALLO_DEMO_ARCHIVES")
    if raw is not None:
        return [Path(p.strip()) for p in raw.split(",") if p.strip()]
    return sorted(SHIPPED_ARCHIVES.glob("*.zip"))


def load_demo_archives(progress: Progress | None = None) -> str:
    """The official fiches of the demo: imported once; run again, only what changed (nothing,
    unless the shipped archives were replaced) is applied, and Allô's own layer is never touched."""
    paths = demo_archives()
    if not paths:
        return "aucune archive (ALLO_DEMO_ARCHIVES est vide)"
    from allo.kb.importers.dila.archives import _sha256

    wanted = sorted(_sha256(p) for p in paths)
    last = ImportRun.last_done()
    # the same archives read by the same parser: nothing to do (a newer parser re-reads them: its fiches may differ)
    if last is not None and sorted(s.get("sha256", "") for s in last.sources) == wanted and all(
            s.get("parser") == PARSER_VERSION for s in last.sources):
        official = Fiche.objects.official().published().count()
        when = f", données DILA du {last.archive_date:%d/%m/%Y}" if last.archive_date else ""
        return (f"déjà importées le {timezone.localtime(last.started_at):%d/%m/%Y} ({official} fiches publiées{when}) ; "
                f"index de recherche {refresh_search_index()}")
    summary, _ = import_archives(paths, progress=progress)
    return f"{summary} ; index de recherche {refresh_search_index()}"


def refresh_search_index() -> str:
    """Build and save the search index now, so the web processes load it instead of building it
    (without this, the first process to notice the import starts the build and the previous index
    answers meanwhile)."""
    from allo.kb.search_service import build_index

    started = time.monotonic()
    build_index()  # returns at once when the saved index already holds exactly the published fiches
    seconds = time.monotonic() - started
    return "à jour" if seconds < 1 else f"reconstruit ({seconds:.0f} s)"
