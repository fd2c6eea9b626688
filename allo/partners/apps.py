from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "allo.partners"
    label = "partners"
    verbose_name = "Partenaires"
