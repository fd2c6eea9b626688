"""The `allo` console entry point.

Pure commands (simulation, staffing) run without loading Django, so they start fast and prove
the routing core stands alone. Everything else is a Django management command of the project.
"""

from __future__ import annotations

import importlib
import os
import sys

# command name -> "module:function" taking argv (list[str]) and returning an exit code
PURE_COMMANDS = {
    "simulate": "allo.simulation.cli:simulate_main",
    "erlang": "allo.simulation.cli:erlang_main",
    "staffing": "allo.simulation.cli:staffing_main",
}
# commands with their own argument parsing that set Django up only when they need it
OWN_COMMANDS = {
    "voice": "allo.voice.cli:main",
}

USAGE = """usage: allo <command> [options]

Commands:
  init [--demo]             create or upgrade the database; --demo loads the demo data
  serve [--host H] [--port P]
                            run the web server (ASGI)
  kb import|export|eval     knowledge base tools
  simulate                  simulate the contact centre with the routing engine
  erlang                    Erlang C / Erlang A staffing figures
  staffing                  agents needed per interval for a scenario
  staffing --from D1 --to D2
                            ... for the forecast learnt from the history (Erlang A, shrinkage)
  forecast --from D1 --to D2
                            expected calls per interval, learnt from the history
  history import FILE.csv   a previous system's call records (history rebuild: the stored aggregates)
  report --from D1 --to D2 [--json | --format csv|ods|xlsx|pdf --output FILE]
                            the « Bilan » per day: figures, its tables as a file, or its PDF report
  router                    the live router as its own process (production)
  token create --role R     an API token (telephony or supervisor)
  voice up --allo URL       the voice edge: Kamailio, rtpengine and the adapter (docs/voice.md)
  callgen                   drive the telephony API like a connector
  partners list [--json]    the partner administrations and their entry numbers
  purge, portal_purge       delete personal data past the retention period
  <django command>          any Django management command (migrate, createsuperuser, ...)

Run 'allo <command> --help' for a command's options.
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    # `allo staffing --from D1 --to D2` plans from the stored history (a Django command, allo/forecast);
    # without --from, the pure command plans a scenario's day
    from_history = command == "staffing" and any(a == "--from" or a.startswith("--from=") for a in rest)
    if (command in PURE_COMMANDS and not from_history) or command in OWN_COMMANDS:
        module_name, func_name = (PURE_COMMANDS.get(command) or OWN_COMMANDS[command]).split(":")
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(rest) or 0)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allo.project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["allo", command, *rest])
    return 0
