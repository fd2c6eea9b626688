from django.contrib import admin

from allo.surges.models import Surge


@admin.register(Surge)
class SurgeAdmin(admin.ModelAdmin):
    list_display = ("key", "dim", "signal", "started", "ended", "observed", "expected", "peak_ratio", "extra_agents")
    list_filter = ("signal", "dim", "ended")
    search_fields = ("key",)
    readonly_fields = [f.name for f in Surge._meta.fields]

    def has_add_permission(self, request):
        return False  # surges are found by the scan, not entered
