"""The client's address, as the trusted reverse proxies report it.

`allo serve` leaves the TCP peer in REMOTE_ADDR (Uvicorn's own proxy-header rewriting is off, so
FORWARDED_ALLOW_IPS="*" cannot make it believe the leftmost, client-written X-Forwarded-For entry).
When the peer is one of ALLO_TRUSTED_PROXIES, each proxy has appended the address it saw: the
client is the rightmost address that is not one of ours; what lies left of it was written by the
client and is ignored.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings


@functools.lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in trusted if n.strip())


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def is_trusted_proxy(peer: str, trusted) -> bool:
    """Whether the address `peer` is one of the reverse proxies listed in `trusted`."""
    address = _address(peer or "")
    return address is not None and any(address in net for net in _networks(tuple(trusted)))


def client_ip(request) -> str:
    peer = request.META.get("REMOTE_ADDR", "") or ""
    networks = _networks(tuple(getattr(settings, "ALLO_TRUSTED_PROXIES", ())))
    current = _address(peer)

    def trusted(address) -> bool:
        return address is not None and any(address in net for net in networks)

    if not trusted(current):
        return peer or "unknown"
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([h for h in hops.split(",") if h.strip()]):
        address = _address(hop)
        if address is None:  # not an address: the hop our proxy vouches for stays the client
            break
        current = address
        if not trusted(address):
            break
    return str(current)


def client_ip_for_axes(request, credentials=None) -> str:
    """django-axes' AXES_CLIENT_IP_CALLABLE (it also passes the credentials)."""
    return client_ip(request)
