from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "allo.history"
    label = "history"
    verbose_name = "Historique et bilan"
    default_auto_field = "django.db.models.BigAutoField"
