"""`allo serve`: the ASGI server (HTTP and WebSockets) through Daphne."""

from __future__ import annotations

from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Lance le serveur web (ASGI : HTTP et WebSocket)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port d'écoute (défaut : 8000)")

    def handle(self, *args, host: str, port: int, **options):
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
        base = f"http://{shown}:{port}"
        self.stdout.write(self.style.SUCCESS(f"Allô est servi sur {base}/"))
        for label, path in [("Accueil", "/"), ("Connexion des agents", "/connexion/"),
                            ("Administration", "/admin/"), ("Santé", "/healthz")]:
            self.stdout.write(f"  {label:<22} {base}{path}")
        self.stdout.flush()
        CommandLineInterface().run(["-b", host, "-p", str(port), "--proxy-headers", settings.ASGI_APPLICATION.rsplit(".", 1)[0] + ":application"])
