"""`allo serve`: the ASGI server (HTTP and WebSockets) through Uvicorn, with the embedded router
and a calm built-in call generator (see allo.contact_centre).

`--workers N` runs N web processes on one socket. They share what must be shared through Redis
(REDIS_URL: channel layer and cache); the embedded router then runs once, in the parent process.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from allo.bootstrap import bootstrap


def prepare_metrics_dir() -> Path:
    """prometheus-client's multiprocess mode (allo.web.metrics): every process of this server (the
    Uvicorn workers, the embedded router here) writes its figures under PROMETHEUS_MULTIPROC_DIR and a
    scrape of /metrics sums them. Unset: ALLO_DATA_DIR/metrics, emptied now (an earlier run's values
    must not be added to this one's). Set by the operator: used as it is (wiped by the unit that owns
    it, e.g. systemd's RuntimeDirectory=, since an external `allo router` may write there too). Before
    anything imports prometheus_client: it picks its storage from the variable at import."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        Path(configured).mkdir(parents=True, exist_ok=True)
        return Path(configured)
    folder = Path(settings.DATA_DIR) / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # inherited by the worker processes
    return folder


class Command(BaseCommand):
    help = "Lance le serveur web (ASGI : HTTP et WebSocket), le routeur d'appels intégré et le simulateur d'appels."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port d'écoute (défaut : 8000)")
        parser.add_argument("--no-router", action="store_true",
                            help="ne pas lancer le routeur intégré (un processus « allo router » tourne à part)")
        parser.add_argument("--no-callgen", action="store_true", help="ne pas lancer le simulateur d'appels")
        parser.add_argument("--callgen-rate", type=float,
                            default=float(os.environ.get("ALLO_CALLGEN_RATE", "0.03")),
                            help="appels simulés par seconde (défaut : 0,03, soit ~2 par minute)")
        parser.add_argument("--virtual-agents", type=int, default=0, help="agents simulés du simulateur")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("ALLO_WEB_WORKERS", "1")),
                            help="processus web (défaut : 1 ; plusieurs demandent REDIS_URL)")

    def handle(self, *args, host: str, port: int, no_router: bool, no_callgen: bool, callgen_rate: float,
               virtual_agents: int, workers: int, **options):
        if workers < 1:
            raise CommandError("--workers : indiquez au moins 1 processus web.")
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError("Plusieurs processus web doivent partager leurs messages et leur cache : "
                               "définissez REDIS_URL (par exemple redis://127.0.0.1:6379/0) ou gardez --workers 1.")
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        metrics_dir = prepare_metrics_dir()
        shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
        base = f"http://{shown}:{port}"
        self.stdout.write(self.style.SUCCESS(f"Allô est servi sur {base}/"))
        for label, path in [("Accueil", "/"), ("Connexion des agents", "/connexion/"),
                            ("Administration", "/admin/"), ("Santé", "/healthz"), ("Métriques", "/metrics")]:
            self.stdout.write(f"  {label:<22} {base}{path}")
        self.stdout.write(f"  (métriques de tous les processus via {metrics_dir})")
        # this process's services: with one web worker, the lifespan of the application Uvicorn runs
        # here starts serving with them; more workers build their own (allo.bootstrap)
        embedded = not no_router and os.environ.get("ALLO_ROUTER", "embedded") == "embedded"
        bootstrap(start_router=embedded)
        if embedded:
            self.stdout.write("  Routeur d'appels intégré démarré.")
        if not no_callgen and callgen_rate > 0:
            from allo.contact_centre.callgen import CallGenerator

            gen = CallGenerator(base, rate=callgen_rate, virtual_agents=virtual_agents)
            threading.Thread(target=gen.run, args=(0,), name="allo-callgen", daemon=True).start()
            self.stdout.write(f"  Simulateur d'appels : {callgen_rate:g} appel/s (--no-callgen pour l'arrêter).")
        if workers > 1:
            self.stdout.write(f"  {workers} processus web (couche de canaux et cache Redis).")
        self.stdout.flush()
        uvicorn.run(settings.ASGI_APPLICATION.replace(".application", ":application"), host=host, port=port,
                    # the peer stays in REMOTE_ADDR: Django reads X-Forwarded-For itself, believing only
                    # ALLO_TRUSTED_PROXIES (allo.web.client), whatever FORWARDED_ALLOW_IPS says
                    workers=workers, proxy_headers=False, lifespan="on", access_log=False,
                    log_level=os.environ.get("ALLO_LOG_LEVEL", "INFO").lower(), log_config=None)
