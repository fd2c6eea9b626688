from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from allo.kb.models import CorrectionProposal, Fiche, Synonym, Theme


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["label", "slug", "position"]


@admin.register(Fiche)
class FicheAdmin(SimpleHistoryAdmin):
    list_display = ["id", "title", "theme", "status", "version", "review_by", "is_demo"]
    list_filter = ["status", "theme", "audience", "level2", "is_demo"]
    search_fields = ["id", "title"]


@admin.register(CorrectionProposal)
class CorrectionProposalAdmin(admin.ModelAdmin):
    list_display = ["fiche", "author", "status", "created_at"]
    list_filter = ["status"]


@admin.register(Synonym)
class SynonymAdmin(SimpleHistoryAdmin):
    list_display = ["terms", "active"]
