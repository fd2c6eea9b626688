"""`allo purge [--days N]`: delete callers' personal data older than the retention period."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from allo.contact_centre.services import purge


class Command(BaseCommand):
    help = "Supprime les données personnelles des appelants plus anciennes que la durée de conservation."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.RETENTION_DAYS)

    def handle(self, *args, days, **options):
        counts = purge(days)
        self.stdout.write(f"Purge (> {days} jours) : " + ", ".join(f"{k} {v}" for k, v in counts.items()))
