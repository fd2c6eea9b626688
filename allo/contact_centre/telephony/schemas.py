"""Payload validation of the telephony API, with French messages for the connector's logs."""

from __future__ import annotations

import json
import re

import phonenumbers

# The shapes of the connector's fields, written once: these checks and the OpenAPI schema
# (telephony/openapi.py) use them.
# A phone number as a PBX presents it: digits with an optional leading + (_phone checks the rest).
PHONE_PATTERN = r"^\+?[0-9]{2,15}$"
PHONE = re.compile(PHONE_PATTERN)
# What a PBX sends: key presses (digits, * and #) or a short label of its menu; never markup.
IVR_CHOICE_CHARS = r"[0-9A-Za-z*#._-]"
IVR_CHOICE = re.compile(rf"^{IVR_CHOICE_CHARS}+$")
IVR_CHOICE_MAX = 20
# A PBX's own event identifier (Asterisk's "1712345678.42", a UUID...): visible ASCII, no space.
EVENT_ID_CHARS = r"[\x21-\x7e]"
EVENT_ID = re.compile(rf"^{EVENT_ID_CHARS}+$")
EVENT_ID_MAX = 80
# An agent as the telephony knows it: its Allô username (the SIP user part of its phone).
AGENT_PATTERN = r"^[A-Za-z0-9._+@-]{1,150}$"
AGENT = re.compile(AGENT_PATTERN)
# Control characters (NUL above all: PostgreSQL refuses it in text and jsonb).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PayloadError(ValueError):
    pass


def parse_json(body: bytes) -> dict:
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # RecursionError: nesting too deep
        raise PayloadError("Le corps de la requête n'est pas du JSON valide.") from None
    if not isinstance(data, dict):
        raise PayloadError("Le corps de la requête doit être un objet JSON.")
    return data


def _text(data: dict, name: str, *, required: bool, max_length: int, pattern=None, invalid: str = "") -> str:
    """A string field; `pattern` checks its shape (`invalid`: the French message when it does not match)."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise PayloadError(f"Le champ « {name} » est obligatoire.")
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"Le champ « {name} » doit être une chaîne de caractères.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800": valid JSON, not storable text
        raise PayloadError(f"Le champ « {name} » contient un caractère invalide.") from None
    if CONTROL.search(value):
        raise PayloadError(f"Le champ « {name} » contient un caractère de contrôle non autorisé.")
    value = value.strip()
    if len(value) > max_length:
        raise PayloadError(f"Le champ « {name} » dépasse {max_length} caractères.")
    if pattern is not None and not pattern.match(value):
        raise PayloadError(invalid)
    return value


def _phone(data: dict, name: str) -> str:
    """A phone number as the PBX presents it: digits with an optional leading +, of a length some
    numbering plan allows ("00" or "0611" are not numbers; an overseas or foreign caller is)."""
    invalid = f"Le champ « {name} » n'est pas un numéro de téléphone valide (chiffres, + en tête)."
    value = _text(data, name, required=True, max_length=16, pattern=PHONE, invalid=invalid)
    if name == "dialed":  # the line's own short number (3939) is dialled too
        return value
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise PayloadError(invalid)
    return value


def call_payload(data: dict) -> dict:
    unknown = set(data) - {"caller", "dialed", "ivr_choice", "event_id"}
    if unknown:
        raise PayloadError(f"Champ(s) inconnu(s) : {', '.join(sorted(unknown))}.")
    return {
        "caller": _phone(data, "caller"),
        "dialed": _phone(data, "dialed"),
        "ivr_choice": _text(data, "ivr_choice", required=False, max_length=IVR_CHOICE_MAX, pattern=IVR_CHOICE,
                            invalid="Le champ « ivr_choice » n'est pas valide : touches du clavier "
                                    "(chiffres, * et #) ou lettres, sans espace."),
        "event_id": _text(data, "event_id", required=False, max_length=EVENT_ID_MAX, pattern=EVENT_ID,
                          invalid="Le champ « event_id » n'est pas valide : caractères ASCII "
                                  "visibles, sans espace."),
    }


def callback_answer_payload(data: dict) -> bool:
    accepted = data.get("accepted")
    if not isinstance(accepted, bool):
        raise PayloadError("Le champ « accepted » est obligatoire et doit valoir true ou false.")
    return accepted


def no_answer_payload(data: dict) -> dict:
    unknown = set(data) - {"agent", "event_id"}
    if unknown:
        raise PayloadError(f"Champ(s) inconnu(s) : {', '.join(sorted(unknown))}.")
    return {
        "agent": _text(data, "agent", required=True, max_length=150, pattern=AGENT,
                       invalid="Le champ « agent » n'est pas un identifiant d'agent valide."),
        "event_id": _text(data, "event_id", required=False, max_length=EVENT_ID_MAX, pattern=EVENT_ID,
                          invalid="Le champ « event_id » n'est pas valide : caractères ASCII "
                                  "visibles, sans espace."),
    }
