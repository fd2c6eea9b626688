"""`allo init [--demo]`: create or upgrade the database; with --demo, load the demo data (idempotent)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from allo.accounts.demo import DEMO_PASSWORD, ensure_role_groups, load_demo_users
from allo.org.demo import load_demo_organisation


class Command(BaseCommand):
    help = "Crée ou met à jour la base de données ; --demo charge les données de démonstration."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="charger les données de démonstration")

    def handle(self, *args, demo: bool = False, verbosity: int = 1, **options):
        call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))
        ensure_role_groups()
        self.stdout.write(self.style.SUCCESS("Base de données à jour."))
        if not demo:
            return
        for loader in DEMO_LOADERS:
            summary = loader()
            if summary:
                self.stdout.write(f"  {loader.__doc__.strip().splitlines()[0]} : {summary}")
        users = load_demo_users()
        self.stdout.write(self.style.SUCCESS("Données de démonstration chargées."))
        self.stdout.write(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        for username, role in users:
            self.stdout.write(f"  {username:<15} {role}")


def _organisation() -> dict:
    """Organisation (centres, horaires)"""
    return load_demo_organisation()


def _thresholds() -> dict:
    """Seuils d'alerte des files"""
    from allo.contact_centre.demo import load_demo_thresholds

    return load_demo_thresholds()


def _knowledge_base() -> str:
    """Base de connaissances (fiches publiées)"""
    from allo.kb.services import load_demo_kb

    return str(load_demo_kb())


def _partners() -> dict:
    """Partenaires (mairie, préfecture, CAF)"""
    from allo.partners.demo import load_demo_partners

    return load_demo_partners()


def _official_archives() -> str:
    """Fiches service-public.fr (archives DILA livrées avec Allô)"""
    import sys

    from allo.kb.official_import import load_demo_archives

    bars = None
    if sys.stderr.isatty():  # a first import takes about a minute: show it moving
        from allo.kb.management.commands.kb import _Bars

        bars = _Bars(sys.stderr)
    try:
        return load_demo_archives(progress=bars)
    finally:
        if bars is not None:
            bars.close()


def _shift_templates() -> dict:
    """Modèles de vacation (pour le plan de la semaine)"""
    from allo.forecast.demo import load_demo_shift_templates

    return load_demo_shift_templates()


def _history() -> dict:
    """Historique d'appels simulé (semaines passées, pour le bilan et les prévisions)"""
    from allo.history.demo import load_demo_history

    return load_demo_history()


# Each capability adds its demo loader here, in dependency order.
DEMO_LOADERS = [_organisation, _thresholds, _knowledge_base, _partners, _official_archives, _shift_templates, _history]
