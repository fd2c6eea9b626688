from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from allo.org.models import Centre, Closure, OpeningPeriod, ServiceLine


class OpeningPeriodInline(admin.TabularInline):
    model = OpeningPeriod
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


@admin.register(Centre)
class CentreAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "domain", "city", "capacity", "active"]
    list_filter = ["kind", "domain", "active"]
    search_fields = ["name", "city", "code"]
    inlines = [OpeningPeriodInline, ClosureInline]


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["reason", "centre", "start", "end"]
    list_filter = ["centre"]


@admin.register(ServiceLine)
class ServiceLineAdmin(SimpleHistoryAdmin):
    list_display = ["name", "phone_number", "platform"]
