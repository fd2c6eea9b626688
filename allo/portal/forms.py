from __future__ import annotations

import phonenumbers
from django import forms
from django.conf import settings

from allo.portal.callbacks import Slot


class FeedbackForm(forms.Form):
    helpful = forms.ChoiceField(
        label="Cette réponse vous a-t-elle aidé ?", choices=[("oui", "Oui"), ("non", "Non")],
        error_messages={"required": "Indiquez si cette réponse vous a aidé : oui ou non.",
                        "invalid_choice": "Indiquez si cette réponse vous a aidé : oui ou non."})
    comment = forms.CharField(
        label="Commentaire (facultatif)", required=False, max_length=1000,
        error_messages={"max_length": "Votre commentaire est trop long : 1 000 caractères au maximum."})


# Metropolitan France first, then the overseas departments and collectivities sharing the national plan.
FRENCH_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF")


def parse_french_number(raw: str) -> str:
    """A French phone number (metropolitan or overseas) in E.164, or ValidationError with a French message."""
    text = (raw or "").strip()
    if not text:
        raise forms.ValidationError("Indiquez le numéro de téléphone auquel vous rappeler.")
    number = None
    for region in FRENCH_REGIONS:  # overseas numbers are dialled nationally too (0696 ... in Martinique)
        try:
            candidate = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        number = number or candidate
        if phonenumbers.is_valid_number(candidate):
            number = candidate
            break
    if number is None:
        raise forms.ValidationError(
            "Ce numéro de téléphone n'est pas valide. Exemple de format attendu : 06 12 34 56 78.")
    region = phonenumbers.region_code_for_number(number)
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(
            "Ce numéro de téléphone n'est pas valide : vérifiez le nombre de chiffres (10 chiffres, "
            "par exemple 06 12 34 56 78).")
    if region not in FRENCH_REGIONS:
        raise forms.ValidationError("Le rappel n'est possible que vers un numéro français (métropole ou outre-mer).")
    kind = phonenumbers.number_type(number)
    if kind in {phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.SHARED_COST,
                phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.UAN}:
        raise forms.ValidationError("Indiquez un numéro de téléphone fixe ou mobile, pas un numéro spécial.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class CallbackForm(forms.Form):
    phone = forms.CharField(label="Numéro de téléphone", max_length=30,
                            help_text="Un numéro français, fixe ou mobile. Exemple : 06 12 34 56 78",
                            error_messages={"required": "Indiquez le numéro de téléphone auquel vous rappeler.",
                                            "max_length": "Ce numéro de téléphone n'est pas valide : il est trop long."})
    slot = forms.ChoiceField(label="Créneau de rappel souhaité",
                             error_messages={"required": "Choisissez un créneau de rappel.",
                                             "invalid_choice": "Ce créneau n'est plus proposé : choisissez-en un autre."})
    theme = forms.ChoiceField(label="Thème de votre question", required=False)
    subject = forms.CharField(
        label="Objet de votre demande", max_length=200,
        help_text="En quelques mots, sans données sensibles (pas de numéro fiscal ni de données de santé).",
        error_messages={"required": "Indiquez en quelques mots l'objet de votre demande.",
                        "max_length": "L'objet est trop long : 200 caractères au maximum."})
    consent = forms.BooleanField(
        label="", error_messages={"required": "Votre accord est nécessaire pour que nous puissions vous rappeler."})

    def __init__(self, *args, slots: list[Slot], load: dict[str, int], capacity: int, themes: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = {slot.key: slot for slot in slots}
        self.load = load
        self.capacity = capacity
        self.fields["slot"].choices = [("", "Choisir un créneau")] + [(slot.key, slot.long_label) for slot in slots]
        self.fields["theme"].choices = [("", "Je ne sais pas")] + list(themes.items())
        self.fields["consent"].label = (
            "J'accepte que mon numéro de téléphone et l'objet de ma demande soient utilisés uniquement pour "
            f"me rappeler. Ils seront supprimés au plus tard {settings.RETENTION_DAYS} jours après ma demande.")

    def clean_phone(self) -> str:
        return parse_french_number(self.cleaned_data.get("phone", ""))

    def clean_slot(self) -> Slot:
        return self.slots[self.cleaned_data["slot"]]

    def clean_subject(self) -> str:
        return " ".join(self.cleaned_data["subject"].split())

    def slot_groups(self) -> list[tuple[str, list[tuple[Slot, bool]]]]:
        """[(day label, [(slot, is_full)])] for the grouped select."""
        groups: dict[str, list] = {}
        for slot in self.slots.values():
            groups.setdefault(slot.day_label, []).append((slot, self.load.get(slot.key, 0) >= self.capacity))
        return list(groups.items())
