from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "allo.voice"
    label = "voice"
    verbose_name = "Téléphonie (comptes SIP des agents)"
