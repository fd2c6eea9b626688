"""`allo surges scan` and `allo surges list` (docs/surges.md)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Pics d'actualité : compte les appels, recherches et consultations par fiche et thème, et détecte les pics."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("scan", help="compte ce qui est arrivé depuis le dernier passage et ouvre ou clôt les pics "
                                    "(le serveur le fait chaque minute)")
        ls = sub.add_parser("list", help="les pics en cours")
        ls.add_argument("--json", action="store_true")

    def handle(self, *args, action, **options):
        from allo.surges import services

        if action == "scan":
            result = services.scan()
            self.stdout.write(f"Comptés : {result.counted['calls']} clôtures d'appel, {result.counted['searches']} "
                              f"recherches, {result.counted['views']} consultations. Pics ouverts : "
                              f"{len(result.started)}, clos : {len(result.ended)}, en cours : {result.open}.")
            return
        alerts = services.alerts()
        if options["json"]:
            self.stdout.write(json.dumps([{
                "signal": a.surge.signal, "dim": a.surge.dim, "key": a.surge.key, "label": a.label,
                "started": a.surge.started.isoformat(), "observed": a.surge.observed,
                "expected": round(a.surge.expected, 2), "ratio": round(a.surge.ratio, 2),
                "peak_ratio": round(a.surge.peak_ratio, 2), "extra_agents": a.surge.extra_agents,
            } for a in alerts], ensure_ascii=False))
            return
        if not alerts:
            self.stdout.write("Aucun pic en cours.")
        for a in alerts:
            extra = f" — {a.surge.extra_agents} agent(s) de plus" if a.surge.extra_agents else ""
            self.stdout.write(f"{a.surge.get_dim_display().capitalize()} « {a.label} » : {a.summary}{extra}")
