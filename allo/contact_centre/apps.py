from django.apps import AppConfig


class ContactCentreConfig(AppConfig):
    name = "allo.contact_centre"
    label = "contact_centre"
    verbose_name = "Centre de contacts en direct"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from allo.contact_centre.services import organisation_changed
        from allo.org.models import Centre, Closure, OpeningPeriod

        # a new closure, new hours or a new centre reach the live router at once (through its journal)
        for model in (Centre, Closure, OpeningPeriod):
            post_save.connect(organisation_changed, sender=model, dispatch_uid=f"cc-org-{model.__name__}")
            post_delete.connect(organisation_changed, sender=model, dispatch_uid=f"cc-org-del-{model.__name__}")
