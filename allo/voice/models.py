"""Agents' SIP accounts (issue 11): the secret of each agent's phone, stored as HA1 only, its
registered state as the voice edge last reported it, and the audit of who generated or reset it; and
the announcements an administrator recorded in place of the spoken ones."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from allo.voice.prompts import RECORDABLE


class SipAccount(models.Model):
    """One agent's SIP account: its user part is the Allô username.

    Only HA1 = MD5(username:realm:password) is kept, never the password: it is what Kamailio's digest
    check needs (pv_auth_check with the HA1 flag), and it opens nothing else (not the agent's Allô
    password, not another realm). HA1 contains the realm: if ALLO_VOICE_SIP_DOMAIN changes, every
    stored HA1 stops matching (the edge skips accounts of another realm) and each agent generates a
    new password on its desk."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sip_account",
                                verbose_name="agent")
    ha1 = models.CharField("HA1 (MD5 identifiant:domaine:mot de passe)", max_length=32, blank=True,
                           help_text="Vide : pas de mot de passe (réinitialisé), le téléphone est refusé.")
    realm = models.CharField("domaine SIP", max_length=255, blank=True)
    updated = models.DateTimeField("modifié le", auto_now=True)
    registered = models.BooleanField("téléphone enregistré", default=False)
    registered_changed = models.DateTimeField("état du téléphone reçu le", null=True, blank=True)

    class Meta:
        verbose_name = "compte SIP"
        verbose_name_plural = "comptes SIP des agents"
        ordering = ["user__username"]

    def __str__(self) -> str:
        return self.user.get_username()


class SipAccountEvent(models.Model):
    """Audit: an agent generated its SIP password, or an administrator reset it."""

    class Action(models.TextChoices):
        GENERATED = "generated", "Mot de passe SIP généré par l'agent"
        RESET = "reset", "Mot de passe SIP réinitialisé"

    created = models.DateTimeField("le", auto_now_add=True, db_index=True)
    action = models.CharField("action", max_length=20, choices=Action.choices)
    agent = models.CharField("agent", max_length=150)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+", verbose_name="par")

    class Meta:
        verbose_name = "événement de compte SIP"
        verbose_name_plural = "journal des comptes SIP"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.action} {self.agent}"


class RecordedPrompt(models.Model):
    """An announcement recorded by an administrator, played by the voice edge instead of the one espeak-ng
    speaks (allo.voice.prompts.RECORDABLE). The audio is kept in the database (a few hundred KB): every
    voice node gets it through the telephony API, wherever it runs."""

    name = models.CharField("annonce", max_length=40, choices=sorted(RECORDABLE.items()), unique=True)
    audio = models.BinaryField("enregistrement (WAV)")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    seconds = models.FloatField("durée (s)")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="déposée par")
    uploaded = models.DateTimeField("déposée le", auto_now=True)

    class Meta:
        verbose_name = "annonce enregistrée"
        verbose_name_plural = "annonces enregistrées"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.get_name_display()
