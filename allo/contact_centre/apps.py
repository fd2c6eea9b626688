from django.apps import AppConfig


class ContactCentreConfig(AppConfig):
    name = "allo.contact_centre"
    label = "contact_centre"
    verbose_name = "Centre de contacts en direct"
