"""`allo router`: the production router process (a second one waits as a standby)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from allo.bootstrap import bootstrap
from allo.contact_centre.router.service import run_with_lock


class Command(BaseCommand):
    help = ("Lance le routeur d'appels. Sur PostgreSQL, un seul routeur est actif (verrou consultatif) ; "
            "un second attend et prend le relais.")

    def handle(self, *args, **options):
        self.stdout.write("Routeur : en attente du verrou (un seul routeur actif)…")
        self.stdout.flush()
        run_with_lock(bootstrap(router=True).router)
