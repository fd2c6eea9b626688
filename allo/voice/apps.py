from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def recording_changed(**kwargs) -> None:
    """An announcement recorded, replaced or deleted in the admin: the voice nodes load the recordings
    again at once (the `prompts` command), rather than at their next check."""
    from allo.contact_centre.telephony.services import PROMPTS_CHANGED, announce

    announce(PROMPTS_CHANGED)


class VoiceConfig(AppConfig):
    name = "allo.voice"
    label = "voice"
    verbose_name = "Téléphonie (comptes SIP des agents)"

    def ready(self):
        from allo.voice.models import RecordedPrompt

        post_save.connect(recording_changed, sender=RecordedPrompt, dispatch_uid="voice-recording-saved")
        post_delete.connect(recording_changed, sender=RecordedPrompt, dispatch_uid="voice-recording-deleted")
