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


class Theme(models.Model):
    slug = models.SlugField("identifiant", primary_key=True, max_length=60)
    label = models.CharField("libellé", max_length=120)
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "thème"
        verbose_name_plural = "thèmes"
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class FicheQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Fiche.Status.PUBLISHED)

    def due_for_review(self, today: dt.date | None = None):
        return self.exclude(status=Fiche.Status.ARCHIVED).filter(review_by__lt=today or timezone.localdate())


class Fiche(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        IN_REVIEW = "review", "En relecture"
        PUBLISHED = "published", "Publiée"
        ARCHIVED = "archived", "Archivée"

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
    is_demo = models.BooleanField("contenu de démonstration", default=False)
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)
    published_at = models.DateTimeField("publiée le", null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["sections_html", "updated_at"])

    objects = FicheQuerySet.as_manager()

    class Meta:
        verbose_name = "fiche"
        verbose_name_plural = "fiches"
        ordering = ["theme", "title"]
        indexes = [models.Index(fields=["status", "theme"]), models.Index(fields=["review_by"])]

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
        if content.word_count(self.short_answer) > SHORT_ANSWER_MAX_WORDS:
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

    def search_body(self) -> str:
        return "\n".join(content.plain_text(text) for text in self.sections.values())

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


class CorrectionProposal(models.Model):
    """A correction proposed from a fiche by an operator or an expert (possibly during a call)."""

    class Status(models.TextChoices):
        OPEN = "open", "À examiner"
        ACCEPTED = "accepted", "Acceptée"
        REJECTED = "rejected", "Refusée"

    fiche = models.ForeignKey(Fiche, on_delete=models.CASCADE, related_name="proposals")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="kb_proposals")
    section = models.CharField("rubrique concernée", max_length=40, blank=True, choices=SECTIONS.items())
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
