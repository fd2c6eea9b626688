"""Each role's space, linked from the home page and the header."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from allo.accounts.roles import Role


@dataclass(frozen=True)
class Space:
    role: str
    url_name: str
    title: str
    description: str

    @property
    def url(self) -> str:
        return reverse(self.url_name)


SPACES = [
    Space(Role.OPERATOR, "space-operator", "Poste opérateur N1",
          "Répondre aux appelants à partir de la base de connaissances, transférer au niveau 2."),
    Space(Role.EXPERT, "space-expert", "Poste expert N2",
          "Recevoir les appels transférés avec leur contexte, proposer des corrections."),
    Space(Role.EDITOR, "space-editor", "Rédaction",
          "Tenir la base de connaissances à jour, relire les propositions de correction."),
    Space(Role.SUPERVISOR, "space-supervisor", "Supervision",
          "Suivre les files et les centres en direct, préparer les effectifs des pics."),
    Space(Role.PARTNER, "partner-space", "Espace partenaire",
          "Les appels pris en charge par le 3939 pour votre administration, les fiches de liaison à traiter."),
    Space(Role.ADMINISTRATOR, "admin:index", "Administration",
          "Gérer les centres, les horaires, les comptes et les rôles."),
]


def spaces_for(user) -> list[Space]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [space for space in SPACES if user.has_role(space.role)]
