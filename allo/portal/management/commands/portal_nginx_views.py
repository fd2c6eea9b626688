"""`allo portal_nginx_views [LOG]`: the pages nginx served, added to the portal's statistics
(docs/deploy.md; allo-portal-views.timer runs it every minute)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from allo.portal.nginx_views import ingest


class Command(BaseCommand):
    help = "Compte dans les statistiques du portail les pages servies par nginx (journal des vues)."

    def add_arguments(self, parser):
        parser.add_argument("log", nargs="?", default="/var/log/nginx/allo.views.log",
                            help="journal des vues de nginx (défaut : /var/log/nginx/allo.views.log)")

    def handle(self, *args, log: str, **options):
        state = Path(settings.DATA_DIR) / "nginx-views.json"
        figures = ingest(Path(log), state)
        self.stdout.write(f"{figures['events']} vue(s) ou recherche(s) comptée(s), "
                          f"{figures['skipped']} ligne(s) ignorée(s).")
