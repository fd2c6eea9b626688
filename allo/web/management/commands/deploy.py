"""`allo deploy nginx`: the nginx configuration of the production layout (docs/deploy.md), rendered
from allo/web/deploy/nginx.conf.tmpl, the one file the production-layout test renders too."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template import Context, Engine

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf.tmpl"
# what may reach the configuration unquoted: no space, semicolon, brace or quote
_SAFE = re.compile(r"^[A-Za-z0-9_.:/\-\[\]*~]+$")


def render_nginx(*, server_name: str, upstream: str, static_root: str, cache_dir: str, ssl_certificate: str,
                 ssl_certificate_key: str, https_port: int = 443, http_port: int = 80,
                 access_log: str = "/var/log/nginx/allo.access.log", cache_size: str = "1g",
                 views_log: str = "/var/log/nginx/allo.views.log") -> str:
    """The http-context configuration (http_port 0: no plain-HTTP server redirecting to HTTPS;
    views_log "off": the portal's statistics count only the pages Allô serves itself)."""
    values = {"server_name": server_name, "upstream": upstream, "static_root": str(static_root).rstrip("/"),
              "cache_dir": str(cache_dir), "ssl_certificate": str(ssl_certificate),
              "ssl_certificate_key": str(ssl_certificate_key), "access_log": str(access_log),
              "cache_size": cache_size, "views_log": str(views_log)}
    for name, value in values.items():
        if not all(_SAFE.match(part) for part in value.split(" ")) or not value:
            raise CommandError(f"--{name.replace('_', '-')} : valeur refusée dans une configuration nginx ({value!r}).")
    engine = Engine(autoescape=False)
    return engine.from_string(TEMPLATE.read_text()).render(
        Context({**values, "https_port": int(https_port), "http_port": int(http_port)}))


class Command(BaseCommand):
    help = "Écrit la configuration nginx de la mise en production (docs/deploy.md) sur la sortie standard."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        nginx = sub.add_parser("nginx", help="configuration nginx (contexte http : /etc/nginx/conf.d/allo.conf)")
        nginx.add_argument("--server-name", required=True, help="nom(s) du site, séparés par des espaces")
        nginx.add_argument("--upstream", default="127.0.0.1:8000",
                           help="adresse d'« allo serve » (défaut : 127.0.0.1:8000 ; ou unix:/chemin)")
        nginx.add_argument("--static-root", default=str(settings.STATIC_ROOT),
                           help="fichiers statiques de collectstatic (défaut : ALLO_DATA_DIR/static)")
        nginx.add_argument("--cache-dir", default="/var/cache/nginx/allo", help="cache des pages publiques")
        nginx.add_argument("--cache-size", default="1g", help="taille maximale du cache des pages (défaut : 1g)")
        nginx.add_argument("--ssl-certificate", required=True, help="certificat TLS (chaîne complète, PEM)")
        nginx.add_argument("--ssl-certificate-key", required=True, help="clé privée TLS (PEM)")
        nginx.add_argument("--https-port", type=int, default=443)
        nginx.add_argument("--http-port", type=int, default=80, help="redirection vers HTTPS (0 : aucune)")
        nginx.add_argument("--access-log", default="/var/log/nginx/allo.access.log")
        nginx.add_argument("--views-log", default="/var/log/nginx/allo.views.log",
                           help="pages vues, pour « allo portal_nginx_views » (off : aucun)")

    def handle(self, *args, what: str, **options):
        self.stdout.write(render_nginx(
            server_name=options["server_name"], upstream=options["upstream"], static_root=options["static_root"],
            cache_dir=options["cache_dir"], cache_size=options["cache_size"],
            ssl_certificate=options["ssl_certificate"], ssl_certificate_key=options["ssl_certificate_key"],
            https_port=options["https_port"], http_port=options["http_port"], access_log=options["access_log"],
            views_log=options["views_log"]),
            ending="")
