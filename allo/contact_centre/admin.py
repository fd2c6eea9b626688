"""The wrap-up's lists the administrator edits: outcomes (« issues ») and reason codes (« motifs »)."""

from django.contrib import admin

from allo.contact_centre.models import WrapUpOutcome, WrapUpReason


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
