"""`allo report --from D1 --to D2 [--queue Q] [--json]`: daily figures from the stored aggregates."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from allo.history.management.commands.history import _date


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _s(x) -> str:
    return "—" if x is None else f"{x:.0f} s"


class Command(BaseCommand):
    help = "Bilan par jour : appels présentés, répondus, abandonnés, ASA, niveau de service, DMT."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", type=_date, required=True, help="premier jour (AAAA-MM-JJ)")
        parser.add_argument("--to", dest="last", type=_date, required=True, help="dernier jour (inclus)")
        parser.add_argument("--queue", help="une file (par défaut : toute la ligne, niveau 1)")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, first, last, queue=None, as_json=False, **options):
        from allo.history import services

        if first > last:
            raise CommandError("--from doit précéder --to.")
        try:
            data = services.report(first, last, queue)
        except services.UnknownQueue as e:
            raise CommandError(str(e)) from None
        if as_json:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        self.stdout.write(f"{'jour':<11}{'présentés':>10}{'répondus':>10}{'abandons':>10}{'ASA':>8}"
                          f"{'NS 20 s':>9}{'DMT':>8}{'SLPerf':>9}{'SLPerf2':>9}")
        for d in [*data["days"], {"date": "total", **data["total"]}]:
            self.stdout.write(f"{d['date']:<11}{d['offered']:>10}{d['answered']:>10}{d['abandoned']:>10}"
                              f"{_s(d['asa_s']):>8}{_pct(d['service_level']):>9}{_s(d['aht_s']):>8}"
                              f"{_pct(d['servicelevel_perf']):>9}{_pct(d['servicelevel_perf2']):>9}")
