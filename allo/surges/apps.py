from django.apps import AppConfig


class SurgesConfig(AppConfig):
    name = "allo.surges"
    label = "surges"
    verbose_name = "Pics d'actualité"
    default_auto_field = "django.db.models.BigAutoField"
