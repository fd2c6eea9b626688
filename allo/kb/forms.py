from __future__ import annotations

from django import forms
from django.core.validators import URLValidator

from allo.kb.models import CorrectionProposal, Fiche, Synonym
from allo.kb.sections import SECTIONS


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


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
        self.instance.sections = {key: data.get(f"section_{key}", "") for key in SECTIONS}
        self.instance.keywords = _lines(data.get("keywords_text", ""))
        self.instance.phrasings = _lines(data.get("phrasings_text", ""))
        self.instance.references = data.get("references_text", [])
        super()._post_clean()


class ProposalForm(forms.ModelForm):
    class Meta:
        model = CorrectionProposal
        fields = ["section", "reason", "proposed_text"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 3}), "proposed_text": forms.Textarea(attrs={"rows": 5})}
        help_texts = {"proposed_text": "Facultatif : le texte corrigé de la rubrique choisie."}

    def clean(self):
        data = super().clean()
        if data.get("proposed_text") and not data.get("section"):
            self.add_error("section", "Choisissez la rubrique que votre texte remplace.")
        return data


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label="Décision", choices=[("accept", "Accepter"), ("reject", "Refuser")],
                                 widget=forms.RadioSelect)
    note = forms.CharField(label="Réponse à l'auteur", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SynonymForm(forms.ModelForm):
    class Meta:
        model = Synonym
        fields = ["terms", "active"]
