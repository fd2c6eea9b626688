"""Partner administrations: the town halls, prefectures, CAF, CPAM... whose switchboards forward or
overflow their calls to the line (docs/partners.md).

A partner has entry numbers (the line's numbers its switchboard forwards to: the dialed number of a
call tells which partner sent it), opening hours and closures (the org app's WeeklyRange and
DatedClosure, read by the routing core's OpeningHours), local information as fiches of the local
collection, and contacts for the cases returned to it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from allo.org.models import DatedClosure, WeeklyRange


class Partner(models.Model):
    class Kind(models.TextChoices):
        TOWN_HALL = "mairie", "Mairie"
        PREFECTURE = "prefecture", "Préfecture"
        SUBPREFECTURE = "sous-prefecture", "Sous-préfecture"
        CAF = "caf", "Caisse d'allocations familiales (CAF)"
        CPAM = "cpam", "Caisse primaire d'assurance maladie (CPAM)"
        FRANCE_TRAVAIL = "france-travail", "France Travail"
        DEPARTMENT = "departement", "Conseil départemental"
        OTHER = "autre", "Autre administration"

    class Acceptance(models.TextChoices):
        ALWAYS = "always", "Toujours"
        OVERFLOW = "overflow", "Seulement en débordement"

    class Priority(models.IntegerChoices):
        # The routing engine's contact priority (lower first): the line's own calls are 0, callbacks 1.
        HIGH = -1, "Prioritaire : avant les autres appels en attente"
        NORMAL = 0, "Normale : comme les appels directs au 3939"
        LOW = 1, "Basse : après les appels directs au 3939"

    code = models.SlugField("code", max_length=60, unique=True,
                            help_text="Identifiant stable (par ex. mairie-rouen), repris dans les rapports.")
    name = models.CharField("nom", max_length=160, help_text="Tel que l'opérateur l'annonce : « Mairie de Rouen ».")
    kind = models.CharField("type d'administration", max_length=20, choices=Kind.choices)
    address = models.TextField("adresse", blank=True)
    website = models.URLField("site internet", blank=True)
    siret = models.CharField(
        "SIRET", max_length=14, blank=True, validators=[RegexValidator(r"^\d{14}$", "Un SIRET a 14 chiffres.")],
        help_text="Le SIRET de l'administration : ses agents se connectent avec ProConnect s'il correspond.")
    acceptance = models.CharField(
        "appels acceptés", max_length=10, choices=Acceptance.choices, default=Acceptance.ALWAYS,
        help_text="« Seulement en débordement » : seuls les appels arrivés sur un numéro d'entrée de débordement "
                  "sont pris pour le compte du partenaire ; les autres sont traités comme des appels directs.")
    priority = models.SmallIntegerField("priorité dans la file", choices=Priority.choices, default=Priority.NORMAL)
    closed_on_public_holidays = models.BooleanField("fermé les jours fériés", default=True)
    holiday_subdivision = models.CharField(
        "calendrier local des jours fériés", max_length=8, blank=True,
        help_text="Code de subdivision du calendrier français, par ex. 57 pour la Moselle (Alsace-Moselle).")
    fiches = models.ManyToManyField(
        "kb.Fiche", blank=True, related_name="partners", verbose_name="informations locales",
        limit_choices_to={"collection": "locale"},
        help_text="Fiches de la collection locale (adresses, horaires, services, démarches locales) montrées à "
                  "l'opérateur avec la carte du partenaire.")
    active = models.BooleanField("actif", default=True,
                                 help_text="Décochez plutôt que supprimer : les appels passés gardent leur partenaire.")

    class Meta:
        verbose_name = "partenaire"
        verbose_name_plural = "partenaires"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def opening_hours(self):
        """This partner's hours as the routing core's pure object (public holidays, closures)."""
        from allo.org.hours import build_hours

        return build_hours(self.opening_periods.all(), self.closures.all(), self.closed_on_public_holidays,
                           self.holiday_subdivision)


class EntryNumber(models.Model):
    """A number of the line that this partner's switchboard forwards calls to (the call's `dialed`)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="entry_numbers",
                                verbose_name="partenaire")
    number = models.CharField(
        "numéro", max_length=20, unique=True,
        error_messages={"unique": "Ce numéro est déjà le numéro d'entrée d'un partenaire."},
        help_text="Un numéro français, enregistré au format international (+33…). Exemple : 02 61 91 00 01.")
    overflow = models.BooleanField(
        "numéro de débordement", default=False,
        help_text="Le standard du partenaire ne renvoie vers ce numéro que lorsqu'il est saturé (renvoi sur "
                  "occupation ou non-réponse).")
    label = models.CharField("libellé", max_length=120, blank=True, help_text="Par ex. « standard de l'accueil ».")

    class Meta:
        verbose_name = "numéro d'entrée"
        verbose_name_plural = "numéros d'entrée"
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        if self.number:
            from allo.partners.services import normalise_number

            try:
                self.number = normalise_number(self.number)
            except ValidationError as exc:
                raise ValidationError({"number": exc.messages}) from None


