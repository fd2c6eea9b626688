"""`allo voice …`: the voice edge's commands.

    allo voice up --allo URL [--token T] [--sip H:P] [--evapi H:P] [--ng H:P] [--rtp-ports L-H]
                  [--dtmf H:P] [--media-host H] [--node NAME --dmq H:P --dmq-peer H:P ...]
        writes the configuration, starts rtpengine, Kamailio and the adapter, runs until SIGTERM or
        Ctrl-C, then stops all three by PID; without --token a telephony token is created in the
        local database
    allo voice demo [--host H] [--port P]
        the demo: `allo serve` with ALLO_VOICE_EDGE=1 (no call generator), a SIP password for the
        demo operator, then `allo voice up` against it (what `make voice` runs; allo/voice/demo.py)
    allo voice config [same addresses]      writes the configuration files only (prints their paths)
    allo voice credentials [--agent NAME] [--reset]
        the agents' SIP accounts: address, whether a password is set, phone registered; with --reset
        (and --agent), a new password for that agent, printed once (the agent's desk does the same)
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allo.project.settings")
    import django

    django.setup()
    from django.conf import settings

    return settings


def _config(args):
    settings = _django()
    from allo.voice.config import VoiceConfig

    rtp = None
    if getattr(args, "rtp_ports", None):
        low, _, high = args.rtp_ports.partition("-")
        rtp = (int(low), int(high))
    return VoiceConfig.from_env(settings.DATA_DIR, sip=args.sip, evapi=args.evapi, ng=args.ng, rtp_ports=rtp,
                                sip_domain=args.sip_domain, dtmf=getattr(args, "dtmf", None),
                                media_host=getattr(args, "media_host", None), node=getattr(args, "node", None),
                                dmq=getattr(args, "dmq", None), dmq_peers=getattr(args, "dmq_peer", None))


def _write(config):
    from allo.voice import config as voice_config
    from allo.voice import prompts

    return voice_config.write(config) + prompts.generate(config.prompts_root, prompts.TEXTS | _closed_prompt())


def _closed_prompt() -> dict[str, str]:
    """« ferme » with the N1 platform's weekly hours (the line callers dial); none without a database
    or a platform yet."""
    from django.db import DatabaseError

    from allo.org.hours import opening_hours_for
    from allo.org.models import Centre
    from allo.voice.prompts import closed_text

    try:
        centre = Centre.objects.filter(kind=Centre.Kind.N1_PLATFORM, active=True).order_by("pk").first()
        if centre is None:
            return {}
        return {"ferme": closed_text(opening_hours_for(centre).weekly)}
    except DatabaseError as exc:
        logging.getLogger(__name__).warning("no « ferme » announcement: %s", exc)
        return {}


def up(args) -> int:
    config = _config(args)
    from allo.voice.stack import Stack, StackError

    token = args.token or os.environ.get("ALLO_VOICE_TOKEN", "")
    if not token:
        from allo.contact_centre.tokens import create_token

        token = create_token("telephony", "voice")
        print("Jeton telephony créé pour l'adaptateur voix (label « voice »).", flush=True)
    _write(config)
    stack = Stack(config, args.allo, token)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stack.start(timeout=args.start_timeout)
    except StackError as exc:
        print(f"allo voice up: {exc}", file=sys.stderr)
        return 1
    node = f"node {config.node}, " if config.node else ""
    peers = f", DMQ peers {', '.join(f'{h}:{p}' for h, p in config.dmq_peers)}" if config.dmq_peers else ""
    print(f"voice edge up: {node}SIP udp:{config.sip[0]}:{config.sip[1]}{peers}, service numbers "
          f"{', '.join(config.service_numbers)}, logs {config.log_dir}", flush=True)
    status = 0
    try:
        while not stop.wait(0.5):
            dead = stack.exited()
            if dead:
                print(f"allo voice up: {dead} stopped:\n{stack.tail(dead)}", file=sys.stderr)
                status = 1
                break
    finally:
        stack.stop()
    print("voice edge stopped", flush=True)
    return status


def config_cmd(args) -> int:
    for path in _write(_config(args)):
        print(path)
    return 0


def credentials(args) -> int:
    _django()
    from django.contrib.auth import get_user_model

    from allo.voice import credentials as creds
    from allo.voice.models import SipAccount

    users = get_user_model().objects.filter(is_active=True, groups__name__in=creds.AGENT_ROLES).distinct()
    if args.agent:
        users = users.filter(username=args.agent)
    agents = [u for u in users.order_by("username") if creds.is_agent(u)]
    if args.agent and not agents:
        print(f"{args.agent}: pas un opérateur ni un expert actif (ou identifiant inutilisable en SIP)", file=sys.stderr)
        return 1
    if args.reset:
        if not args.agent:
            print("--reset demande --agent NOM", file=sys.stderr)
            return 2
        password = creds.generate(agents[0])  # audited: by the agent's own account (no web user here)
        print(f"{agents[0].username} {password} sip:{agents[0].username}@{creds.realm()}")
        return 0
    accounts = {a.user_id: a for a in SipAccount.objects.filter(user__in=agents)}
    for user in agents:
        account = accounts.get(user.pk)
        secret = "mot-de-passe:défini" if account and account.ha1 and account.realm == creds.realm() else \
            "mot-de-passe:aucun"
        phone = "téléphone:connecté" if account and account.registered else "téléphone:non-connecté"
        print(f"{user.username} sip:{user.username}@{creds.realm()} {secret} {phone}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="allo voice", description="The voice edge (Kamailio, rtpengine).")
    sub = parser.add_subparsers(dest="action", required=True)

    def addresses(p):
        p.add_argument("--sip", help="SIP listening address HOST:PORT (ALLO_VOICE_SIP, default 127.0.0.1:5060)")
        p.add_argument("--sip-domain", help="agents' SIP domain and realm (default: the SIP host)")
        p.add_argument("--evapi", help="Kamailio's evapi address (ALLO_VOICE_EVAPI, default 127.0.0.1:8448)")
        p.add_argument("--ng", help="rtpengine's ng address (ALLO_VOICE_NG, default 127.0.0.1:22222)")
        p.add_argument("--rtp-ports", help="RTP port range LOW-HIGH (ALLO_VOICE_RTP_PORTS, default 30000-30999)")
        p.add_argument("--dtmf", help="where rtpengine sends the keys, HOST:PORT (ALLO_VOICE_DTMF, default 127.0.0.1:22223)")
        p.add_argument("--media-host", help="where rtpengine relays media (ALLO_VOICE_MEDIA_HOST, default 127.0.0.1)")
        p.add_argument("--node", help="this node's name, when there are several (ALLO_VOICE_NODE; files in "
                       "ALLO_DATA_DIR/voice-<node>/)")
        p.add_argument("--dmq", help="this node's DMQ address HOST:PORT (ALLO_VOICE_DMQ, default: SIP host, port 5090)")
        p.add_argument("--dmq-peer", action="append", help="another node's DMQ address HOST:PORT, once per node "
                       "(ALLO_VOICE_DMQ_PEERS, comma-separated): registrations are shared with them")

    p_up = sub.add_parser("up", help="start Kamailio, rtpengine and the adapter until SIGTERM")
    p_up.add_argument("--allo", required=True, help="Allô's base URL, e.g. http://127.0.0.1:8000")
    p_up.add_argument("--token", help="a telephony token (default: ALLO_VOICE_TOKEN, else one is created)")
    p_up.add_argument("--start-timeout", type=float, default=20.0, help="seconds each process has to be ready")
    addresses(p_up)
    p_demo = sub.add_parser("demo", help="the demo server with the voice edge in front (make voice)")
    p_demo.add_argument("--host", default="127.0.0.1")
    p_demo.add_argument("--port", type=int, default=8000)
    p_demo.add_argument("--start-timeout", type=float, default=20.0, help="seconds each process has to be ready")
    p_demo.set_defaults(token=None, sip=None, sip_domain=None, evapi=None, ng=None, rtp_ports=None, dtmf=None,
                        media_host=None, node=None, dmq=None, dmq_peer=None)
    p_config = sub.add_parser("config", help="write the configuration files")
    addresses(p_config)
    p_cred = sub.add_parser("credentials", help="the agents' SIP accounts")
    p_cred.add_argument("--agent")
    p_cred.add_argument("--reset", action="store_true", help="a new password for --agent, printed once")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.action == "demo":
        from allo.voice.demo import run

        return run(args, up)
    return {"up": up, "config": config_cmd, "credentials": credentials}[args.action](args)
