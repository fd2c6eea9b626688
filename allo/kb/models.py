"""Knowledge-base fiches, their versions and the correction workflow.

A fiche's row holds its current content and status; every save is kept by django-simple-history
with who, when and why. `version` counts publications: publishing (or applying an accepted
correction to a published fiche) increments it, so any two versions can be compared.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from allo.kb import content
from allo.kb.sections import AUDIENCES, LEVEL2, SECTIONS, SHORT_ANSWER_MAX_WORDS
from allo.kb.text import markdown_to_text


class Theme(models.Model):
    """A node of the theme tree. Top-level themes are ours (stable slugs, `themes.yaml`) and each is
    tied to service-public.fr's own theme by `dila_id`; below them, the sous-thèmes, dossiers and
    sous-dossiers come from DILA's N files (slug = their lower-cased id), in DILA's order."""

    class Kind(models.TextChoices):
        THEME = "theme", "Thème"
        SUBTHEME = "sous-theme", "Sous-thème"
        DOSSIER = "dossier", "Dossier"
        SUBDOSSIER = "sous-dossier", "Sous-dossier"

    slug = models.SlugField("identifiant", primary_key=True, max_length=60)
    label = models.CharField("libellé", max_length=200)
    position = models.PositiveSmallIntegerField("ordre", default=0)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children",
                               verbose_name="parent")
    kind = models.CharField("niveau", max_length=12, choices=Kind.choices, default=Kind.THEME)
    audience = models.CharField("public", max_length=20, choices=AUDIENCES.items(), blank=True)
    dila_id = models.CharField("identifiant DILA", max_length=30, unique=True, null=True, blank=True)
    introduction = models.TextField("introduction", blank=True)
    active = models.BooleanField("présent dans l'archive", default=True,
                                 help_text="Faux pour un nœud que la dernière archive DILA ne contient plus.")

    class Meta:
        verbose_name = "thème"
        verbose_name_plural = "thèmes"
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class FicheQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Fiche.Status.PUBLISHED)

    def official(self):
        return self.filter(collection=Fiche.Collection.OFFICIAL)

    def local(self):
        return self.filter(collection=Fiche.Collection.LOCAL)

    def due_for_review(self, today: dt.date | None = None):
        return self.exclude(status=Fiche.Status.ARCHIVED).filter(review_by__lt=today or timezone.localdate())


class Fiche(models.Model):
    """A fiche of the knowledge base. Two collections share this table: the official service-public.fr
    fiches (DILA's text in `OfficialText`, written only by the importer; id = DILA's, F1234) and
    the line's own local fiches (Markdown `sections`, edited here; id = a slug)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        IN_REVIEW = "review", "En relecture"
        PUBLISHED = "published", "Publiée"
        ARCHIVED = "archived", "Archivée"

    class Collection(models.TextChoices):
        OFFICIAL = "service-public", "Service-public.fr (DILA)"
        LOCAL = "locale", "Fiches du 3939"

    class Kind(models.TextChoices):
        INFORMATION = "information", "Fiche d'information"
        QUESTION = "question-reponse", "Question-réponse"
        GUIDED = "recherche-guidee", "Recherche guidée"
        HOW_TO = "comment-faire-si", "Comment faire si"
        LINKS = "liens-externes", "Fiche avec liens externes"

    class DilaStatus(models.TextChoices):
        UPCOMING = "a-venir", "Mise à jour à venir"
        ONGOING = "en-cours", "Mise à jour en cours"
        WITHDRAWN = "retiree", "Retirée de service-public.fr"

    id = models.SlugField("identifiant", primary_key=True, max_length=80)
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="fiches", verbose_name="thème")
    subtheme = models.CharField("sous-thème", max_length=120, blank=True)
    subtheme_slug = models.SlugField("sous-thème (identifiant)", max_length=120, blank=True, editable=False)
    audience = models.CharField("public", max_length=20, choices=AUDIENCES.items(), default="particulier")
    title = models.CharField("titre", max_length=200)
    short_answer = models.TextField(
        "réponse courte", help_text=f"Ce que l'opérateur lit à l'appelant : {SHORT_ANSWER_MAX_WORDS} mots au plus."
    )
    sections = models.JSONField("rubriques", default=dict, blank=True)
    sections_html = models.JSONField("rubriques (HTML assaini)", default=dict, blank=True, editable=False)
    keywords = models.JSONField("mots-clés", default=list, blank=True)
    phrasings = models.JSONField("formulations des usagers", default=list, blank=True)
    level2 = models.CharField("destination de niveau 2", max_length=20, choices=LEVEL2.items(), blank=True)
    references = models.JSONField("références", default=list, blank=True)
    review_by = models.DateField("à revoir avant le", null=True, blank=True)
    status = models.CharField("statut", max_length=12, choices=Status.choices, default=Status.DRAFT)
    popularity = models.PositiveSmallIntegerField(
        "popularité", default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    version = models.PositiveIntegerField("version publiée", default=0)
    source = models.CharField("origine", max_length=40, blank=True, help_text="demo, service-public.fr, ...")
    collection = models.CharField("collection", max_length=20, choices=Collection.choices, default=Collection.LOCAL)
    kind = models.CharField("type de fiche", max_length=20, choices=Kind.choices, blank=True)
    audiences = models.JSONField("publics", default=list, blank=True,
                                 help_text="Tous les publics de la fiche (un même texte publié sur plusieurs sites).")
    paths = models.JSONField("chemins dans les thèmes", default=list, blank=True,
                             help_text="Par public : les nœuds (identifiant, libellé) du thème à la fiche.")
    dila_status = models.CharField("état DILA", max_length=12, choices=DilaStatus.choices, blank=True)
    modified_on = models.DateField("modifiée le", null=True, blank=True,
                                   help_text="Date de dernière modification du texte (celle de la DILA pour une fiche "
                                             "service-public.fr).")
    important_change_on = models.DateField("dernière modification importante", null=True, blank=True)
    is_demo = models.BooleanField("contenu de démonstration", default=False)
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)
    published_at = models.DateTimeField("publiée le", null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["sections_html", "updated_at"])

    objects = FicheQuerySet.as_manager()

    class Meta:
        verbose_name = "fiche"
        verbose_name_plural = "fiches"
        ordering = ["theme", "title"]
        indexes = [models.Index(fields=["status", "theme"]), models.Index(fields=["review_by"]),
                   models.Index(fields=["collection", "status"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        # Rendered and sanitised once here, never at display time.
        self.sections = {key: text for key, text in (self.sections or {}).items() if (text or "").strip()}
        self.sections_html = {key: content.render(text) for key, text in self.sections.items()}
        self.subtheme_slug = slugify(self.subtheme)[:120]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        # DILA's own summary of an official fiche is what it is; the limit is for our spoken answers.
        if not self.is_official and content.word_count(self.short_answer) > SHORT_ANSWER_MAX_WORDS:
            errors["short_answer"] = (
                f"La réponse courte compte {content.word_count(self.short_answer)} mots : "
                f"{SHORT_ANSWER_MAX_WORDS} au plus, pour être lue en moins d'une minute."
            )
        unknown = sorted(set(self.sections or {}) - set(SECTIONS))
        if unknown:
            errors["sections"] = f"Rubriques inconnues : {', '.join(unknown)}."
        if errors:
            raise ValidationError(errors)

    @property
    def ordered_sections(self) -> list[tuple[str, str, str]]:
        """(key, French label, safe HTML) in display order."""
        return [(key, SECTIONS[key], self.sections_html.get(key, "")) for key in SECTIONS if key in self.sections]

    @property
    def is_official(self) -> bool:
        return self.collection == Fiche.Collection.OFFICIAL

    def search_body(self) -> str:
        return "\n".join(markdown_to_text(text) for text in self.sections.values())

    def save_with_reason(self, user, reason: str) -> None:
        """Save, keeping who and why in this version's history record."""
        self._change_reason = reason
        self._history_user = user
        self.save()

    def publish(self, user, reason: str) -> None:
        """A new published version, with who and why kept in the history."""
        self.status = Fiche.Status.PUBLISHED
        self.version += 1
        self.published_at = timezone.now()
        self.save_with_reason(user, reason)

    def save_revision(self, user, reason: str) -> None:
        """An edit: on a published fiche it publishes a new version, otherwise it is saved as is."""
        if self.status == Fiche.Status.PUBLISHED:
            self.publish(user, reason)
        else:
            self.save_with_reason(user, reason)


class OfficialText(models.Model):
    """DILA's text of an official fiche, as the importer parsed it: never edited in Allô.

    `document` is the parsed structure (allo/kb/importers/dila/document.py), rendered to HTML at
    display time; `text` is all of it as plain text (search, snippets, the coverage check); `digest`
    names the source files' bytes and the parser version, so a re-import skips what did not change.
    """

    fiche = models.OneToOneField(Fiche, primary_key=True, on_delete=models.CASCADE, related_name="official")
    document = models.JSONField("texte structuré", default=dict)
    text = models.TextField("texte brut", blank=True)
    search = models.JSONField("champs de recherche", default=dict, blank=True)
    digest = models.CharField("empreinte des sources", max_length=64, blank=True)
    files = models.JSONField("fichiers sources", default=list, blank=True)
    imported_at = models.DateTimeField("importé le", default=timezone.now)

    class Meta:
        verbose_name = "texte officiel"
        verbose_name_plural = "textes officiels"

    def __str__(self) -> str:
        return f"Texte DILA de {self.fiche_id}"


class Placement(models.Model):
    """A fiche listed under a node of the theme tree, at DILA's position."""

    node = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="placements")
    fiche = models.ForeignKey(Fiche, on_delete=models.CASCADE, related_name="placements")
    position = models.PositiveIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "place dans l'arborescence"
        verbose_name_plural = "places dans l'arborescence"
        ordering = ["node", "position"]
        constraints = [models.UniqueConstraint(fields=["node", "fiche"], name="kb_placement_node_fiche")]

    def __str__(self) -> str:
        return f"{self.fiche_id} dans {self.node_id}"


class Resource(models.Model):
    """A DILA resource a fiche points to: form (cerfa number and notice), online service, simulator,
    model letter, search tool, or an "où s'adresser" contact."""

    class Kind(models.TextChoices):
        FORM = "formulaire", "Formulaire"
        ONLINE = "teleservice", "Service en ligne"
        SIMULATOR = "simulateur", "Simulateur"
        MODEL = "modele", "Modèle de document"
        TOOL = "outil", "Outil de recherche"
        CONTACT = "contact", "Centre de contact"
        DEFINITION = "definition", "Définition"
        SIGLE = "sigle", "Sigle ou acronyme"
        OTHER = "autre", "Autre"

    id = models.CharField("identifiant DILA", primary_key=True, max_length=30)
    kind = models.CharField("type", max_length=12, choices=Kind.choices)
    title = models.CharField("titre", max_length=400)
    url = models.URLField("adresse", max_length=1000, blank=True)
    cerfa = models.CharField("numéro cerfa", max_length=40, blank=True)
    other_number = models.CharField("autre numéro", max_length=80, blank=True)
    description = models.TextField("description", blank=True)
    notices = models.JSONField("notices", default=list, blank=True, help_text="[{titre, adresse, cerfa}]")
    audiences = models.JSONField("publics", default=list, blank=True)
    modified_on = models.DateField("modifiée le", null=True, blank=True)
    digest = models.CharField("empreinte", max_length=64, blank=True)
    active = models.BooleanField("présent dans l'archive", default=True)

    class Meta:
        verbose_name = "ressource DILA"
        verbose_name_plural = "ressources DILA"
        ordering = ["title"]
        indexes = [models.Index(fields=["cerfa"])]

    def __str__(self) -> str:
        return self.title


class Redirect(models.Model):
    """An old DILA id that now leads elsewhere (a fiche merged into another, or replaced by a dossier)."""

    old_id = models.CharField("ancien identifiant", primary_key=True, max_length=30)
    new_id = models.CharField("nouvel identifiant", max_length=30)
    kind = models.CharField("type de la cible", max_length=80, blank=True)
    date = models.DateField("date", null=True, blank=True)

    class Meta:
        verbose_name = "redirection DILA"
        verbose_name_plural = "redirections DILA"

    def __str__(self) -> str:
        return f"{self.old_id} → {self.new_id}"


class ImportRun(models.Model):
    """One import (or daily sync) of DILA archives: what came in, what it changed, how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", "En cours"
        DONE = "done", "Terminé"
        FAILED = "failed", "Échec"

    started_at = models.DateTimeField("commencé le", default=timezone.now)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.RUNNING)
    sources = models.JSONField("archives", default=list, blank=True,
                               help_text="[{name, site, date, sha256, size}] : date = celle des données DILA.")
    archive_date = models.DateField("données DILA du", null=True, blank=True)
    counts = models.JSONField("décompte", default=dict, blank=True)
    report = models.JSONField("rapport", default=dict, blank=True)
    message = models.TextField("message", blank=True)

    class Meta:
        verbose_name = "import DILA"
        verbose_name_plural = "imports DILA"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Import DILA du {self.started_at:%d/%m/%Y %H:%M} ({self.get_status_display()})"

    @classmethod
    def last_done(cls) -> ImportRun | None:
        return cls.objects.filter(status=cls.Status.DONE).order_by("-started_at").first()


class CorrectionProposal(models.Model):
    """A correction proposed from a fiche by an operator or an expert (possibly during a call).

    It targets one piece of text (`target`, named as in allo/kb/workflow.py): a section or the short
    answer of a local fiche, or a text field of Allô's notes; empty for a general remark. `base_text`
    is that text when the proposal was written, so the reviewer sees what changed since.
    """

    class Status(models.TextChoices):
        OPEN = "open", "À examiner"
        ACCEPTED = "accepted", "Acceptée"
        REJECTED = "rejected", "Refusée"
        TO_DILA = "dila", "Transmise à la DILA"

    fiche = models.ForeignKey(Fiche, on_delete=models.CASCADE, related_name="proposals")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="kb_proposals")
    target = models.CharField("texte concerné", max_length=60, blank=True)
    base_text = models.TextField("texte au moment de la proposition", blank=True)
    proposed_text = models.TextField("texte proposé", blank=True)
    reason = models.TextField("ce qui ne va pas")
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.OPEN)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="kb_reviews"
    )
    review_note = models.TextField("réponse du relecteur", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "proposition de correction"
        verbose_name_plural = "propositions de correction"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Correction de « {self.fiche} » par {self.author}"

    def get_target_display(self) -> str:
        from allo.kb.workflow import target_label

        return target_label(self.target) if self.target else "Remarque générale"


class Synonym(models.Model):
    """A group of equivalent terms for search (« carte grise, certificat d'immatriculation »)."""

    terms = models.CharField(
        "termes équivalents", max_length=400, unique=True, help_text="Séparés par des virgules. Ex. : CNI, carte d'identité"
    )
    active = models.BooleanField("actif", default=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "synonyme"
        verbose_name_plural = "synonymes"
        ordering = ["terms"]

    def __str__(self) -> str:
        return self.terms

    @property
    def term_list(self) -> list[str]:
        return [term.strip() for term in self.terms.split(",") if term.strip()]

    def clean(self) -> None:
        if len(self.term_list) < 2:
            raise ValidationError({"terms": "Indiquez au moins deux termes équivalents, séparés par des virgules."})


# --- Allô's own layer: what the line adds above the official text, and its editorial workflow ---


class FicheNotes(models.Model):
    """Allô's own notes on a fiche (official or local): what an N1 operator may say on the phone,
    when and where to transfer, the words callers use, the centre whose experts own these notes and
    when to review them.

    Keyed to the fiche, never to DILA's text: no importer writes here, so every re-import leaves
    them as they are; `move_notes` makes them follow a fiche DILA redirects to a new id.
    """

    fiche = models.OneToOneField(Fiche, on_delete=models.CASCADE, related_name="notes", verbose_name="fiche")
    script = models.TextField("ce qu'on peut dire au téléphone", blank=True,
                              help_text="Les phrases que l'opérateur N1 peut dire à l'appelant. Markdown simple.")
    transfer_when = models.TextField("quand transférer", blank=True,
                                     help_text="Les situations où l'appel doit passer au niveau 2.")
    transfer_to = models.CharField("transférer vers", max_length=20, choices=LEVEL2.items(), blank=True)
    synonyms = models.JSONField("termes des appelants", default=list, blank=True,
                                help_text="Les mots que les appelants emploient pour cette fiche (la recherche s'en sert).")
    owner = models.ForeignKey("org.Centre", null=True, blank=True, on_delete=models.SET_NULL, related_name="kb_notes",
                              verbose_name="centre propriétaire",
                              help_text="Ses experts tiennent ces notes à jour et agissent sur la fiche.")
    review_by = models.DateField("à revoir avant le", null=True, blank=True)
    script_html = models.TextField(blank=True, editable=False)
    transfer_when_html = models.TextField(blank=True, editable=False)
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)
    history = HistoricalRecords(excluded_fields=["script_html", "transfer_when_html", "updated_at"])

    class Meta:
        verbose_name = "notes Allô d'une fiche"
        verbose_name_plural = "notes Allô des fiches"
        indexes = [models.Index(fields=["review_by"])]

    def __str__(self) -> str:
        return f"Notes Allô de {self.fiche_id}"

    def save(self, *args, **kwargs):
        # Rendered and sanitised once here, never at display time (as a fiche's sections).
        self.synonyms = [term.strip() for term in self.synonyms or [] if str(term).strip()]
        self.script_html = content.render(self.script)
        self.transfer_when_html = content.render(self.transfer_when)
        super().save(*args, **kwargs)

    def save_with_reason(self, user, reason: str) -> None:
        self._change_reason = reason
        self._history_user = user
        self.save()

    @property
    def is_empty(self) -> bool:
        return not (self.script or self.transfer_when or self.transfer_to or self.synonyms or self.owner_id
                    or self.review_by)

    @property
    def review_overdue(self) -> bool:
        return bool(self.review_by) and self.review_by < timezone.localdate()

    @property
    def transfer_destination(self) -> str:
        """Where to transfer: these notes' choice, else the local fiche's own level-2 destination."""
        return self.transfer_to or self.fiche.level2


class Revision(models.Model):
    """A change to a fiche or to its notes that is not applied yet, or was applied by the workflow.

    `changes` maps a target (allo/kb/workflow.py: "title", "section:conditions", "notes:script", ...)
    to its new value; `base` holds each target's value when the change was written. A change to a
    published fiche waits for a second person (PENDING); once approved it is applied, or SCHEDULED
    until `effective_on` and then applied by `allo kb apply-scheduled` or the running server.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "À valider par une autre personne"
        SCHEDULED = "scheduled", "Programmée"
        APPLIED = "applied", "Appliquée"
        REJECTED = "rejected", "Refusée"
        CANCELLED = "cancelled", "Annulée"

    class Kind(models.TextChoices):
        EDIT = "edit", "Modification"
        PROPOSAL = "proposal", "Proposition de correction"
        RESTORE = "restore", "Restauration d'une version"

    fiche = models.ForeignKey(Fiche, on_delete=models.CASCADE, related_name="revisions")
    kind = models.CharField("nature", max_length=10, choices=Kind.choices, default=Kind.EDIT)
    changes = models.JSONField("modifications", default=dict)
    base = models.JSONField("valeurs d'origine", default=dict, blank=True)
    reason = models.TextField("motif")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="kb_revisions",
                               verbose_name="auteur")
    created_at = models.DateTimeField("proposée le", auto_now_add=True)
    effective_on = models.DateField("date d'effet", null=True, blank=True)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name="validée par")
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    decision_note = models.TextField("réponse", blank=True)
    applied_at = models.DateTimeField("appliquée le", null=True, blank=True)
    proposal = models.ForeignKey(CorrectionProposal, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="revisions")

    class Meta:
        verbose_name = "modification en attente"
        verbose_name_plural = "modifications en attente"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "effective_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} de « {self.fiche_id} » ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in (Revision.Status.PENDING, Revision.Status.SCHEDULED)

    @property
    def summary(self) -> str:
        """What it changes, in words (« Rubrique « Montant », Notes Allô : quand transférer »)."""
        from allo.kb.workflow import target_label

        return ", ".join(target_label(target) for target in self.changes)


class DilaReport(models.Model):
    """An error in the official text itself, to be sent to DILA (Allô never edits DILA's text)."""

    class Status(models.TextChoices):
        TO_SEND = "a-transmettre", "À transmettre"
        SENT = "transmis", "Transmis à la DILA"
        FIXED = "corrige", "Corrigé par la DILA"
        DROPPED = "sans-suite", "Sans suite"

    fiche = models.ForeignKey(Fiche, on_delete=models.CASCADE, related_name="dila_reports", verbose_name="fiche")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="kb_dila_reports",
                               verbose_name="signalé par")
    passage = models.TextField("passage concerné", help_text="Copiez la phrase ou le paragraphe du texte officiel.")
    problem = models.TextField("ce qui est faux", help_text="Ce qui est inexact, et ce qui serait juste.")
    source = models.TextField("source", blank=True, help_text="Facultatif : le texte de loi, le site ou le document "
                                                                   "qui montre l'erreur.")
    status = models.CharField("état", max_length=14, choices=Status.choices, default=Status.TO_SEND)
    note = models.TextField("suivi", blank=True, help_text="Référence de l'envoi, réponse de la DILA…")
    proposal = models.ForeignKey(CorrectionProposal, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="dila_reports")
    created_at = models.DateTimeField("signalé le", auto_now_add=True)
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)
    sent_at = models.DateTimeField("transmis le", null=True, blank=True)
    closed_at = models.DateTimeField("clos le", null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "signalement à la DILA"
        verbose_name_plural = "signalements à la DILA"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"Signalement DILA sur {self.fiche_id} ({self.get_status_display()})"

    def set_status(self, status: str, user, note: str | None = None) -> None:
        """A new status, its date, and who changed it (kept in the history)."""
        self.status = status
        if note is not None:
            self.note = note
        now = timezone.now()
        if status == DilaReport.Status.SENT and not self.sent_at:
            self.sent_at = now
        self.closed_at = now if status in (DilaReport.Status.FIXED, DilaReport.Status.DROPPED) else None
        self._history_user = user
        self._change_reason = f"État : {self.get_status_display()}"
        self.save()
