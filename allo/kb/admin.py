from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from allo.kb.models import (
    CorrectionProposal,
    DilaReport,
    Fiche,
    FicheNotes,
    ImportRun,
    Redirect,
    Resource,
    Revision,
    Synonym,
    Theme,
)


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["label", "slug", "kind", "parent", "position", "dila_id", "active"]
    list_filter = ["kind", "audience", "active"]
    search_fields = ["label", "slug", "dila_id"]
    list_select_related = ["parent"]


@admin.register(Fiche)
class FicheAdmin(SimpleHistoryAdmin):
    list_display = ["id", "title", "theme", "collection", "status", "version", "modified_on", "dila_status", "is_demo"]
    list_filter = ["collection", "status", "dila_status", "kind", "theme", "audience", "level2", "is_demo"]
    search_fields = ["id", "title"]


class _ReadOnly(admin.ModelAdmin):
    """Written by the DILA import only: the admin shows them, never edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportRun)
class ImportRunAdmin(_ReadOnly):
    list_display = ["started_at", "status", "archive_date", "finished_at", "message"]
    list_filter = ["status"]


@admin.register(Resource)
class ResourceAdmin(_ReadOnly):
    list_display = ["id", "title", "kind", "cerfa", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["id", "title", "cerfa"]


@admin.register(Redirect)
class RedirectAdmin(_ReadOnly):
    list_display = ["old_id", "new_id", "kind", "date"]
    search_fields = ["old_id", "new_id"]


@admin.register(CorrectionProposal)
class CorrectionProposalAdmin(admin.ModelAdmin):
    list_display = ["fiche", "author", "status", "created_at"]
    list_filter = ["status"]


@admin.register(Synonym)
class SynonymAdmin(SimpleHistoryAdmin):
    list_display = ["terms", "active"]


class _WorkflowOnly(SimpleHistoryAdmin):
    """Allô's notes, pending changes and reports to DILA change through the staff pages, where the
    second-person rule and centre ownership apply: the admin shows them and their history only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FicheNotes)
class FicheNotesAdmin(_WorkflowOnly):
    list_display = ["fiche", "owner", "transfer_to", "review_by", "updated_at"]
    list_filter = ["owner", "transfer_to"]
    search_fields = ["fiche__id", "fiche__title"]


@admin.register(Revision)
class RevisionAdmin(_ReadOnly):  # the workflow keeps its trace in the row itself
    list_display = ["fiche", "kind", "status", "author", "approved_by", "effective_on", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["fiche__id", "fiche__title"]


@admin.register(DilaReport)
class DilaReportAdmin(_WorkflowOnly):
    list_display = ["fiche", "status", "author", "created_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["fiche__id", "fiche__title", "passage"]
