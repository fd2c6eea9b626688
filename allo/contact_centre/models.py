"""Durable state of the live contact centre.

`RouterInput` is the router's append-only journal: every input (call event, agent action, timer)
is written here before the engine sees it; `seq` is the order in which the router applied it,
`decisions` what the engine answered. `RouterSnapshot` lets a restart skip the journal's head.
`Contact`, `AgentStatus` are projections the router keeps for the desks and the wallboard;
`WrapUp` and `CallerCardView` are written by the desks.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RouterInput(models.Model):
    key = models.CharField("clé d'idempotence", max_length=120, unique=True)
    type = models.CharField("type", max_length=40)
    payload = models.JSONField("données", default=dict)
    created = models.DateTimeField("reçu le", auto_now_add=True)
    seq = models.BigIntegerField("ordre d'application", null=True, blank=True, unique=True)
    t = models.FloatField("temps moteur", null=True, blank=True)
    rejected = models.CharField("refus", max_length=200, blank=True)
    decisions = models.JSONField("décisions", null=True, blank=True)

    class Meta:
        verbose_name = "entrée du routeur"
        verbose_name_plural = "entrées du routeur"
        indexes = [models.Index(fields=["seq"], name="router_input_pending", condition=models.Q(seq__isnull=True))]



    def __str__(self) -> str:
        return f"{self.seq} {self.type} {self.key}"



class RouterSnapshot(models.Model):
    seq = models.BigIntegerField("après l'entrée", unique=True)
    config = models.JSONField()
    state = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)



    def __str__(self) -> str:
        return f"snapshot {self.seq}"



class Contact(models.Model):
    """One contact (call or callback) as the router last saw it."""

    call_id = models.CharField("identifiant", max_length=64, primary_key=True)
    channel = models.CharField("canal", max_length=20, default="call")
    caller = models.CharField("numéro de l'appelant", max_length=32, blank=True, db_index=True)
    dialed = models.CharField("numéro appelé", max_length=32, blank=True)
    ivr_choice = models.CharField("choix du serveur vocal", max_length=20, blank=True)
    created = models.DateTimeField("arrivée", auto_now_add=True, db_index=True)
    state = models.CharField("état", max_length=20, default="new", db_index=True)
    queue = models.CharField("file", max_length=60, blank=True)
    level = models.PositiveSmallIntegerField("niveau", default=1)
    queued_t = models.FloatField(null=True, blank=True)
    arrived_t = models.FloatField(null=True, blank=True)
    offered_t = models.FloatField(null=True, blank=True)
    agent = models.CharField("agent", max_length=150, blank=True, db_index=True)
    waited_s = models.FloatField("attente au niveau 1", null=True, blank=True)
    waited_n2_s = models.FloatField("attente au niveau 2", null=True, blank=True)
    answered = models.BooleanField("répondu", default=False)
    transferred_to = models.CharField("transféré vers", max_length=40, blank=True)
    # a consult under way (warm transfer): the N2 expert the N1 agent talks with while the caller holds;
    # once it ends, how it ended (allo.routing.events.ConsultEnded.outcome), for the N1 agent's desk
    consult_agent = models.CharField("expert consulté", max_length=150, blank=True)
    consult_outcome = models.CharField("fin de la consultation", max_length=20, blank=True)
    outcome = models.CharField("état final", max_length=20, blank=True)
    context = models.JSONField("contexte", null=True, blank=True)
    request_id = models.IntegerField("demande de rappel", null=True, blank=True)
    # the partner administration whose switchboard sent the call (allo/partners, docs/partners.md)
    partner = models.ForeignKey("partners.Partner", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="calls", verbose_name="transmis par")

    class Meta:
        verbose_name = "contact"
        verbose_name_plural = "contacts"
        ordering = ["-created"]



    def __str__(self) -> str:
        return self.call_id



class AgentStatus(models.Model):
    """An agent as the router last saw it, with today's activity (the supervisors' live floor)."""

    agent = models.CharField(max_length=150, primary_key=True)
    level = models.PositiveSmallIntegerField(default=1)
    state = models.CharField(max_length=20, default="offline")
    since_t = models.FloatField(default=0)
    contact = models.CharField(max_length=64, blank=True)
    reason = models.CharField("motif de pause", max_length=80, blank=True)
    queues = models.CharField("files", max_length=200, blank=True)  # its skills' queue ids, comma-separated
    # today's activity (engine-local `day`), with kpi's definitions: calls handled, talk and wrap-up time
    day = models.DateField(null=True, blank=True)
    handled = models.PositiveIntegerField(default=0)
    talk_s = models.FloatField(default=0)
    wrap_s = models.FloatField(default=0)



    def __str__(self) -> str:
        return f"{self.agent}: {self.state}"



class OutcomeKind(models.TextChoices):
    """What an outcome does (the desk acts on it) and how reports group outcomes."""

    ANSWERED = "answered", "Répondu"
    TRANSFERRED = "transferred", "Transféré"
    CALLBACK = "callback", "Rappel programmé"
    OUT_OF_SCOPE = "out_of_scope", "Hors champ"
    NO_ANSWER = "no_answer", "Sans réponse"


class WrapUpOutcome(models.Model):
    """An outcome an agent picks at the end of a call (« issue »); the list is the administrator's."""

    code = models.SlugField("code", max_length=40, unique=True,
                            help_text="Identifiant stable, repris dans les rapports et les exports.")
    label = models.CharField("libellé", max_length=120)
    kind = models.CharField("effet", max_length=20, choices=OutcomeKind.choices,
                            help_text="Ce que fait le poste : clôturer, transférer au niveau 2 ou programmer un rappel.")
    reason_required = models.BooleanField("motif obligatoire", default=False)
    position = models.PositiveSmallIntegerField("ordre", default=0)
    active = models.BooleanField("proposée aux agents", default=True,
                                 help_text="Décochez plutôt que supprimer : les clôtures passées la gardent.")

    class Meta:
        verbose_name = "issue d'appel"
        verbose_name_plural = "issues d'appel"
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class WrapUpReason(models.Model):
    """A reason code (« motif ») that explains an outcome: why a transfer, why out of scope..."""

    code = models.SlugField("code", max_length=40, unique=True)
    label = models.CharField("libellé", max_length=160)
    outcomes = models.ManyToManyField(WrapUpOutcome, blank=True, related_name="reasons", verbose_name="issues",
                                      help_text="Les issues pour lesquelles ce motif est proposé (aucune : toutes).")
    position = models.PositiveSmallIntegerField("ordre", default=0)
    active = models.BooleanField("proposé aux agents", default=True)

    class Meta:
        verbose_name = "motif de clôture"
        verbose_name_plural = "motifs de clôture"
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class WrapUp(models.Model):
    """An agent's wrap-up of a call: the source of the reports (by outcome, reason, theme, fiche)."""

    Outcome = OutcomeKind  # the outcome's kind, kept here for the reports' grouping

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="wrapups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    level = models.PositiveSmallIntegerField(default=1)
    fiches = models.JSONField("fiches utilisées", default=list)
    theme = models.ForeignKey("kb.Theme", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name="thème", help_text="Le nœud de l'arbre des thèmes choisi.")
    top_theme = models.ForeignKey("kb.Theme", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                  verbose_name="thème de premier niveau",
                                  help_text="Le thème (parmi les 22) sous lequel se trouve le nœud : les rapports "
                                            "regroupent par lui.")
    outcome = models.CharField("effet de l'issue", max_length=20, choices=OutcomeKind.choices)
    outcome_code = models.ForeignKey(WrapUpOutcome, null=True, on_delete=models.PROTECT, related_name="+",
                                     verbose_name="issue")
    reason = models.ForeignKey(WrapUpReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name="motif")
    note = models.TextField("note", blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "clôture d'appel"
        verbose_name_plural = "clôtures d'appel"

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.outcome}"

    @property
    def outcome_label(self) -> str:
        return self.outcome_code.label if self.outcome_code_id else self.get_outcome_display()



