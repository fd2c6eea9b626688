from django.contrib import admin

from allo.portal.models import CallbackRequest, Feedback


@admin.register(CallbackRequest)
class CallbackRequestAdmin(admin.ModelAdmin):
    list_display = ["slot_start", "status", "theme", "created_at"]
    list_filter = ["status", "theme"]
    readonly_fields = ["phone_number", "slot_start", "slot_end", "theme", "subject", "consent_at", "created_at",
                       "forwarded_at", "contact_ref"]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["fiche", "helpful", "created_at"]
    list_filter = ["helpful"]
    readonly_fields = ["fiche", "fiche_version", "helpful", "comment", "created_at"]
