from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "allo.portal"
    label = "portal"
    verbose_name = "Portail des usagers"
