"""`allo shifts --week D [--queue Q] [--interval 60] [--seed 1] [--json]`: the week's shift plan from the
admin's shift templates (CP-SAT), checked by simulation through the engine (docs/forecast.md)."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from allo.forecast.management.commands.forecast import WEEKDAYS
from allo.forecast.management.commands.staffing import _share
from allo.history.management.commands.history import _date


class Command(BaseCommand):
    help = ("Plan de la semaine : agents par modèle de vacation et par jour couvrant les effectifs nécessaires "
            "(OR-Tools CP-SAT), vérifié par simulation avec le moteur de routage.")

    def add_arguments(self, parser):
        parser.add_argument("--week", type=_date, required=True, help="le lundi de la semaine (AAAA-MM-JJ)")
        parser.add_argument("--queue", help="une file (par défaut : toute la ligne, niveau 1)")
        parser.add_argument("--interval", type=int, default=60, help="minutes : 15, 30 ou 60 (défaut 60)")
        parser.add_argument("--shrinkage", type=_share, help="part du temps hors téléphone (défaut : ALLO_SHRINKAGE)")
        parser.add_argument("--seed", type=int, default=1, help="graine de la simulation (défaut 1)")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, week, queue=None, interval=60, shrinkage=None, seed=1, as_json=False, **options):
        from allo.forecast import services

        try:
            data = services.shift_plan(week, queue, interval, seed=seed, shrink=shrinkage)
        except services.ForecastError as e:
            raise CommandError(str(e)) from None
        if as_json:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        sim = data["simulated"]
        self.stdout.write(f"Semaine du {week:%d/%m/%Y} : plan {data['status']} en {data['solve_s']} s, "
                          f"{data['paid_hours']:.0f} h payées, {data['short_agent_intervals']} agent-intervalle(s) "
                          f"non couvert(s).")
        sl = "—" if sim["service_level"] is None else f"{100 * sim['service_level']:.1f} %"
        ab = "—" if sim["abandon_rate"] is None else f"{100 * sim['abandon_rate']:.1f} %"
        self.stdout.write(f"Simulation ({sim['offered']} appels) : niveau de service {sl} (objectif "
                          f"{100 * data['target']:.0f} % en {data['target_s']:.0f} s), abandons {ab}.")
        for d in data["days"]:
            day = dt.date.fromisoformat(d["date"])
            shifts = ", ".join(f"{n} × {name}" for name, n in d["shifts"].items()) or "personne"
            s = d["simulated"]
            sl = "" if s["service_level"] is None else f" — simulé : NS {100 * s['service_level']:.1f} %"
            self.stdout.write(f"{WEEKDAYS[day.weekday()]} {day:%d/%m} : {shifts}{sl}")
