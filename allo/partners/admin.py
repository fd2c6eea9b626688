from django.contrib import admin
from django.db import models

from allo.partners.models import (
    EntryNumber,
    Liaison,
    LiaisonAudit,
    Partner,
    PartnerAgent,
    PartnerClosure,
    PartnerContact,
    PartnerOpeningPeriod,
)


class EntryNumberInline(admin.TabularInline):
    model = EntryNumber
    extra = 0


class OpeningPeriodInline(admin.TabularInline):
    model = PartnerOpeningPeriod
    extra = 0


class ClosureInline(admin.TabularInline):
    model = PartnerClosure
    extra = 0


class ContactInline(admin.TabularInline):
    model = PartnerContact
    extra = 0


class AgentInline(admin.TabularInline):
    """The partner's own accounts: give them the group « partner » too (Utilisateurs)."""

    model = PartnerAgent
    extra = 0
    raw_id_fields = ["user"]
    verbose_name_plural = "comptes de l'espace partenaire (rôle « partner »)"


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "acceptance", "priority", "numbers", "active"]
    list_filter = ["kind", "acceptance", "priority", "active"]
    search_fields = ["name", "code", "entry_numbers__number"]
    prepopulated_fields = {"code": ["name"]}
    autocomplete_fields = ["fiches"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "code", "kind", "siret", "address", "website", "active"]}),
        ("Règles d'acheminement", {"fields": ["acceptance", "priority"]}),
        ("Jours fériés", {"fields": ["closed_on_public_holidays", "holiday_subdivision"]}),
        ("Informations locales", {"fields": ["fiches"]}),
    ]
    inlines = [EntryNumberInline, OpeningPeriodInline, ClosureInline, ContactInline, AgentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("entry_numbers")

    @admin.display(description="numéros d'entrée")
    def numbers(self, obj) -> str:
        return ", ".join(e.number for e in obj.entry_numbers.all()) or "—"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the desks and the partners' space only: the admin reads (and the audit stays true)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Liaison)
class LiaisonAdmin(ReadOnlyAdmin):
    list_display = ["pk", "created", "partner", "created_by", "status", "handled_at", "emailed_to", "email_error",
                    "email_retry_at"]
    list_filter = ["status", "partner"]
    date_hierarchy = "created"


@admin.register(LiaisonAudit)
class LiaisonAuditAdmin(ReadOnlyAdmin):
    list_display = ["created", "user", "action", "liaison"]
    list_filter = ["action"]
    date_hierarchy = "created"

    def has_delete_permission(self, request, obj=None):
        return False
