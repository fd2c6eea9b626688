"""`allo staffing --from D1 --to D2 [--queue Q] [--interval 60] [--json]` (docs/forecast.md): agents needed
per interval for the forecast learnt from the history. (`allo staffing` without --from is the pure
command planning a scenario's day, allo/simulation/cli.py.)"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from allo.forecast.management.commands.forecast import WEEKDAYS
from allo.history.management.commands.history import _date


def _share(text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise CommandError(f"Part invalide : « {text} » (entre 0 et 0,9, par exemple 0,3).") from None
    if not 0 <= value <= 0.9:
        raise CommandError(f"Part invalide : « {text} » (entre 0 et 0,9, par exemple 0,3).")
    return value


class Command(BaseCommand):
    help = ("Effectifs nécessaires par intervalle (Erlang A, patience et durée de traitement mesurées dans "
            "l'historique, absentéisme compris), d'après la prévision.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", type=_date, required=True, help="premier jour (AAAA-MM-JJ)")
        parser.add_argument("--to", dest="last", type=_date, required=True, help="dernier jour (inclus)")
        parser.add_argument("--queue", help="une file (par défaut : toute la ligne, niveau 1)")
        parser.add_argument("--interval", type=int, default=60, help="minutes : 15, 30 ou 60 (défaut 60)")
        parser.add_argument("--shrinkage", type=_share, help="part du temps hors téléphone (défaut : ALLO_SHRINKAGE, "
                                                             "sinon 0,30)")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, first, last, queue=None, interval=60, shrinkage=None, as_json=False, **options):
        from allo.forecast import services

        try:
            data = services.staffing(first, last, queue, interval, shrink=shrinkage)
        except services.ForecastError as e:
            raise CommandError(str(e)) from None
        if as_json:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        s, m = data["staffing"], data["staffing"]["measured"]
        patience = f"patience {m['patience_s']:.0f} s" if m["patience_s"] else "aucun abandon : Erlang C"
        self.stdout.write(f"Objectif : {s['target']:.0%} en {s['target_s']:.0f} s ({s['target_source']}) ; "
                          f"mesuré du {m['from']} au {m['to']} : DMT {m['aht_s']:.0f} s, {patience} ; "
                          f"absentéisme {s['shrinkage']:.0%}.".replace("%", " %"))
        by_day: dict[str, list] = {}
        for row in data["intervals"]:
            by_day.setdefault(row["start"][:10], []).append(row)
        for d in data["days"]:
            day = dt.date.fromisoformat(d["date"])
            label = f"{WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}"
            if not d["open"]:
                self.stdout.write(f"\n{label} : aucun appel attendu")
                continue
            self.stdout.write(f"\n{label} : {d['expected']:.0f} appels, pointe {d['peak_agents']} agents, "
                              f"{d['agent_hours']:.0f} h au téléphone, {d['scheduled_hours']:.0f} h à planifier")
            self.stdout.write(f"  {'début':<5} {'appels':>7} {'agents':>7} {'planifiés':>10} {'NS':>6} {'abandons':>9}")
            for r in by_day.get(d["date"], []):
                self.stdout.write(f"  {r['start'][11:16]:<5} {r['expected']:>7.1f} {r['agents']:>7} {r['scheduled']:>10} "
                                  f"{r['service_level']:>6.0%} {r['abandon_rate']:>9.1%}".replace("%", " %"))
