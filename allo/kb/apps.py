from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "allo.kb"
    label = "kb"
    verbose_name = "Base de connaissances"
