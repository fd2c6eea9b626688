"""The wrap-up's lists the administrator edits: outcomes (« issues ») and reason codes (« motifs »); the
queues' alert thresholds; the audit trail, read-only."""

from django.contrib import admin

from allo.contact_centre.models import CallerCardView, QueueThreshold, WrapUpOutcome, WrapUpReason


@admin.register(WrapUpOutcome)
class WrapUpOutcomeAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "kind", "reason_required", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["label", "code"]


@admin.register(WrapUpReason)
class WrapUpReasonAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "issues", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["active", "outcomes"]
    search_fields = ["label", "code"]
    filter_horizontal = ["outcomes"]

    @admin.display(description="issues")
    def issues(self, obj) -> str:
        return ", ".join(o.label for o in obj.outcomes.all()) or "toutes"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("outcomes")


@admin.register(QueueThreshold)
class QueueThresholdAdmin(admin.ModelAdmin):
    list_display = ["centre", "service_level_min", "waiting_max", "longest_wait_max_s"]


@admin.register(CallerCardView)
class AuditAdmin(admin.ModelAdmin):
    """Who saw which caller's card, and the supervisors' forced actions: read, never edited."""

    list_display = ["created", "user", "action", "agent", "contact"]
    list_filter = ["action"]
    search_fields = ["agent", "contact", "user__username"]
    date_hierarchy = "created"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
