"""`allo token create --role telephony|supervisor [--label L]`: the token is the last word printed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from allo.contact_centre.models import ApiToken
from allo.contact_centre.tokens import create_token, digest, forget_cached


class Command(BaseCommand):
    help = "Crée (create) ou révoque (revoke) un jeton d'API ; seule son empreinte est conservée."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "revoke"])
        parser.add_argument("--role", choices=ApiToken.Role.values)
        parser.add_argument("--label", default="")
        parser.add_argument("--token", default="", help="jeton à révoquer")

    def handle(self, *args, action, role, label, token, **options):
        if action == "revoke":
            n = ApiToken.objects.filter(digest=digest(token)).update(revoked=True)
            forget_cached()
            if not n:
                raise CommandError("Jeton inconnu.")
            self.stdout.write("Jeton révoqué.")
            return
        if not role:
            raise CommandError("--role est obligatoire (telephony ou supervisor).")
        self.stdout.write(f"Jeton {role} créé (il ne sera plus affiché) : {create_token(role, label)}")
