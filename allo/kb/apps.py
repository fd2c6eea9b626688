from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "allo.kb"
    label = "kb"
    verbose_name = "Base de connaissances"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from allo.kb.models import Fiche, FicheNotes, Synonym
        from allo.kb.search_service import index_may_be_stale

        for model in (Fiche, FicheNotes, Synonym):  # the search index of this process is checked again at once
            post_save.connect(index_may_be_stale, sender=model, dispatch_uid=f"kb-index-{model.__name__}")
            post_delete.connect(index_may_be_stale, sender=model, dispatch_uid=f"kb-index-del-{model.__name__}")
