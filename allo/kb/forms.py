from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import URLValidator
from django.utils import timezone

from allo.kb import content
from allo.kb.models import CorrectionProposal, DilaReport, Fiche, FicheNotes, Synonym
from allo.kb.sections import SECTIONS, SHORT_ANSWER_MAX_WORDS
from allo.kb.workflow import fiche_targets, notes_targets, read_from, target_label, to_value


def _text(value: str | None) -> str:
    """A textarea's text with the newlines stored in the database: browsers send CRLF, and a text
    that only differs by them must not count as a change (nor show in a diff)."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _effective_on_field() -> forms.DateField:
    return forms.DateField(
        label="Date d'effet (facultatif)", required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Pour un changement de la loi à une date connue : la modification s'appliquera seule ce jour-là. "
                  "Laissez vide pour l'appliquer dès sa publication.",
    )


def _check_effective_on(value: dt.date | None) -> dt.date | None:
    if value and value < timezone.localdate():
        raise forms.ValidationError("Cette date est passée : laissez le champ vide pour appliquer la modification "
                                    "dès sa publication.")
    return value


def value_error(target: str, text: str) -> str | None:
    """What is wrong with a proposed or edited text for this target (French), or None."""
    if target == "short_answer":
        if not text.strip():
            return "La réponse courte ne peut pas être vide."
        words = content.word_count(text)
        if words > SHORT_ANSWER_MAX_WORDS:
            return (f"La réponse courte compte {words} mots : {SHORT_ANSWER_MAX_WORDS} au plus, "
                    "pour être lue en moins d'une minute.")
    return None


class FicheForm(forms.ModelForm):
    """One textarea per section; lists edited one item per line."""

    keywords_text = forms.CharField(label="Mots-clés (un par ligne)", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    phrasings_text = forms.CharField(
        label="Formulations des usagers (une par ligne)", required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    references_text = forms.CharField(
        label="Références (une par ligne : titre | adresse)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = forms.CharField(label="Motif de la modification", max_length=300,
                             help_text="Conservé dans l'historique des versions.")
    effective_on = _effective_on_field()

    class Meta:
        model = Fiche
        fields = ["id", "title", "theme", "subtheme", "audience", "short_answer", "level2", "review_by", "popularity"]
        widgets = {"review_by": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   "short_answer": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk and not instance._state.adding:
            self.fields["id"].disabled = True
        else:
            del self.fields["effective_on"]  # a new fiche is a draft: nothing to schedule
        for key, label in SECTIONS.items():
            self.fields[f"section_{key}"] = forms.CharField(
                label=label, required=False, initial=(instance.sections or {}).get(key, ""),
                widget=forms.Textarea(attrs={"rows": 4}),
            )
        self.fields["keywords_text"].initial = "\n".join(instance.keywords or [])
        self.fields["phrasings_text"].initial = "\n".join(instance.phrasings or [])
        self.fields["references_text"].initial = "\n".join(
            f"{r.get('title', '')} | {r.get('url', '')}" for r in instance.references or []
        )

    def section_fields(self):
        return [self[f"section_{key}"] for key in SECTIONS]

    def clean_short_answer(self):
        return _text(self.cleaned_data.get("short_answer"))

    def clean_effective_on(self):
        return _check_effective_on(self.cleaned_data.get("effective_on"))

    def changes(self) -> dict:
        """Every content target with its value in this form (the workflow keeps those that differ)."""

        return {target: read_from(self.instance, target) for target in fiche_targets()}

    def clean_references_text(self):
        references = []
        for number, line in enumerate(_lines(self.cleaned_data["references_text"]), start=1):
            title, _, url = line.partition("|")
            url = url.strip()
            try:
                URLValidator(schemes=["http", "https"])(url)
            except forms.ValidationError as exc:
                raise forms.ValidationError(f"Ligne {number} : adresse invalide ({url or 'vide'}).") from exc
            references.append({"title": title.strip() or url, "url": url})
        return references

    def _post_clean(self):
        data = self.cleaned_data
        self.instance.sections = {key: _text(data.get(f"section_{key}", "")) for key in SECTIONS}
        self.instance.keywords = _lines(data.get("keywords_text", ""))
        self.instance.phrasings = _lines(data.get("phrasings_text", ""))
        self.instance.references = data.get("references_text", [])
        super()._post_clean()


class ProposalForm(forms.ModelForm):
    """A correction of one piece of text, pre-filled with its current text; or a general remark."""

    class Meta:
        model = CorrectionProposal
        fields = ["proposed_text", "reason"]
        labels = {"reason": "Ce qui ne va pas"}
        widgets = {"reason": forms.Textarea(attrs={"rows": 3}), "proposed_text": forms.Textarea(attrs={"rows": 8})}
        help_texts = {"reason": "Pourquoi ce changement : ce que disent les appelants, la source, la date…"}

    def __init__(self, *args, target: str = "", current_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.target, self.current_text = target, current_text
        if not target:
            del self.fields["proposed_text"]
            return
        field = self.fields["proposed_text"]
        field.label = f"Texte corrigé — {target_label(target)}"
        field.required = True
        field.initial = current_text
        field.help_text = ("Le texte actuel est déjà dans le champ : corrigez-le directement."
                           + (" Un terme par ligne." if target == "notes:synonyms" else ""))

    def clean_proposed_text(self):
        text = _text(self.cleaned_data.get("proposed_text"))
        if text == _text(self.current_text):
            raise forms.ValidationError("Le texte proposé est identique au texte actuel : corrigez-le avant d'envoyer.")
        error = value_error(self.target, text)
        if error:
            raise forms.ValidationError(error)
        return text


class ReviewForm(forms.Form):
    """The reviewer's decision; the proposed text may be edited before it is accepted."""

    decision = forms.ChoiceField(label="Décision", choices=[("accept", "Accepter"), ("reject", "Refuser")],
                                 widget=forms.RadioSelect)
    text = forms.CharField(label="Texte à publier", required=False, widget=forms.Textarea(attrs={"rows": 8}),
                           help_text="Vous pouvez retoucher le texte proposé avant de l'accepter.")
    effective_on = _effective_on_field()
    note = forms.CharField(label="Réponse à l'auteur", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, proposal: CorrectionProposal, **kwargs):
        super().__init__(*args, **kwargs)
        self.target = proposal.target
        if proposal.target:
            self.fields["text"].initial = proposal.proposed_text
            self.fields["text"].label = f"Texte à publier — {target_label(proposal.target)}"
        else:
            del self.fields["text"]
            del self.fields["effective_on"]
        self.order_fields(["text", "effective_on", "note", "decision"])  # read and retouch, then decide

    def clean_effective_on(self):
        return _check_effective_on(self.cleaned_data.get("effective_on"))

    def clean_text(self):
        return _text(self.cleaned_data.get("text"))

    def clean(self):
        data = super().clean()
        if data.get("decision") == "accept" and self.target:
            error = value_error(self.target, data.get("text", ""))
            if error:
                self.add_error("text", error)
        return data


