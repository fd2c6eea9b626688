"""`allo history import FILE.csv` and `allo history rebuild [--from D1] [--to D2]` (docs/reports.md)."""

from __future__ import annotations

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Date invalide : « {value} » (AAAA-MM-JJ attendu).") from None


class Bars:
    """tqdm progress bars on stderr, one per phase; off when stderr is not a terminal."""

    def __init__(self):
        self.bar, self.phase = None, None

    def __call__(self, phase: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if phase != self.phase:
            self.close()
            self.phase = phase
            unit, scale = ("o", True) if phase == "lecture" else ("", False)
            self.bar = tqdm(total=total, desc=phase.capitalize(), unit=unit, unit_scale=scale, file=sys.stderr,
                            leave=False, dynamic_ncols=True, mininterval=0.5, disable=None)
        self.bar.total = max(total, done)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = "Historique des appels : import d'un système précédent, recalcul des agrégats."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="importe un CSV d'appels (tout ou rien)")
        imp.add_argument("file", help="CSV UTF-8 : arrived_at,queue,outcome,waited_s,talk_s[,agent,theme,origin,fiche,level,destination]")
        reb = sub.add_parser("rebuild", help="enregistre les appels terminés de la plateforme et recalcule les "
                                             "agrégats des jours donnés (par défaut : hier et aujourd'hui)")
        reb.add_argument("--from", dest="first", type=_date)
        reb.add_argument("--to", dest="last", type=_date)

    def handle(self, *args, action, **options):
        from allo.history import services

        bars = Bars()
        try:
            if action == "import":
                try:
                    result = services.import_csv(options["file"], progress=bars)
                except FileNotFoundError:
                    raise CommandError(f"Fichier introuvable : {options['file']}") from None
                except services.ImportFailed as e:
                    bars.close()
                    for line in e.errors:
                        self.stderr.write(line)
                    if e.count:
                        raise CommandError(f"{e.count} ligne(s) en erreur : rien n'a été importé.") from None
                    raise CommandError("Rien n'a été importé.") from None
                bars.close()
                self.stdout.write(f"{result.rows} appels importés, du {result.first_day:%d/%m/%Y} au "
                                  f"{result.last_day:%d/%m/%Y} ; {result.stats} agrégats calculés.")
                if result.new_queues:
                    self.stdout.write("Files créées (historique seulement) : " + ", ".join(result.new_queues))
                return
            from allo.org.hours import local_now

            today = local_now().date()
            last = options["last"] or today
            first = options["first"] or min(last, today - dt.timedelta(days=1))
            if first > last:
                raise CommandError("--from doit précéder --to.")
            live = services.record_live(first, last)
            stats = services.rebuild(first, last, progress=bars)
            bars.close()
            self.stdout.write(f"Du {first:%d/%m/%Y} au {last:%d/%m/%Y} : {live} appels de la plateforme "
                              f"enregistrés, {stats} agrégats recalculés.")
        finally:
            bars.close()
