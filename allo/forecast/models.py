"""Shift templates the administrator sets: the shifts a weekly plan may use (docs/forecast.md)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

WEEKDAY_NAMES = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


class ShiftTemplate(models.Model):
    name = models.CharField("nom", max_length=80, unique=True)
    start = models.TimeField("début")
    end = models.TimeField("fin", help_text="Le jour même : une vacation ne passe pas minuit.")
    weekdays = models.CharField("jours", max_length=7, default="12345",
                                help_text="Chiffres des jours où elle existe : 1 = lundi … 7 = dimanche (ex. 123456).")
    paid_minutes = models.PositiveSmallIntegerField(
        "temps payé (min)", null=True, blank=True,
        help_text="Par défaut la durée de la vacation ; sert au coût que le plan réduit.")
    active = models.BooleanField("active", default=True)

    class Meta:
        verbose_name = "modèle de vacation"
        verbose_name_plural = "modèles de vacation"
        ordering = ["start", "end", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.start:%H:%M}–{self.end:%H:%M})"

    def clean(self):
        if self.end <= self.start:
            raise ValidationError({"end": "La fin doit suivre le début, le même jour."})
        if not self.weekdays or any(c not in "1234567" for c in self.weekdays) or \
                len(set(self.weekdays)) != len(self.weekdays):
            raise ValidationError({"weekdays": "Des chiffres de 1 (lundi) à 7 (dimanche), chacun une fois."})

    def days(self) -> set[int]:
        """Weekdays (0 = Monday) the shift exists on."""
        return {int(c) - 1 for c in self.weekdays}
