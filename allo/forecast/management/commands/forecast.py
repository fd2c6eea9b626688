"""`allo forecast --from D1 --to D2 [--queue Q] [--interval 60] [--json]` (docs/forecast.md)."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from allo.history.management.commands.history import _date

WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


class Command(BaseCommand):
    help = "Prévision des appels par intervalle, apprise de l'historique, avec intervalles de prévision à 90 %."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", type=_date, required=True, help="premier jour (AAAA-MM-JJ)")
        parser.add_argument("--to", dest="last", type=_date, required=True, help="dernier jour (inclus)")
        parser.add_argument("--queue", help="une file (par défaut : toute la ligne, niveau 1)")
        parser.add_argument("--interval", type=int, default=60, help="minutes : 15, 30 ou 60 (défaut 60)")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, first, last, queue=None, interval=60, as_json=False, **options):
        from allo.forecast import services

        try:
            data = services.forecast(first, last, queue, interval)
        except services.ForecastError as e:
            raise CommandError(str(e)) from None
        if as_json:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        h = data["history"]
        self.stdout.write(f"Historique du {h['from']} au {h['to']} ({h['days']} jours) ; intervalles à "
                          f"{round(data['level'] * 100)} % ; {data['total']:.0f} appels attendus en tout.")
        by_day: dict[str, list] = {}
        for row in data["intervals"]:
            by_day.setdefault(row["start"][:10], []).append(row)
        for d in data["days"]:
            day = dt.date.fromisoformat(d["date"])
            label = f"{WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}"
            extra = f" ({services.KIND_LABELS[d['kind']]})" if d["kind"] != "normal" else ""
            if not d["open"]:
                self.stdout.write(f"\n{label}{extra} : aucun appel attendu (fermé dans l'historique)")
                continue
            self.stdout.write(f"\n{label}{extra} : {d['expected']:.0f} appels attendus [{d['low']}–{d['high']}]")
            for row in by_day.get(d["date"], []):
                self.stdout.write(f"  {row['start'][11:16]}  {row['expected']:>8.1f}  [{row['low']}–{row['high']}]")
