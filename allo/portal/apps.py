from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "allo.portal"
    label = "portal"
    verbose_name = "Portail des usagers"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from allo.kb.models import Fiche, ImportRun, Synonym, Theme
        from allo.org.models import Centre, Closure, OpeningPeriod, ServiceLine
        from allo.portal import catalogue

        # an import writes fiches, the tree and placements in bulk (no signal): its run's end says so
        for model in (Fiche, Synonym, Theme, ImportRun):
            post_save.connect(catalogue.kb_changed, sender=model, dispatch_uid=f"portal-kb-{model.__name__}")
            post_delete.connect(catalogue.kb_changed, sender=model, dispatch_uid=f"portal-kb-del-{model.__name__}")
        for model in (Centre, Closure, OpeningPeriod, ServiceLine):
            post_save.connect(catalogue.line_changed, sender=model, dispatch_uid=f"portal-line-{model.__name__}")
            post_delete.connect(catalogue.line_changed, sender=model, dispatch_uid=f"portal-line-del-{model.__name__}")
