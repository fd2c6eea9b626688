"""`allo voice demo` (what `make voice` runs): the demo web server with the voice edge in front of it.

Starts `allo serve` (ALLO_VOICE_EDGE=1, no call generator: calls come from SIP phones) as a child
process, waits until its router answers /healthz, gives the demo operator a SIP password (printed
once, with the phone settings), then runs `allo voice up` against it until SIGTERM or Ctrl-C, and
stops the server by its PID. `make run` stays the demo without voice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

SERVER_START_TIMEOUT = 240  # collectstatic and the index's mapping on a small, busy machine
DEMO_AGENT = "operateur"


def _wait_healthy(base: str, server: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def run(args, up) -> int:
    """`up(args)` is `allo voice up`, run once the server is healthy, with args.allo set to it. The
    SIP addresses come from the environment (ALLO_VOICE_SIP...), which the server and the edge share:
    the digest realm is part of every stored HA1."""
    from allo.voice.stack import DEBIAN_PACKAGES, missing_binaries

    missing = missing_binaries()
    if missing:
        print(f"allo voice demo : manquant : {', '.join(missing)}. En root : apt-get install {DEBIAN_PACKAGES}",
              file=sys.stderr)
        return 1
    base = f"http://{args.host}:{args.port}"
    env = os.environ | {"ALLO_VOICE_EDGE": "1"}
    server = subprocess.Popen([sys.executable, "-m", "allo", "serve", "--host", args.host, "--port", str(args.port),
                               "--no-callgen"], env=env, start_new_session=True)
    try:
        print(f"Démarrage du serveur web sur {base} (pid {server.pid})…", flush=True)
        if not _wait_healthy(base, server, SERVER_START_TIMEOUT):
            print("allo voice demo : le serveur web n'a pas démarré (voir ses messages ci-dessus).", file=sys.stderr)
            return 1
        from allo.voice.cli import _django

        _django()
        from django.contrib.auth import get_user_model

        from allo.voice import credentials as creds

        agent = get_user_model().objects.filter(username=DEMO_AGENT, is_active=True).first()
        if agent is not None and creds.is_agent(agent):
            password = creds.generate(agent)
            sip_host, sip_port = os.environ.get("ALLO_VOICE_SIP", "127.0.0.1:5060").rsplit(":", 1)
            print(f"\nTéléphone SIP de « {DEMO_AGENT} » (mot de passe affiché une fois) :\n"
                  f"  identifiant  {DEMO_AGENT}\n  mot de passe {password}\n"
                  f"  domaine      {creds.realm()}\n  serveur      {sip_host}:{sip_port} (UDP)\n"
                  f"  baresip      <sip:{DEMO_AGENT}@{creds.realm()}>;auth_pass={password};"
                  f"outbound=\"sip:{sip_host}:{sip_port}\"\n"
                  f"Connectez-vous sur {base}/connexion/ ({DEMO_AGENT}), cliquez « Prêt » sur le poste, "
                  f"puis appelez sip:3939@{sip_host}:{sip_port}.\n", flush=True)
        args.allo = base
        return up(args)
    finally:
        _stop(server)
