"""Agents' SIP credentials, managed in Allô: the SIP user of an agent is its Allô username, its
password a random secret the agent generates on its desk (« Mon téléphone »), shown once; only its
HA1 is stored (models.SipAccount says why). An administrator resets it (the phone is refused until
the agent generates a new one); both are audited (SipAccountEvent). The voice edge reads the HA1s
through the telephony API (GET /api/telephony/sip-accounts) and loads them into Kamailio.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import uuid

from django.db import transaction
from django.utils import timezone

from allo.voice.config import SIP_USER
from allo.voice.models import SipAccount, SipAccountEvent

logger = logging.getLogger("allo.voice.credentials")

AGENT_ROLES = ("operator", "expert")


def realm() -> str:
    """The digest realm (and the agents' SIP domain): ALLO_VOICE_SIP_DOMAIN, else the host of
    ALLO_VOICE_SIP, as the edge's VoiceConfig.domain computes it."""
    return (os.environ.get("ALLO_VOICE_SIP_DOMAIN")
            or os.environ.get("ALLO_VOICE_SIP", "127.0.0.1:5060").rpartition(":")[0] or "127.0.0.1")


def voice_edge() -> bool:
    """ALLO_VOICE_EDGE=1: calls come through the voice edge; agents need a registered phone."""
    return os.environ.get("ALLO_VOICE_EDGE", "").strip().lower() in {"1", "true", "yes", "on"}


def ha1(username: str, realm_: str, password: str) -> str:
    return hashlib.md5(f"{username}:{realm_}:{password}".encode()).hexdigest()


def is_agent(user) -> bool:
    return bool(user.is_active and SIP_USER.match(user.get_username()) and user.has_role(*AGENT_ROLES))


def generate(user, by=None) -> str:
    """A new SIP password for the agent `user` (its previous one stops working); returns it, the only
    time it exists in clear. `by`: who asked (the agent itself, or an administrator)."""
    if not is_agent(user):
        raise ValueError(f"{user.get_username()!r} is not an active operator or expert with a SIP-safe username")
    password = secrets.token_urlsafe(18)  # 144 random bits, letters, digits, - and _: any phone accepts them
    with transaction.atomic():
        SipAccount.objects.update_or_create(user=user, defaults={"ha1": ha1(user.get_username(), realm(), password),
                                                                 "realm": realm()})
        SipAccountEvent.objects.create(action=SipAccountEvent.Action.GENERATED, agent=user.get_username(),
                                       by=by or user)
    logger.info("sip password generated", extra={"agent": user.get_username(), "by": getattr(by or user, "pk", None)})
    return password


def reset(user, by) -> None:
    """An administrator withdraws the agent's SIP password: its phone is refused at its next
    registration (at the latest when the edge reloads the accounts), until the agent generates one."""
    with transaction.atomic():
        SipAccount.objects.filter(user=user).update(ha1="", updated=timezone.now())
        SipAccountEvent.objects.create(action=SipAccountEvent.Action.RESET, agent=user.get_username(), by=by)
    logger.warning("sip password reset", extra={"agent": user.get_username(), "by": getattr(by, "pk", None)})


def accounts() -> list[dict]:
    """What the edge loads into Kamailio: the active agents' HA1 of the current realm (never a password),
    and their phone's registered state as Allô last heard it (the edge compares it with its own)."""
    rows = (SipAccount.objects.filter(user__is_active=True, realm=realm()).exclude(ha1="")
            .select_related("user").order_by("user__username"))
    return [{"username": a.user.get_username(), "ha1": a.ha1, "registered": a.registered}
            for a in rows if is_agent(a.user)]


def set_registered(username: str, registered: bool) -> bool | None:
    """The edge reports the agent's phone registered or not. Returns whether the state changed (None:
    no SIP account of that name). A change is a router input too: with ALLO_VOICE_EDGE the router
    offers calls only to agents whose phone is registered."""
    from allo.contact_centre.router.service import submit

    with transaction.atomic():
        account = SipAccount.objects.select_for_update().filter(user__username=username).first()
        if account is None:
            return None
        changed = account.registered != registered
        if changed:
            account.registered = registered
            account.registered_changed = timezone.now()
            account.save(update_fields=["registered", "registered_changed"])
            # journaled under the row's lock: two reports reach the router in the order they were stored
            submit("AgentPhone", {"agent": username, "registered": registered},
                   f"phone:{username}:{uuid.uuid4().hex}")
    return changed


def phone_context(user) -> dict:
    """The desk's « Mon téléphone »: SIP address, server, whether a password exists, registered state."""
    account = SipAccount.objects.filter(user=user).first()
    return {"username": user.get_username(), "domain": realm(),
            "server": os.environ.get("ALLO_VOICE_SIP", "127.0.0.1:5060"),
            "has_password": bool(account and account.ha1 and account.realm == realm()),
            "registered": bool(account and account.registered)}
