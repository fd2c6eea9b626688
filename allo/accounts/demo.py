"""Demo accounts, one or more per role, all with the same documented demo password."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from allo.accounts.models import User
from allo.accounts.roles import ROLE_PERMISSIONS, Role
from allo.org.models import Centre

DEMO_PASSWORD = "allo-demo-2026"

# username, first name, last name, role, centre code
DEMO_USERS = [
    ("operateur", "Camille", "Martin", Role.OPERATOR, "n1-plateforme"),
    ("operateur2", "Karim", "Benali", Role.OPERATOR, "n1-plateforme"),
    ("expert-impots", "Hélène", "Durand", Role.EXPERT, "n2-impots"),
    ("expert-conso", "Julien", "Petit", Role.EXPERT, "n2-consommation"),
    ("expert-cira", "Sophie", "Moreau", Role.EXPERT, "cira-lyon"),
    ("redacteur", "Louise", "Bernard", Role.EDITOR, None),
    ("redacteur2", "Paul", "Girard", Role.EDITOR, None),  # a second pair of eyes: publishing needs one
    ("superviseur", "Marc", "Lefèvre", Role.SUPERVISOR, None),
    ("admin", "Alex", "Admin", Role.ADMINISTRATOR, None),
]


@transaction.atomic
def ensure_role_groups() -> None:
    """Create one group per role with its model permissions (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


@transaction.atomic
def load_demo_users() -> list[tuple[str, str]]:
    """The demo accounts, each created once: an account that exists is left as it is (its name,
    centre, roles and password may have been changed by an administrator)."""
    ensure_role_groups()
    accounts = []
    for username, first, last, role, centre_code in DEMO_USERS:
        if not User.objects.filter(username=username).exists():
            user = User(username=username, first_name=first, last_name=last, email=f"{username}@allo.example",
                        centre=Centre.objects.filter(code=centre_code).first() if centre_code else None)
            user.is_staff = user.is_superuser = role == Role.ADMINISTRATOR
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
        accounts.append((username, Role(role).label))
    return accounts