class AuditAction(models.TextChoices):
    CARD_VIEW = "", "Consultation de la fiche de l'appelant"
    END_CALL = "end_call", "Fin d'appel forcée"
    PAUSE = "pause", "Mise en pause forcée"
    LOGOUT = "logout", "Déconnexion forcée"


class CallerCardView(models.Model):
    """Audit trail: who saw which caller's personal data (`action` empty), or which supervisor forced
    an agent's pause or logout or ended a call (`action`, `agent`), when."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                             verbose_name="utilisateur")
    contact = models.CharField("appel", max_length=64, blank=True)
    caller = models.CharField("numéro", max_length=32, blank=True)
    action = models.CharField("action", max_length=20, blank=True, choices=AuditAction.choices)
    agent = models.CharField("agent", max_length=150, blank=True)
    created = models.DateTimeField("le", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "entrée du journal d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-created"]



    def __str__(self) -> str:
        return f"{self.user_id} {self.contact}"



class QueueThreshold(models.Model):
    """Alert thresholds of a centre's queue, set by the administrator: the wallboard colours the queue
    and raises an alert when one is crossed."""

    centre = models.OneToOneField("org.Centre", on_delete=models.CASCADE, related_name="thresholds",
                                  verbose_name="centre (sa file)")
    service_level_min = models.PositiveSmallIntegerField(
        "niveau de service minimal (%)", null=True, blank=True,
        help_text="Alerte sous ce niveau de service du jour : répondus en 20 s pour la file du niveau 1, "
                  "en 60 s pour une file de niveau 2.")
    waiting_max = models.PositiveIntegerField("appels en attente au plus", null=True, blank=True,
                                              help_text="Alerte au-delà de ce nombre d'appels en attente.")
    longest_wait_max_s = models.PositiveIntegerField("attente la plus longue au plus (s)", null=True, blank=True,
                                                     help_text="Alerte quand un appel attend depuis plus longtemps.")

    class Meta:
        verbose_name = "seuil d'alerte d'une file"
        verbose_name_plural = "seuils d'alerte des files"

    def __str__(self) -> str:
        return f"Seuils : {self.centre}"


class ApiToken(models.Model):
    class Role(models.TextChoices):
        TELEPHONY = "telephony", "Connecteur téléphonique"
        SUPERVISOR = "supervisor", "Lecture supervision"

    role = models.CharField(max_length=20, choices=Role.choices)
    digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=120, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.role} {self.label}"


class TelephonyCommand(models.Model):
    """A command for the telephony connector (bridge, transfer, play, hangup), written by the router in
    the transaction that stores the decision asking for it. `seq` is the command's id and its order:
    the connector acknowledges it, and at each connection gets again every command after the last one
    acknowledged (docs/contact_centre.md, « Telephony commands »)."""

    seq = models.BigAutoField("numéro", primary_key=True)
    call_id = models.CharField("appel", max_length=64)
    command = models.JSONField("commande")
    created = models.DateTimeField("émise le", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "commande téléphonique"
        verbose_name_plural = "commandes téléphoniques"

    def __str__(self) -> str:
        return f"{self.seq} {self.command.get('command')} {self.call_id}"


class TelephonyAck(models.Model):
    """How far a connector acknowledged the command stream: `telephony` for the single connector (an
    adapter restarted with a new token goes on where the previous one stopped), `node:<name>` for each
    named voice node (allo/contact_centre/telephony/services.py)."""

    stream = models.CharField(max_length=20, primary_key=True, default="telephony")
    seq = models.BigIntegerField("acquittée jusqu'à", default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "acquittement du connecteur"
        verbose_name_plural = "acquittements du connecteur"

    def __str__(self) -> str:
        return f"{self.stream} ≤ {self.seq}"
