"""Payload validation of the telephony API, with French messages for the connector's logs."""

from __future__ import annotations

import json
import re

PHONE = re.compile(r"^\+?[0-9]{2,15}$")


class PayloadError(ValueError):
    pass


def parse_json(body: bytes) -> dict:
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise PayloadError("Le corps de la requête n'est pas du JSON valide.") from None
    if not isinstance(data, dict):
        raise PayloadError("Le corps de la requête doit être un objet JSON.")
    return data


def _text(data: dict, name: str, *, required: bool, max_length: int, pattern=None) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise PayloadError(f"Le champ « {name} » est obligatoire.")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PayloadError(f"Le champ « {name} » doit être une chaîne de caractères.")
    value = str(value).strip()
    if len(value) > max_length:
        raise PayloadError(f"Le champ « {name} » dépasse {max_length} caractères.")
    if pattern is not None and not pattern.match(value):
        raise PayloadError(f"Le champ « {name} » n'est pas un numéro de téléphone valide (chiffres, + en tête).")
    return value


def call_payload(data: dict) -> dict:
    unknown = set(data) - {"caller", "dialed", "ivr_choice", "event_id"}
    if unknown:
        raise PayloadError(f"Champ(s) inconnu(s) : {', '.join(sorted(unknown))}.")
    return {
        "caller": _text(data, "caller", required=True, max_length=16, pattern=PHONE),
        "dialed": _text(data, "dialed", required=True, max_length=16, pattern=PHONE),
        "ivr_choice": _text(data, "ivr_choice", required=False, max_length=20),
        "event_id": _text(data, "event_id", required=False, max_length=80),
    }


def callback_answer_payload(data: dict) -> bool:
    accepted = data.get("accepted")
    if not isinstance(accepted, bool):
        raise PayloadError("Le champ « accepted » est obligatoire et doit valoir true ou false.")
    return accepted
