from django.apps import AppConfig


class ForecastConfig(AppConfig):
    name = "allo.forecast"
    label = "forecast"
    verbose_name = "Prévisions et effectifs"
    default_auto_field = "django.db.models.BigAutoField"
