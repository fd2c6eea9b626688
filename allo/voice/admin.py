"""Agents' SIP accounts: an administrator resets a password (audited); the HA1 is never edited by hand
and the password never shown here (the agent generates it on its desk). Recorded announcements: an
administrator uploads a WAV file in place of a spoken prompt, and listens to it here."""

import hashlib

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from allo.voice import credentials, prompts
from allo.voice.models import RecordedPrompt, SipAccount, SipAccountEvent


@admin.register(SipAccount)
class SipAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "has_password", "realm", "registered", "registered_changed", "updated"]
    list_filter = ["registered"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "realm", "registered", "registered_changed", "updated"]
    exclude = ["ha1"]
    actions = ["reset_password"]

    @admin.display(description="mot de passe", boolean=True)
    def has_password(self, obj) -> bool:
        return bool(obj.ha1)

    def has_add_permission(self, request) -> bool:
        return False  # created when the agent generates its password

    @admin.action(description="Réinitialiser le mot de passe SIP (le téléphone sera refusé)")
    def reset_password(self, request, queryset):
        for account in queryset.select_related("user"):
            credentials.reset(account.user, by=request.user)
        self.message_user(request, f"{queryset.count()} mot(s) de passe SIP réinitialisé(s) : chaque agent en "
                                   "génère un nouveau sur son poste.", messages.SUCCESS)


@admin.register(SipAccountEvent)
class SipAccountEventAdmin(admin.ModelAdmin):
    """The audit of the SIP passwords: read, never edited."""

    list_display = ["created", "action", "agent", "by"]
    list_filter = ["action"]
    search_fields = ["agent"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RecordedPromptForm(forms.ModelForm):
    fichier = forms.FileField(label="Enregistrement (WAV)", help_text=(
        "WAV PCM 16 bits, mono, 8 000 à 48 000 Hz, d'une demi-seconde à 3 minutes. Les nœuds de la voix le "
        "reçoivent dans la minute ; supprimer l'annonce enregistrée rend la voix de synthèse."))

    class Meta:
        model = RecordedPrompt
        fields = ["name"]

    def clean_name(self):
        name = self.cleaned_data["name"]
        taken = RecordedPrompt.objects.filter(name=name).exclude(pk=self.instance.pk).first()
        if taken is not None:
            raise forms.ValidationError(f"L'annonce « {taken.get_name_display()} » est déjà enregistrée : "
                                        "ouvrez-la dans la liste pour remplacer son fichier.")
        return name

    def clean_fichier(self):
        upload = self.cleaned_data["fichier"]
        if upload.size > prompts.RECORDING_MAX_BYTES:
            raise forms.ValidationError("Fichier trop volumineux : 20 Mo au plus.")
        data = upload.read()
        try:
            self.seconds = prompts.check_recording(data)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data

    def save(self, commit=True):
        prompt = super().save(commit=False)
        prompt.audio = self.cleaned_data["fichier"]
        prompt.sha256 = hashlib.sha256(prompt.audio).hexdigest()
        prompt.seconds = round(self.seconds, 2)
        if commit:
            prompt.save()
        return prompt


@admin.register(RecordedPrompt)
class RecordedPromptAdmin(admin.ModelAdmin):
    form = RecordedPromptForm
    list_display = ["name", "seconds", "uploaded_by", "uploaded", "listen"]
    readonly_fields = ["listen", "seconds", "uploaded_by", "uploaded"]

    def get_fields(self, request, obj=None):
        return ["name", "fichier"] + (["listen", "seconds", "uploaded_by", "uploaded"] if obj else [])

    def save_model(self, request, obj, form, change):
        obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="écouter")
    def listen(self, obj) -> str:
        if not obj or not obj.pk:
            return "—"
        url = reverse("admin:voice_recordedprompt_audio", args=[obj.pk])
        return format_html('<audio controls preload="none" src="{}">{}</audio>', url, obj.get_name_display())

    def get_urls(self):
        return [path("<int:pk>/audio/", self.admin_site.admin_view(self.audio), name="voice_recordedprompt_audio"),
                *super().get_urls()]

    def audio(self, request, pk: int):
        if not self.has_view_permission(request):
            raise Http404
        prompt = RecordedPrompt.objects.filter(pk=pk).first()
        if prompt is None:
            raise Http404
        response = HttpResponse(bytes(prompt.audio), content_type="audio/wav")
        response["Content-Disposition"] = f'inline; filename="{prompt.name}.wav"'
        return response
