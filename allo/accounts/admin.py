from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from allo.accounts.models import SignInEvent, User


@admin.register(User)
class AlloUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "centre", "is_active"]
    list_filter = ["groups", "centre", "is_active"]
    fieldsets = [*UserAdmin.fieldsets, ("Rattachement", {"fields": ["centre"]})]


@admin.register(SignInEvent)
class SignInEventAdmin(admin.ModelAdmin):
    """Read-only: an audit trail is not edited."""

    list_display = ["created", "method", "outcome", "user", "username", "email", "siret", "idp_id", "acr", "reason"]
    list_filter = ["outcome", "method"]
    search_fields = ["username", "email", "siret", "uid"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
