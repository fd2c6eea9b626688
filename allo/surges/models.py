"""Topical surges (docs/surges.md): counts per quarter hour per fiche and theme, and the surges found.

`Tally` keeps its own counts rather than reading the sources each time: the portal keeps only daily
counters (no time of day, by design), and wrap-ups are purged after the retention period while the
baseline needs weeks of the same hour. No personal data: a signal, a fiche id or theme slug, a count.
"""

from __future__ import annotations

from django.db import models


class Signal(models.TextChoices):
    CALLS = "calls", "appels"
    SEARCHES = "searches", "recherches sur le portail"
    VIEWS = "views", "consultations sur le portail"


class Dim(models.TextChoices):
    FICHE = "fiche", "fiche"
    THEME = "theme", "thème"


class Tally(models.Model):
    """How many times a key was met in one quarter hour (`start`, aware)."""

    signal = models.CharField(max_length=10, choices=Signal.choices)
    dim = models.CharField(max_length=6, choices=Dim.choices)
    key = models.CharField(max_length=80)
    start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "compte par quart d'heure"
        verbose_name_plural = "comptes par quart d'heure"
        constraints = [models.UniqueConstraint(fields=["signal", "dim", "key", "start"], name="surges_tally_bin")]
        indexes = [models.Index(fields=["signal", "dim", "start"])]

    def __str__(self) -> str:
        return f"{self.signal} {self.dim}={self.key} {self.start:%Y-%m-%d %H:%M} : {self.count}"


class Cursor(models.Model):
    """Where the last scan stopped reading a source (`wrapups`, `searches`: the last row id read), and
    `lock`, the row each scan updates first so that two processes never count the same rows twice."""

    name = models.CharField(max_length=20, primary_key=True)
    value = models.BigIntegerField(default=0)
    since = models.DateTimeField("compté depuis", null=True, blank=True)

    class Meta:
        verbose_name = "curseur de lecture"
        verbose_name_plural = "curseurs de lecture"

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"


class SeenViews(models.Model):
    """The portal's daily view counter of a fiche as the last scan read it: the next one counts the
    difference in its own quarter hour."""

    fiche_id = models.CharField(max_length=80)
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fiche_id", "day"], name="surges_seen_views_day")]

    def __str__(self) -> str:
        return f"{self.fiche_id} {self.day} : {self.views}"


class Surge(models.Model):
    signal = models.CharField("signal", max_length=10, choices=Signal.choices)
    dim = models.CharField("sur", max_length=6, choices=Dim.choices)
    key = models.CharField("fiche ou thème", max_length=80)
    started = models.DateTimeField("début")
    ended = models.DateTimeField("fin", null=True, blank=True)
    observed = models.PositiveIntegerField("dernière heure", default=0)
    expected = models.FloatField("attendu sur une heure", default=0)
    ratio = models.FloatField("rapport", default=0)
    peak_ratio = models.FloatField("rapport au plus haut", default=0)
    peak_observed = models.PositiveIntegerField("dernière heure au plus haut", default=0)
    extra_agents = models.PositiveSmallIntegerField(
        "agents supplémentaires", null=True, blank=True,
        help_text="Pour un pic d'appels : les agents au téléphone que l'excès demande (Erlang A).")
    updated = models.DateTimeField("relevé le")

    class Meta:
        verbose_name = "pic d'actualité"
        verbose_name_plural = "pics d'actualité"
        ordering = ["-started"]
        constraints = [models.UniqueConstraint(fields=["signal", "dim", "key"], condition=models.Q(ended__isnull=True),
                                               name="surges_one_open_surge")]

    def __str__(self) -> str:
        return f"{self.get_signal_display()} {self.dim}={self.key} ×{self.peak_ratio:.1f}"
