"""Knowledge-base use cases: load, import, export, publish, search.

Records are plain dicts in the fiche file format (allo/kb/demo/README.md); the demo YAML, the
project's JSON export and the service-public.fr importer all produce them, and `import_records`
is the one path that writes them, all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from allo.kb.models import Fiche, Synonym, Theme
from allo.kb.sections import SECTIONS

DEMO_DIR = Path(__file__).resolve().parent / "demo"
CONTENT_FIELDS = ["theme", "subtheme", "audience", "title", "short_answer", "sections", "keywords", "phrasings",
                  "level2", "references", "review_by", "popularity"]
EXPORT_FORMAT = "allo-kb/1"


class ImportFailed(Exception):
    """Nothing was written; the message names each faulty record and field, in French."""


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{len(self.created)} créée(s), {len(self.updated)} mise(s) à jour, {len(self.unchanged)} inchangée(s)"


def load_themes(path: Path | None = None) -> int:
    """The top-level themes (themes.yaml): created when missing, their DILA tie and order kept up to date."""
    data = yaml.safe_load((path or DEMO_DIR / "themes.yaml").read_text(encoding="utf-8"))
    for position, entry in enumerate(data["themes"]):
        Theme.objects.update_or_create(slug=entry["slug"], defaults={
            "label": entry["label"], "position": position, "dila_id": entry.get("dila"),
            "audience": entry.get("audience", ""), "kind": Theme.Kind.THEME, "parent": None})
    return len(data["themes"])


def fiche_to_record(fiche: Fiche, *, with_state: bool = True) -> dict:
    # the theme's id, never the object: reading `fiche.theme` costs a query per fiche (3,539 at an index build)
    record = {"id": fiche.id, **{name: fiche.theme_id if name == "theme" else getattr(fiche, name)
                                 for name in CONTENT_FIELDS}}
    record["review_by"] = fiche.review_by.isoformat() if fiche.review_by else None
    if with_state:
        record.update(status=fiche.status, version=fiche.version, source=fiche.source, is_demo=fiche.is_demo)
    return record


def _integer(record: dict, name: str, default: int, where: str) -> int:
    value = record.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ImportFailed(f"{where} : « {name} » doit être un nombre entier.")
    try:
        return int(value)
    except ValueError:
        raise ImportFailed(f"{where} : « {name} » doit être un nombre entier ({value}).") from None


def _normalise(record: dict, source_name: str) -> dict:
    """A record's content fields, typed; raises ImportFailed naming the record and field."""
    if not isinstance(record, dict):
        raise ImportFailed(f"{source_name} : chaque fiche doit être un objet JSON.")
    if not record.get("id"):
        raise ImportFailed(f"{source_name} : champ « id » manquant.")
    if not isinstance(record["id"], str):
        raise ImportFailed(f"{source_name} : « id » doit être une chaîne de caractères.")
    where = f"{source_name} ({record['id']})"
    missing = [name for name in ("theme", "title", "short_answer") if not record.get(name)]
    if missing:
        raise ImportFailed(f"{where} : champ(s) manquant(s) : {', '.join(missing)}.")
    for name in ("theme", "subtheme", "audience", "title", "short_answer", "level2"):
        if record.get(name) is not None and not isinstance(record[name], str):
            raise ImportFailed(f"{where} : « {name} » doit être une chaîne de caractères.")
    sections = record.get("sections") or {}
    if not isinstance(sections, dict) or not all(isinstance(t, str) or t is None for t in sections.values()):
        raise ImportFailed(f"{where} : « sections » doit associer une rubrique à un texte.")
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise ImportFailed(f"{where} : rubrique(s) inconnue(s) : {', '.join(unknown)}.")
    for name in ("keywords", "phrasings"):
        values = record.get(name) or []
        if not isinstance(values, list) or not all(
                isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
            raise ImportFailed(f"{where} : « {name} » doit être une liste de textes.")
    references = record.get("references") or []
    if not isinstance(references, list) or not all(
            isinstance(r, dict) and isinstance(r.get("url"), str) and isinstance(r.get("title", ""), str)
            for r in references):
        raise ImportFailed(f"{where} : « references » doit être une liste d'objets {{title, url}} (textes).")
    for ref in references:
        if not ref["url"].strip().lower().startswith(("http://", "https://", "mailto:", "tel:")):
            raise ImportFailed(f"{where} : référence « {ref.get('title', '')} » : adresse non autorisée "
                               f"({ref['url'][:80]}) ; seules les adresses http(s), mailto: et tel: sont acceptées.")
    review_by = record.get("review_by")
    if review_by is not None and not isinstance(review_by, str | dt.date):  # YAML reads dates itself
        raise ImportFailed(f"{where} : « review_by » n'est pas une date AAAA-MM-JJ ({review_by}).")
    if isinstance(review_by, str) and review_by:
        try:
            review_by = dt.date.fromisoformat(review_by)
        except ValueError as exc:
            raise ImportFailed(f"{where} : « review_by » n'est pas une date AAAA-MM-JJ ({review_by}).") from exc
    return {
        "theme": str(record["theme"]),
        "subtheme": str(record.get("subtheme") or ""),
        "audience": record.get("audience") or "particulier",
        "title": str(record["title"]).strip(),
        "short_answer": str(record["short_answer"]).strip(),
        "sections": {key: str(text).strip() for key, text in sections.items() if text},
        "keywords": [str(k) for k in record.get("keywords") or []],
        "phrasings": [str(p) for p in record.get("phrasings") or []],
        "level2": record.get("level2") or "",
        "references": list(record.get("references") or []),
        "review_by": review_by or None,
        "popularity": _integer(record, "popularity", 3, where),
    }


@transaction.atomic
def import_records(records: list[tuple[str, dict]], *, source: str, user=None, reason: str,
                   publish: bool = True, is_demo: bool = False, keep_state: bool = False) -> ImportReport:
    """Create or update fiches from (source name, record) pairs; all or nothing.

    An unchanged fiche is left alone (no new version), so re-running an import is idempotent.
    With keep_state (the project's own JSON), status and version are restored as exported.
    """
    report = ImportReport()
    themes = set(Theme.objects.values_list("slug", flat=True))
    errors: list[str] = []
    for source_name, record in records:
        try:
            values = _normalise(record, source_name)
            if values["theme"] not in themes:
                raise ImportFailed(f"{source_name} ({record['id']}) : thème inconnu « {values['theme']} ».")
            existing = Fiche.objects.filter(pk=record["id"]).first()
            fiche = existing or Fiche(id=record["id"])
            current = fiche_to_record(fiche, with_state=False) if existing else None
            candidate = {"id": record["id"], **values,
                         "review_by": values["review_by"].isoformat() if values["review_by"] else None}
            if current == candidate and not keep_state:
                report.unchanged.append(fiche.id)
                continue
            for name, value in values.items():
                setattr(fiche, "theme_id" if name == "theme" else name, value)
            fiche.source = (record.get("source") or source) if keep_state else source
            fiche.is_demo = is_demo or bool(record.get("is_demo"))
            fiche.full_clean(exclude=["theme"])
        except ValidationError as exc:
            details = "; ".join(f"{name} : {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
            errors.append(f"{source_name} ({record.get('id', '?')}) : {details}")
            continue
        except ImportFailed as exc:
            errors.append(str(exc))
            continue
        if keep_state:
            status = record.get("status") or Fiche.Status.DRAFT
            if status not in Fiche.Status.values:
                errors.append(f"{source_name} ({record['id']}) : « status » inconnu ({status}).")
                continue
            try:
                version = _integer(record, "version", 0, f"{source_name} ({record['id']})")
            except ImportFailed as exc:
                errors.append(str(exc))
                continue
            fiche.status = status
            fiche.version = version
            fiche.save_with_reason(user, reason)
        elif publish:
            fiche.publish(user, reason)
        else:
            fiche.save_with_reason(user, reason)
        (report.updated if existing else report.created).append(fiche.id)
    if errors:
        transaction.set_rollback(True)
        raise ImportFailed("Import annulé, rien n'a été enregistré :\n" + "\n".join(f"- {e}" for e in errors))
    return report


def read_demo_records(folder: Path | None = None) -> list[tuple[str, dict]]:
    folder = folder or DEMO_DIR / "fiches"
    records = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            records.append((path.name, yaml.safe_load(path.read_text(encoding="utf-8"))))
        except yaml.YAMLError as exc:
            raise ImportFailed(f"{path.name} : YAML invalide ({exc}).") from exc
    return records


def load_demo_kb() -> ImportReport:
    """Demo knowledge base: themes, synonyms, the published demo fiches and a few of Allô's notes.

    Seeded, never imposed: a missing fiche is created; an existing one is brought up to its YAML
    only while nobody has touched it (every version so far written by a loader, with no user), so
    running `allo init --demo` again never reverts a correction, an archive or a restored version.
    """
    load_themes()
    load_default_synonyms()
    records = read_demo_records()
    ids = [record.get("id") for _, record in records]
    existing = set(Fiche.objects.filter(pk__in=ids).values_list("pk", flat=True))
    touched = set(Fiche.history.model.objects.filter(id__in=existing, history_user__isnull=False)
                  .values_list("id", flat=True))
    touched |= set(Fiche.objects.filter(pk__in=existing).exclude(is_demo=True).values_list("pk", flat=True))
    seeded = [(name, record) for name, record in records if record.get("id") not in touched]
    report = import_records(seeded, source="demo", is_demo=True, reason="Chargement du contenu de démonstration")
    report.unchanged.extend(sorted(touched))
    from allo.kb.demo_notes import load_demo_notes

    load_demo_notes()
    return report


def load_default_synonyms() -> int:
    """The default synonym groups, each created once: a group an editor changed, switched off or
    deleted stays as they left it (its terms are in the history)."""
    from allo.kb.search import load_groups

    groups = load_groups()
    known = set(Synonym.history.model.objects.values_list("terms", flat=True))
    for group in groups:
        terms = ", ".join(group)
        if terms not in known:
            Synonym.objects.get_or_create(terms=terms)
    return len(groups)


def export_json(queryset=None) -> str:
    fiches = (queryset if queryset is not None else Fiche.objects.all()).order_by("id")
    payload = {
        "format": EXPORT_FORMAT,
        "themes": [{"slug": t.slug, "label": t.label, "position": t.position} for t in Theme.objects.all()],
        "fiches": [fiche_to_record(f) for f in fiches],
    }
    return json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True)


@transaction.atomic
def import_json(text: str, source_name: str, user=None) -> ImportReport:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed(f"{source_name} : JSON invalide, ligne {exc.lineno} colonne {exc.colno}.") from exc
    if not isinstance(payload, dict) or payload.get("format") != EXPORT_FORMAT:
        raise ImportFailed(f"{source_name} : ce n'est pas un export Allô (format « {EXPORT_FORMAT} » attendu).")
    themes, fiches = payload.get("themes", []), payload.get("fiches", [])
    for name, value in (("themes", themes), ("fiches", fiches)):
        if not isinstance(value, list):
            raise ImportFailed(f"{source_name} : « {name} » doit être une liste.")
    for i, theme in enumerate(themes):
        if not (isinstance(theme, dict) and isinstance(theme.get("slug"), str) and theme["slug"]
                and isinstance(theme.get("label"), str) and isinstance(theme.get("position", 0), int)):
            raise ImportFailed(f"{source_name} : thème n° {i + 1} : un objet {{slug, label, position}} est attendu "
                               "(textes, position entière).")
    for theme in themes:
        Theme.objects.update_or_create(slug=theme["slug"], defaults={"label": theme["label"],
                                                                    "position": theme.get("position", 0)})
    records = [(f"{source_name}#{record.get('id', i) if isinstance(record, dict) else i}", record)
               for i, record in enumerate(fiches)]
    return import_records(records, source="json", user=user, keep_state=True,
                          reason=f"Import de {Path(source_name).name}")
