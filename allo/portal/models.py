"""Citizen portal records: anonymous feedback, callback requests, search and view analytics.

Personal data is limited to what a callback needs (a phone number and a short subject) and is
purged after settings.RETENTION_DAYS (see `allo.portal.callbacks.purge_expired`). Feedback and
analytics are anonymous: no IP address, no session, no user is stored with them.
"""

from __future__ import annotations

from django.db import models


class Feedback(models.Model):
    """« Cette réponse vous a-t-elle aidé ? » on a public fiche."""

    fiche = models.ForeignKey("kb.Fiche", on_delete=models.CASCADE, related_name="citizen_feedback")
    fiche_version = models.PositiveIntegerField("version de la fiche", default=0)
    helpful = models.BooleanField("utile")
    comment = models.TextField("commentaire", blank=True, max_length=1000)
    created_at = models.DateTimeField("reçu le", auto_now_add=True)

    class Meta:
        verbose_name = "avis d'usager"
        verbose_name_plural = "avis d'usagers"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["fiche", "created_at"])]

    def __str__(self) -> str:
        return f"{'Oui' if self.helpful else 'Non'} — {self.fiche_id}"


class CallbackRequest(models.Model):
    """A citizen's request to be called back, handed to the live router (see allo.portal.live)."""

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        FORWARDED = "forwarded", "Transmise au routage"
        DONE = "done", "Traitée"
        CANCELLED = "cancelled", "Annulée"

    phone_number = models.CharField("numéro (E.164)", max_length=20)
    slot_start = models.DateTimeField("début du créneau")
    slot_end = models.DateTimeField("fin du créneau")
    theme = models.CharField("thème", max_length=60, blank=True)
    subject = models.CharField("objet", max_length=200)
    consent_at = models.DateTimeField("consentement donné le")
    status = models.CharField("statut", max_length=12, choices=Status.choices, default=Status.PENDING)
    contact_ref = models.CharField("référence du contact dans le routage", max_length=60, blank=True)
    created_at = models.DateTimeField("reçue le", auto_now_add=True)
    forwarded_at = models.DateTimeField("transmise le", null=True, blank=True)

    class Meta:
        verbose_name = "demande de rappel"
        verbose_name_plural = "demandes de rappel"
        ordering = ["slot_start", "created_at"]
        indexes = [models.Index(fields=["status", "slot_start"]), models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"Rappel {self.slot_start:%d/%m/%Y %H:%M} ({self.get_status_display()})"


class SearchLog(models.Model):
    """Public searches: the normalised query and what it found, and how many times it was asked in
    one batch (the server writes identical searches of the same day as one row); no personal data,
    no time of day."""

    day = models.DateField("jour", db_index=True)
    query = models.CharField("recherche (normalisée)", max_length=200)
    theme = models.CharField("filtre de thème", max_length=60, blank=True)
    result_count = models.PositiveSmallIntegerField("résultats")
    top_hit = models.CharField("premier résultat", max_length=80, blank=True)
    low_confidence = models.BooleanField("confiance faible")
    searches = models.PositiveIntegerField("nombre de recherches", default=1)

    class Meta:
        verbose_name = "recherche publique"
        verbose_name_plural = "recherches publiques"
        indexes = [models.Index(fields=["day", "query"])]

    def __str__(self) -> str:
        return f"{self.day} « {self.query} » ({self.result_count})"


class FicheViewDaily(models.Model):
    """Daily counter of public views of a fiche."""

    fiche = models.ForeignKey("kb.Fiche", on_delete=models.CASCADE, related_name="+")
    day = models.DateField("jour")
    views = models.PositiveIntegerField("consultations", default=0)

    class Meta:
        verbose_name = "consultations du jour"
        verbose_name_plural = "consultations par jour"
        constraints = [models.UniqueConstraint(fields=["fiche", "day"], name="portal_fiche_view_day")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.fiche_id} {self.day} : {self.views}"
