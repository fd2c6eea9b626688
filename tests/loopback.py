"""Loopback helpers for tests that start real servers (allo serve, Kamailio, an SMTP or OpenID provider)
and call them."""

from __future__ import annotations

import json
import socket
import urllib.request

REDIS = ("127.0.0.1", 6379)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free on 127.0.0.1 now (TCP by default, or UDP)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


def post_call(base: str, token: str, caller: str, dialed: str = "3939") -> str:
    """A call arriving through the public telephony API of the server at `base`; its id."""
    request = urllib.request.Request(base + "/api/telephony/calls", method="POST",
                                     data=json.dumps({"caller": caller, "dialed": dialed}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["call_id"]
