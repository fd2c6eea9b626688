"""The people who use Allô. Each role is a Django group of the same code; citizens are anonymous."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OPERATOR = "operator", "Opérateur N1"
    EXPERT = "expert", "Expert N2"
    EDITOR = "editor", "Rédacteur de la base de connaissances"
    SUPERVISOR = "supervisor", "Superviseur"
    ADMINISTRATOR = "administrator", "Administrateur"
    PARTNER = "partner", "Agent d'une administration partenaire"


# Model permissions each role's group receives (app_label.codename); views check roles, the admin checks these.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OPERATOR: ["org.view_centre", "org.view_serviceline"],
    Role.EXPERT: ["org.view_centre", "org.view_serviceline"],
    Role.EDITOR: ["org.view_centre"],
    Role.SUPERVISOR: ["org.view_centre", "org.view_serviceline", "org.view_closure", "org.view_openingperiod"],
    Role.ADMINISTRATOR: [],  # administrators are superusers
    Role.PARTNER: [],  # its own administration's space only (allo/partners, scoped by PartnerAgent)
}
