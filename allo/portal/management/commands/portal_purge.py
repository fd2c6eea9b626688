"""`allo portal_purge`: delete the portal's personal data older than RETENTION_DAYS (run it daily)."""

from django.core.management.base import BaseCommand

from allo.portal.callbacks import purge_expired


class Command(BaseCommand):
    help = "Supprime les demandes de rappel et commentaires plus anciens que la durée de conservation."

    def handle(self, *args, **options):
        done = purge_expired()
        self.stdout.write(f"{done['callbacks']} demande(s) de rappel supprimée(s), "
                          f"{done['comments']} commentaire(s) effacé(s), {done['searches']} recherche(s) journalisée(s) supprimée(s).")
