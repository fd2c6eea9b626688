"""`allo partners list [--json]`: the partner administrations and their entry numbers."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from allo.partners.services import partners_list


class Command(BaseCommand):
    help = "Liste les administrations partenaires et leurs numéros d'entrée."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list"], help="list : les partenaires")
        parser.add_argument("--json", action="store_true", dest="as_json",
                            help='une liste JSON [{"id", "name", "entry_numbers": [...]}, ...]')

    def handle(self, *args, action, as_json: bool = False, **options):
        rows = partners_list()
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False))
            return
        if not rows:
            self.stdout.write("Aucun partenaire.")
        for row in rows:
            self.stdout.write(f"{row['id']:>4}  {row['name']:<40} {', '.join(row['entry_numbers']) or '—'}")