class PartnerOpeningPeriod(WeeklyRange):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="opening_periods")

    class Meta:
        verbose_name = "plage d'ouverture"
        verbose_name_plural = "plages d'ouverture"
        ordering = ["partner", "weekday", "opens"]
        constraints = [models.CheckConstraint(condition=models.Q(closes__gt=models.F("opens")),
                                              name="partner_opening_period_ordered")]


class PartnerClosure(DatedClosure):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="closures")

    class Meta:
        verbose_name = "fermeture exceptionnelle"
        verbose_name_plural = "fermetures exceptionnelles"
        ordering = ["start"]
        constraints = [models.CheckConstraint(condition=models.Q(end__gte=models.F("start")),
                                              name="partner_closure_ordered")]


class PartnerContact(models.Model):
    """Who at the partner receives the cases the line returns to it (fiches de liaison)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField("nom", max_length=120)
    role = models.CharField("fonction ou service", max_length=120, blank=True)
    email = models.EmailField("adresse électronique")
    phone = models.CharField("téléphone", max_length=20, blank=True)
    receives_cases = models.BooleanField("reçoit les dossiers transmis", default=True)

    class Meta:
        verbose_name = "contact pour les dossiers transmis"
        verbose_name_plural = "contacts pour les dossiers transmis"
        ordering = ["partner", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.partner})"

    def clean(self) -> None:
        if self.phone:
            from allo.partners.services import normalise_number

            try:
                self.phone = normalise_number(self.phone)
            except ValidationError as exc:
                raise ValidationError({"phone": exc.messages}) from None


class PartnerAgent(models.Model):
    """An account of the partner's own staff (role `partner`): it sees that partner's space only."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_agent",
                                verbose_name="compte")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="agents", verbose_name="partenaire")

    class Meta:
        verbose_name = "compte d'un partenaire"
        verbose_name_plural = "comptes des partenaires"

    def __str__(self) -> str:
        return f"{self.user} ({self.partner})"


class Liaison(models.Model):
    """A « fiche de liaison »: a case an N1 agent returns to the partner administration (a file, an
    appointment, a document). Personal data (the caller's name, the request, a callback number given
    with consent only) is purged after the retention period (`allo purge`)."""

    class Status(models.TextChoices):
        SENT = "sent", "Transmise"
        HANDLED = "handled", "Traitée"

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="liaisons",
                                verbose_name="partenaire")
    contact = models.ForeignKey("contact_centre.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="liaisons", verbose_name="appel")
    created = models.DateTimeField("transmise le", auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="agent")
    caller_name = models.CharField("nom de l'appelant", max_length=120)
    request = models.TextField("demande", max_length=2000)
    file_number = models.CharField("numéro de dossier", max_length=60, blank=True)
    callback_consent = models.BooleanField("accepte d'être rappelé", default=False)
    # only with consent (checked by the desk's form and by a constraint): least data
    callback_number = models.CharField("numéro de rappel", max_length=20, blank=True)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.SENT, db_index=True)
    handled_at = models.DateTimeField("traitée le", null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="traitée par")
    answer = models.TextField("réponse du partenaire", max_length=1000, blank=True)
    emailed_to = models.TextField("envoyée par courriel à", blank=True)
    email_error = models.CharField("échec de l'envoi du courriel", max_length=300, blank=True)
    # a refused delivery is tried again later (liaisons.resend_due): SMTP relays of administrations
    # go down for maintenance; the partner must still get the mail, not only the space's list
    email_attempts = models.PositiveSmallIntegerField("envois tentés", default=0)
    email_retry_at = models.DateTimeField("prochain essai d'envoi", null=True, blank=True, db_index=True)
    # the address of the site the fiche was sent from, for the link in a mail sent again later
    site_url = models.CharField("adresse du site", max_length=200, blank=True)

    class Meta:
        verbose_name = "fiche de liaison"
        verbose_name_plural = "fiches de liaison"
        ordering = ["-created"]
        constraints = [models.CheckConstraint(
            condition=models.Q(callback_consent=True) | models.Q(callback_number=""),
            name="liaison_number_only_with_consent")]

    def __str__(self) -> str:
        return f"Fiche de liaison n° {self.pk} ({self.partner})"


class LiaisonAudit(models.Model):
    """Audit trail of the fiches de liaison: who created, saw or handled which one, when."""

    class Action(models.TextChoices):
        CREATED = "created", "Création"
        VIEWED = "viewed", "Consultation"
        HANDLED = "handled", "Traitement"
        EXPORTED = "exported", "Export"

    liaison = models.ForeignKey(Liaison, on_delete=models.CASCADE, related_name="audit", verbose_name="fiche")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                             verbose_name="utilisateur")
    action = models.CharField("action", max_length=10, choices=Action.choices)
    created = models.DateTimeField("le", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "entrée du journal des fiches de liaison"
        verbose_name_plural = "journal des fiches de liaison"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.liaison_id}"
