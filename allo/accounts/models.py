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


class SignInEvent(models.Model):
    """Audit of the agents' sign-ins: who came, how (password or ProConnect), from which identity
    provider, and what Allô decided (a refusal is kept too, with why). See docs/signin.md."""

    class Method(models.TextChoices):
        PASSWORD = "password", "Mot de passe"
        PROCONNECT = "proconnect", "ProConnect"

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Acceptée"
        REFUSED = "refused", "Refusée"

    created = models.DateTimeField("le", auto_now_add=True, db_index=True)
    method = models.CharField("méthode", max_length=20, choices=Method.choices, default=Method.PROCONNECT)
    outcome = models.CharField("résultat", max_length=10, choices=Outcome.choices)
    reason = models.CharField("motif", max_length=200, blank=True)
    user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name="compte")
    username = models.CharField("identifiant saisi", max_length=150, blank=True)
    email = models.CharField("adresse électronique annoncée", max_length=254, blank=True)
    siret = models.CharField("SIRET annoncé", max_length=14, blank=True)
    uid = models.CharField("identifiant chez le fournisseur", max_length=255, blank=True)
    idp_id = models.CharField("fournisseur d'identité", max_length=255, blank=True)
    acr = models.CharField("niveau d'authentification", max_length=40, blank=True)

    class Meta:
        verbose_name = "connexion"
        verbose_name_plural = "journal des connexions"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.method} {self.outcome} {self.username or self.email}"
