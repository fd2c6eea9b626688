"""`allo kb import|export|eval|apply-scheduled`: knowledge-base tools."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from allo.kb.importers.dila_legacy import DilaFormatError, parse_archive
from allo.kb.search_service import search_index
from allo.kb.services import ImportFailed, export_json, import_json, import_records, load_themes


class Command(BaseCommand):
    help = "Base de connaissances : import (service-public.fr ou export Allô), export JSON, évaluation de la recherche."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="importer un dossier ou un zip de fiches service-public.fr, ou un export JSON")
        imp.add_argument("path", help="dossier, fichier .zip, fichier F*.xml, ou export .json d'Allô")
        imp.add_argument("--draft", action="store_true", help="importer en brouillon au lieu de publier")
        exp = sub.add_parser("export", help="exporter toute la base au format JSON d'Allô")
        exp.add_argument("--output", "-o", help="fichier de sortie (par défaut : sortie standard)")
        ev = sub.add_parser("eval", help="mesurer la recherche sur un jeu de questions")
        ev.add_argument("--questions", required=True, help="CSV à colonnes question,expected")
        ev.add_argument("--json", action="store_true", help="afficher un objet JSON")
        sub.add_parser("apply-scheduled", help="appliquer les modifications programmées dont la date est venue (cron)")

    def handle(self, *args, action: str, **options):
        return getattr(self, f"_{action.replace('-', '_')}")(**options)

    def _apply_scheduled(self, **_):
        from allo.kb.workflow import apply_due

        applied = apply_due()
        for revision in applied:
            self.stdout.write(f"  {revision.fiche_id} : {revision.summary} (date d'effet {revision.effective_on:%d/%m/%Y})")
        self.stdout.write(self.style.SUCCESS(f"{len(applied)} modification(s) programmée(s) appliquée(s)."))

    def _import(self, path: str, draft: bool = False, **_):
        source = Path(path)
        if not source.exists():
            raise CommandError(f"{path} : fichier ou dossier introuvable.")
        try:
            if source.suffix.lower() == ".json":
                report = import_json(source.read_text(encoding="utf-8"), source.name)
            else:
                load_themes()  # imported fiches are filed under the ten themes
                records = [(r.get("source", {}).get("file", r["id"]) if isinstance(r.get("source"), dict) else r["id"], r)
                           for r in parse_archive(source)]
                report = import_records(records, source="service-public.fr", publish=not draft,
                                        reason=f"Import service-public.fr ({source.name})")
        except (DilaFormatError, ImportFailed) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Import terminé : {report}."))

    def _export(self, output: str | None = None, **_):
        text = export_json()
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Export écrit dans {output}.")
        else:
            self.stdout.write(text)

    def _eval(self, questions: str, json: bool = False, **_):
        from allo.kb.search import evaluate

        path = Path(questions)
        if not path.exists():
            raise CommandError(f"{questions} : fichier introuvable.")
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"question", "expected"} <= set(reader.fieldnames):
                raise CommandError(f"{questions} : colonnes « question,expected » attendues.")
            rows = [(row["question"], [i for i in (row["expected"] or "").split("|") if i]) for row in reader]
        index = search_index()
        metrics = evaluate(index, rows)
        if json:
            self.stdout.write(_json_dumps(metrics))
            return
        self.stdout.write(f"Questions : {metrics['n']}")
        for key, label in [("hit_at_1", "hit@1"), ("hit_at_3", "hit@3"), ("mrr", "MRR"),
                           ("oos_precision", "précision hors champ")]:
            self.stdout.write(f"  {label:<22} {metrics[key]:.3f}")
        self.stdout.write(f"  {'latence p50 / p95':<22} {metrics['p50_ms']:.1f} ms / {metrics['p95_ms']:.1f} ms")


def _json_dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: allo kb ...")
