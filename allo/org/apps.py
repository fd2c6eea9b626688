from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "allo.org"
    label = "org"
    verbose_name = "Organisation"
