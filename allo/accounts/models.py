from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from allo.accounts.roles import Role


class User(AbstractUser):
    """A staff member. Roles are groups; the centre says where an operator or an expert works."""

    centre = models.ForeignKey(
        "org.Centre",
        verbose_name="centre",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"

    @property
    def roles(self) -> frozenset[str]:
        """Role codes of this user (cached per instance: checked on every request)."""
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            if not self.is_active:
                cached = frozenset()
            else:
                names = set(self.groups.values_list("name", flat=True))
                if self.is_superuser:
                    names.add(Role.ADMINISTRATOR)
                cached = frozenset(name for name in names if name in Role.values)
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return Role.ADMINISTRATOR in self.roles or bool(self.roles.intersection(roles))
