"""`allo report --from D1 --to D2 [--queue Q] [--json | --format csv|ods|xlsx|pdf --output FILE]`: daily
figures from the stored aggregates; as a file, the « Bilan » page's tables or its PDF report."""

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
        parser.add_argument("--format", dest="fmt", choices=["csv", "ods", "xlsx", "pdf"],
                            help="un fichier : les tableaux du bilan (csv, ods, xlsx) ou le rapport (pdf)")
        parser.add_argument("--output", help="le fichier à écrire (avec --format)")

    def handle(self, *args, first, last, queue=None, as_json=False, fmt=None, output=None, **options):
        from allo.history import services

        if first > last:
            raise CommandError("--from doit précéder --to.")
        if bool(fmt) != bool(output):
            raise CommandError("--format et --output vont ensemble (ex. --format ods --output bilan.ods).")
        if fmt:
            return self.write_file(first, last, queue, fmt, output)
        try:
            data = services.report(first, last, queue)
        except services.UnknownQueue as e:
            raise CommandError(str(e)) from None
        if as_json:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        sl = f"NS {data['threshold_s']:.0f} s"  # the line's or the queue's level's threshold
        self.stdout.write(f"{'jour':<11}{'présentés':>10}{'répondus':>10}{'abandons':>10}{'ASA':>8}"
                          f"{sl:>9}{'DMT':>8}{'SLPerf':>9}{'SLPerf2':>9}")
        for d in [*data["days"], {"date": "total", **data["total"]}]:
            self.stdout.write(f"{d['date']:<11}{d['offered']:>10}{d['answered']:>10}{d['abandoned']:>10}"
                              f"{_s(d['asa_s']):>8}{_pct(d['service_level']):>9}{_s(d['aht_s']):>8}"
                              f"{_pct(d['servicelevel_perf']):>9}{_pct(d['servicelevel_perf2']):>9}")

    def write_file(self, first, last, queue, fmt: str, output: str) -> None:
        from allo.history import exports, services
        from allo.reports import spreadsheets
        from allo.reports.pdf import PdfUnavailable

        try:
            b = exports.bilan(first, last, queue)
            body = exports.report_pdf(b) if fmt == "pdf" else spreadsheets.render(b.tables, fmt)[0]
        except (services.UnknownQueue, PdfUnavailable) as e:
            raise CommandError(str(e)) from None
        try:
            with open(output, "wb") as f:
                f.write(body)
        except OSError as e:
            raise CommandError(f"Impossible d'écrire « {output} » : {e.strerror}.") from None
        self.stdout.write(f"{output} : bilan {b.label}, {b.scope} ({len(body)} octets).")
