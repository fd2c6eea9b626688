"""`allo search_index [--database ALIAS] [--force]`: build the search index of the published fiches and
save it under ALLO_DATA_DIR, where every web process memory-maps it (see allo/kb/search_service.py).

Web processes run it in the background when many fiches changed (an import); run it by hand after
an import to have the new index ready before the first search.
"""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Construit l'index de recherche des fiches publiées et l'enregistre (partagé par les processus web)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")
        parser.add_argument("--force", action="store_true", help="reconstruire même si l'index est à jour")

    def handle(self, *args, database="default", force=False, **options):
        from allo.kb.search_service import build_index

        folder = build_index(database, force=force)
        self.stdout.write(f"Index de recherche : {folder}")