class RevisionDecisionForm(forms.Form):
    decision = forms.ChoiceField(label="Décision", widget=forms.RadioSelect, choices=[
        ("approve", "Publier cette modification"), ("reject", "La refuser")])
    note = forms.CharField(label="Réponse à l'auteur", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class NotesForm(forms.ModelForm):
    """Allô's notes on a fiche; saved as a change like any other (a second person when published)."""

    synonyms_text = forms.CharField(
        label="Termes des appelants (un par ligne)", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Les mots que les appelants emploient pour parler de cette fiche : la recherche les retrouve.")
    reason = forms.CharField(label="Motif de la modification", max_length=300,
                             help_text="Conservé dans l'historique des versions.")
    effective_on = _effective_on_field()

    class Meta:
        model = FicheNotes
        fields = ["script", "transfer_when", "transfer_to", "owner", "review_by"]
        widgets = {"script": forms.Textarea(attrs={"rows": 6}), "transfer_when": forms.Textarea(attrs={"rows": 3}),
                   "review_by": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        from allo.org.models import Centre

        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = Centre.objects.exclude(kind=Centre.Kind.N1_PLATFORM).filter(active=True)
        self.fields["owner"].empty_label = "Aucun (les rédacteurs seulement)"
        self.fields["synonyms_text"].initial = "\n".join(self.instance.synonyms or [])
        order = ["script", "transfer_when", "transfer_to", "synonyms_text", "owner", "review_by", "effective_on", "reason"]
        self.order_fields(order)

    def clean_effective_on(self):
        return _check_effective_on(self.cleaned_data.get("effective_on"))

    def changes(self) -> dict:
        data = self.cleaned_data
        values = {name: data.get(name) for name in ("script", "transfer_to", "owner", "review_by")}
        values["transfer_when"] = data.get("transfer_when", "")
        values["synonyms"] = _lines(data.get("synonyms_text", ""))
        values["script"] = _text(values["script"])
        values["transfer_when"] = _text(values["transfer_when"])
        return {target: to_value(target, values[target.partition(":")[2]]) for target in notes_targets()}


class DilaReportForm(forms.ModelForm):
    class Meta:
        model = DilaReport
        fields = ["passage", "problem", "source"]
        widgets = {"passage": forms.Textarea(attrs={"rows": 4}), "problem": forms.Textarea(attrs={"rows": 4}),
                   "source": forms.Textarea(attrs={"rows": 2})}


class DilaStatusForm(forms.Form):
    status = forms.ChoiceField(label="État", choices=DilaReport.Status.choices)
    note = forms.CharField(label="Suivi", required=False, max_length=2000)


class SynonymForm(forms.ModelForm):
    class Meta:
        model = Synonym
        fields = ["terms", "active"]
