"""Loopback helpers for tests that start real servers (allo serve, Kamailio, an SMTP or OpenID provider)."""

from __future__ import annotations

import socket

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
