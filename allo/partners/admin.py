from django.contrib import admin
from django.db import models

from allo.partners.models import EntryNumber, Partner, PartnerClosure, PartnerContact, PartnerOpeningPeriod


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


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "acceptance", "priority", "numbers", "active"]
    list_filter = ["kind", "acceptance", "priority", "active"]
    search_fields = ["name", "code", "entry_numbers__number"]
    prepopulated_fields = {"code": ["name"]}
    autocomplete_fields = ["fiches"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "code", "kind", "address", "website", "active"]}),
        ("Règles d'acheminement", {"fields": ["acceptance", "priority"]}),
        ("Jours fériés", {"fields": ["closed_on_public_holidays", "holiday_subdivision"]}),
        ("Informations locales", {"fields": ["fiches"]}),
    ]
    inlines = [EntryNumberInline, OpeningPeriodInline, ClosureInline, ContactInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("entry_numbers")

    @admin.display(description="numéros d'entrée")
    def numbers(self, obj) -> str:
        return ", ".join(e.number for e in obj.entry_numbers.all()) or "—"
