"""History of calls and its stored KPI bins (docs/reports.md).

`CallRecord` holds one leg of a call at a queue: imported from a previous system (`allo history
import`) or derived from the live router's journal (`allo history rebuild`). `Stat` holds the
counters of every bin (15 min, hour, day, week, month; per dimension) the reports read, so a year
reports without reading a single call.
"""

from __future__ import annotations

from django.db import models


class Queue(models.Model):
    """A queue calls were offered to: a live one ("n1", an N2 centre's code) or one known only from the
    history of a previous system."""

    code = models.CharField("code", max_length=60, unique=True)
    name = models.CharField("nom", max_length=120, blank=True)
    level = models.PositiveSmallIntegerField("niveau", default=1)
    centre = models.CharField("centre", max_length=40, blank=True)
    history_only = models.BooleanField("historique seulement", default=False,
                                       help_text="File d'un système précédent, connue par l'import de l'historique.")

    class Meta:
        verbose_name = "file (historique)"
        verbose_name_plural = "files (historique)"
        ordering = ["level", "code"]

    def __str__(self) -> str:
        return self.name or self.code


class ImportBatch(models.Model):
    """One imported file: the same file is refused twice."""

    filename = models.CharField("fichier", max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    rows = models.PositiveIntegerField("appels", default=0)
    first_day = models.DateField("premier jour", null=True)
    last_day = models.DateField("dernier jour", null=True)
    created = models.DateTimeField("importé le", auto_now_add=True)

    class Meta:
        verbose_name = "import d'historique"
        verbose_name_plural = "imports d'historique"

    def __str__(self) -> str:
        return self.filename


class CallRecord(models.Model):
    class Source(models.TextChoices):
        IMPORT = "import", "Import"
        LIVE = "live", "Plateforme"

    arrived_at = models.DateTimeField("arrivée", db_index=True)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+", verbose_name="file")
    level = models.PositiveSmallIntegerField("niveau", default=1)
    outcome = models.CharField("issue", max_length=10)  # answered, abandoned, other
    waited_s = models.FloatField("attente (s)")
    talk_s = models.FloatField("communication (s)", null=True)  # null: unknown (lost), out of AHT
    wrap_s = models.FloatField("post-appel (s)", default=0)
    agent = models.CharField("agent", max_length=150, blank=True)
    theme = models.CharField("thème", max_length=120, blank=True)
    origin = models.CharField("numéro composé", max_length=32, blank=True)
    fiche = models.CharField(
        "fiche principale", max_length=80, blank=True,
        help_text="La première fiche citée à la clôture de niveau 1 (identifiant de la base de connaissances) : "
                  "un appel qui en cite plusieurs compte une fois, sous la première, et les totaux par fiche "
                  "restent égaux au nombre d'appels.")
    destination = models.CharField("transféré vers", max_length=40, blank=True)
    source = models.CharField("source", max_length=8, choices=Source.choices)
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.CASCADE, related_name="records")
    key = models.CharField("appel et niveau", max_length=80, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = "appel (historique)"
        verbose_name_plural = "appels (historique)"

    def __str__(self) -> str:
        return f"{self.arrived_at:%Y-%m-%d %H:%M} {self.queue_id} {self.outcome}"


class Stat(models.Model):
    """The counters of one bin: `grain` 15m, 1h (slot = quarter or hour of the local day), 1d, 1w (period =
    Monday), 1M (period = the 1st); `dim` all, queue, centre, destination, theme, origin, fiche, agent."""

    grain = models.CharField(max_length=3)
    dim = models.CharField(max_length=12)
    key = models.CharField(max_length=150, blank=True)
    period = models.DateField()
    slot = models.PositiveSmallIntegerField(default=0)
    offered = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    answered_t = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    abandoned_short = models.PositiveIntegerField(default=0)
    abandoned_t = models.PositiveIntegerField(default=0)
    wait_s = models.FloatField(default=0)
    handled = models.PositiveIntegerField(default=0)
    talk_s = models.FloatField(default=0)
    wrap_s = models.FloatField(default=0)

    class Meta:
        verbose_name = "agrégat"
        constraints = [models.UniqueConstraint(fields=["dim", "key", "grain", "period", "slot"], name="stat_bin")]

    def __str__(self) -> str:
        return f"{self.grain} {self.dim}={self.key} {self.period} {self.slot}"
