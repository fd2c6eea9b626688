"""`allo kb import|sync|export|eval|apply-scheduled`: knowledge-base tools."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from allo.kb.importers.dila import ELEMENTS, DilaFormatError
from allo.kb.search_service import search_index
from allo.kb.services import ImportFailed, export_json, import_json


class Command(BaseCommand):
    help = "Base de connaissances : import (service-public.fr ou export Allô), export JSON, évaluation de la recherche."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="importer les archives service-public.fr (toutes ensemble), ou un export JSON")
        imp.add_argument("paths", nargs="+", metavar="path",
                         help="archives .zip de la DILA (part.zip pro.zip…), dossiers, fichiers F*.xml, ou un export .json")
        imp.add_argument("--report", action="store_true",
                         help="lire toutes les fiches et afficher chaque type d'élément rencontré et son rendu")
        syn = sub.add_parser("sync", help="mise à jour quotidienne : télécharger les archives DILA et importer ce qui a changé")
        syn.add_argument("sources", nargs="*", metavar="URL|PATH",
                         help="adresses ou chemins des archives (par défaut : ALLO_DILA_SOURCES, sinon celles de la DILA)")
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

    def _import(self, paths: list[str], report: bool = False, **_):
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            raise CommandError(f"{', '.join(missing)} : fichier ou dossier introuvable.")
        if any(Path(p).suffix.lower() == ".json" for p in paths):
            if len(paths) > 1:
                raise CommandError("Un export JSON d'Allô s'importe seul.")
            source = Path(paths[0])
            try:
                result = import_json(source.read_text(encoding="utf-8"), source.name)
            except ImportFailed as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS(f"Import terminé : {result}."))
            return
        self._import_official(paths, report)

    def _sync(self, sources: list[str], **_):
        from allo.kb.official_sync import SyncError, configured_sources, fetch

        sources = sources or configured_sources()
        paths = []
        with _Bars(self.stderr) as bars:
            for source in sources:
                try:
                    path, changed = fetch(source, progress=bars)
                except SyncError as exc:
                    raise CommandError(str(exc)) from exc
                self.stderr.write(f"{source} : {'nouvelle archive' if changed else 'inchangée depuis la dernière fois'}.")
                paths.append(str(path))
        self._import_official(paths, report=False)

    def _import_official(self, paths: list[str], report: bool) -> None:
        from allo.kb.official_import import import_archives, refresh_search_index

        try:
            with _Bars(self.stderr) as bars:
                summary, corpus = import_archives(paths, progress=bars, census=report)
        except DilaFormatError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Import terminé : {summary}."))
        if summary.changed:
            self.stdout.write(f"Index de recherche : {refresh_search_index()}.")
        if summary.unknown:
            self.stdout.write(self.style.WARNING(
                "Éléments inconnus de l'importeur (leur texte est gardé comme paragraphe) : "
                + ", ".join(f"{kind} ({n} fiche(s))" for kind, n in sorted(summary.unknown.items()))))
        if report:
            self._report(corpus)

    def _report(self, corpus) -> None:
        self.stdout.write("")
        files = corpus.census.get("Publication", 0)
        self.stdout.write(f"Éléments rencontrés dans les {files} fichiers de fiches ({len(corpus.fiches)} fiches), "
                          "et leur rendu :")
        self.stdout.write(f"  {'élément':<24} {'rôle':<11} {'fichiers':>8} {'mots rendus':>12}  rendu")
        for kind, count in sorted(corpus.census.items(), key=lambda kv: (-kv[1], kv[0])):
            role, how = ELEMENTS.get(kind, ("INCONNU", "non rendu : ajouter à allo/kb/importers/dila/elements.py"))
            found, total = corpus.coverage.get(kind, [0, 0])
            share = f"{100 * found / total:.2f} %" if total else "—"
            self.stdout.write(f"  {kind:<24} {role:<11} {count:>8} {share:>12}  {how}")
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
        from allo.kb import search_service
        from allo.kb.models import Fiche

        if Fiche.objects.published().count() > search_service.SMALL_KB:
            search_service.build_index()  # a command may build (not a request): no-op if the saved index is current
        index = search_index()
        metrics = evaluate(index, rows)
        if json:
            self.stdout.write(_json_dumps(metrics))
            return
        self.stdout.write(f"Questions : {metrics['n']}")
        for key, label in [("hit_at_1", "hit@1"), ("hit_at_3", "hit@3"), ("mrr", "MRR"),
                           ("oos_precision", "précision hors champ"), ("oos_recall", "rappel hors champ"),
                           ("in_scope_flagged", "pertinentes signalées")]:
            self.stdout.write(f"  {label:<22} {metrics[key]:.3f}")
        self.stdout.write(f"  {'latence p50 / p95':<22} {metrics['p50_ms']:.1f} ms / {metrics['p95_ms']:.1f} ms")


class _Bars:
    """tqdm progress bars on stderr, one per phase (reading, writing, downloading)."""

    def __init__(self, stream):
        self.stream, self.bar, self.phase = stream, None, None

    def __enter__(self):
        return self

    def __call__(self, phase: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if phase != self.phase:
            self.close()
            self.phase = phase
            self.bar = tqdm(total=total, desc=phase.capitalize(), unit="", file=sys.stderr, leave=False,
                            dynamic_ncols=True, mininterval=0.5, disable=None)  # off when not a terminal
        if self.bar is not None:
            self.bar.total = max(total, done)
            self.bar.n = done
            self.bar.refresh() if done == total else self.bar.update(0)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __exit__(self, *exc):
        self.close()
        return False


def _json_dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: allo kb ...")
