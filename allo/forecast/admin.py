from django.contrib import admin

from allo.forecast.models import ShiftTemplate


@admin.register(ShiftTemplate)
class ShiftTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "start", "end", "weekdays", "paid_minutes", "active")
    list_editable = ("active",)
