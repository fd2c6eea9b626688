from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from allo.accounts.models import User


@admin.register(User)
class AlloUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "centre", "is_active"]
    list_filter = ["groups", "centre", "is_active"]
    fieldsets = [*UserAdmin.fieldsets, ("Rattachement", {"fields": ["centre"]})]
