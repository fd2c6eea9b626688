"""Agents' SIP credentials, first slice: the SIP account of an agent is its Allô username, and its
password is derived from the site's secret key (HMAC), so nothing new is stored and the same
password comes back on every node. An agent's phone is configured with `allo voice credentials
--agent NAME`. Managing them in Allô (shown on the desk, reset by an admin) is left: docs/voice.md.
"""

from __future__ import annotations

from django.utils.crypto import salted_hmac

from allo.voice.config import SIP_USER

AGENT_ROLES = ("operator", "expert")


def sip_password(username: str) -> str:
    return salted_hmac("allo.voice.sip-password", username, algorithm="sha256").hexdigest()[:24]


def agents() -> list[str]:
    """Usernames of the active operators and experts whose name SIP carries as is."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True, groups__name__in=AGENT_ROLES).distinct()
    return sorted(u for u in users.values_list("username", flat=True) if SIP_USER.match(u))


def agent_credentials() -> dict[str, str]:
    return {username: sip_password(username) for username in agents()}
