"""The service's organisation: the line, its centres, their opening hours and closures.

Opening-hours logic lives in the pure routing core (`allo.routing.hours`); these models store the
figures administrators edit and hand them to that core, so the website, the desks and the engine
agree on when a centre is open.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords


class Centre(models.Model):
    class Kind(models.TextChoices):
        N1_PLATFORM = "n1", "Plateforme de niveau 1"
        SPECIALISED = "specialised", "Centre spécialisé de niveau 2"
        INFORMANT = "informant", "Centre interministériel de renseignements (niveau 2)"

    class Domain(models.TextChoices):
        GENERAL = "general", "Tous sujets (niveau 1)"
        TAX = "impots", "Impôts"
        CONSUMER = "consommation", "Consommation"
        GENERALIST = "cira", "Renseignement administratif généraliste"

    code = models.SlugField("code", unique=True, max_length=40)
    name = models.CharField("nom", max_length=120)
    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    domain = models.CharField("domaine de compétence", max_length=20, choices=Domain.choices)
    city = models.CharField("ville", max_length=80)
    provider = models.CharField("opérateur", max_length=120, blank=True, help_text="Prestataire externe éventuel.")
    siret = models.CharField(
        "SIRET", max_length=14, blank=True, validators=[RegexValidator(r"^\d{14}$", "Un SIRET a 14 chiffres.")],
        help_text="Le SIRET de l'établissement employeur : la connexion ProConnect de ses agents le vérifie.")
    capacity = models.PositiveSmallIntegerField(
        "postes au téléphone", validators=[MinValueValidator(1)], help_text="Agents au téléphone en simultané."
    )
    closed_on_public_holidays = models.BooleanField("fermé les jours fériés", default=True)
    holiday_subdivision = models.CharField(
        "calendrier local des jours fériés",
        max_length=8,
        blank=True,
        help_text="Code de subdivision du calendrier français, par ex. 57 pour la Moselle (Alsace-Moselle).",
    )
    active = models.BooleanField("actif", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "centre"
        verbose_name_plural = "centres"
        ordering = ["kind", "city", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"

    def opening_hours(self):
        """This centre's hours as the routing core's pure object."""
        from allo.org.hours import opening_hours_for

        return opening_hours_for(self)

    def is_open(self, when: dt.datetime | None = None) -> bool:
        from allo.org.hours import local_now

        return self.active and self.opening_hours().is_open(when or local_now())


class WeeklyRange(models.Model):
    """One range of a weekly timetable (Monday 08:00–12:30). Abstract: a centre's opening periods and a
    partner administration's (allo/partners) share the fields, the weekday names and the check."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "lundi"
        TUESDAY = 1, "mardi"
        WEDNESDAY = 2, "mercredi"
        THURSDAY = 3, "jeudi"
        FRIDAY = 4, "vendredi"
        SATURDAY = 5, "samedi"
        SUNDAY = 6, "dimanche"

    weekday = models.PositiveSmallIntegerField("jour", choices=Weekday.choices)
    opens = models.TimeField("ouverture")
    closes = models.TimeField("fermeture")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens and self.closes and self.closes <= self.opens:
            raise ValidationError({"closes": "L'heure de fermeture doit être postérieure à l'heure d'ouverture."})


class OpeningPeriod(WeeklyRange):
    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="opening_periods")

    class Meta:
        verbose_name = "plage d'ouverture"
        verbose_name_plural = "plages d'ouverture"
        ordering = ["centre", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=models.Q(closes__gt=models.F("opens")), name="opening_period_ordered")
        ]


class DatedClosure(models.Model):
    """An exceptional closure from one day to another (inclusive). Abstract, as WeeklyRange."""

    start = models.DateField("du")
    end = models.DateField("au (inclus)")
    reason = models.CharField("motif", max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.reason} ({self.start:%d/%m/%Y} – {self.end:%d/%m/%Y})"

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": "La date de fin doit être postérieure ou égale à la date de début."})


class Closure(DatedClosure):
    """An exceptional closure (strike, training day, move); without a centre, the whole line closes."""

    centre = models.ForeignKey(
        Centre, null=True, blank=True, on_delete=models.CASCADE, related_name="closures", verbose_name="centre"
    )

    class Meta:
        verbose_name = "fermeture exceptionnelle"
        verbose_name_plural = "fermetures exceptionnelles"
        ordering = ["start"]
        constraints = [models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="closure_ordered")]


class ServiceLine(models.Model):
    """The single number citizens call. Its published hours are those of its N1 platform."""

    name = models.CharField("nom du service", max_length=120)
    phone_number = models.CharField("numéro", max_length=20)
    price_note = models.CharField("tarif", max_length=200, blank=True)
    platform = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="plateforme de niveau 1",
        limit_choices_to={"kind": Centre.Kind.N1_PLATFORM},
    )
    siret = models.CharField(
        "SIRET", max_length=14, blank=True, validators=[RegexValidator(r"^\d{14}$", "Un SIRET a 14 chiffres.")],
        help_text="Le SIRET de l'organisme qui opère la ligne : la connexion ProConnect des comptes rattachés à "
                  "aucun centre (rédacteurs, superviseurs) le vérifie.")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "ligne de service"
        verbose_name_plural = "lignes de service"

    def __str__(self) -> str:
        return f"{self.name} — {self.phone_number}"

    @classmethod
    def current(cls) -> ServiceLine | None:
        return cls.objects.select_related("platform").first()
