"""Agents' SIP accounts: an administrator resets a password (audited); the HA1 is never edited by hand
and the password never shown here (the agent generates it on its desk)."""

from django.contrib import admin, messages

from allo.voice import credentials
from allo.voice.models import SipAccount, SipAccountEvent


@admin.register(SipAccount)
class SipAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "has_password", "realm", "registered", "registered_changed", "updated"]
    list_filter = ["registered"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "realm", "registered", "registered_changed", "updated"]
    exclude = ["ha1"]
    actions = ["reset_password"]

    @admin.display(description="mot de passe", boolean=True)
    def has_password(self, obj) -> bool:
        return bool(obj.ha1)

    def has_add_permission(self, request) -> bool:
        return False  # created when the agent generates its password

    @admin.action(description="Réinitialiser le mot de passe SIP (le téléphone sera refusé)")
    def reset_password(self, request, queryset):
        for account in queryset.select_related("user"):
            credentials.reset(account.user, by=request.user)
        self.message_user(request, f"{queryset.count()} mot(s) de passe SIP réinitialisé(s) : chaque agent en "
                                   "génère un nouveau sur son poste.", messages.SUCCESS)


@admin.register(SipAccountEvent)
class SipAccountEventAdmin(admin.ModelAdmin):
    """The audit of the SIP passwords: read, never edited."""

    list_display = ["created", "action", "agent", "by"]
    list_filter = ["action"]
    search_fields = ["agent"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
