from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "allo.web"
    label = "web"
    verbose_name = "Interface web"
