"""The telephony API's bodies are validated by pydantic models and refused with the API's French
messages (issue 14); the OpenAPI components are generated from the same models."""

from __future__ import annotations

import pytest

from allo.contact_centre.telephony import schemas
from allo.contact_centre.telephony.openapi import SCHEMA


def _refusal(model, data: dict) -> str:
    with pytest.raises(schemas.PayloadError) as refused:
        schemas.payload(model, data)
    return str(refused.value)


@pytest.mark.parametrize("data, message", [
    ({"dialed": "3939"}, "Le champ « caller » est obligatoire."),
    ({"caller": "", "dialed": "3939"}, "Le champ « caller » est obligatoire."),
    ({"caller": None, "dialed": "3939"}, "Le champ « caller » est obligatoire."),
    ({"caller": 33611223344, "dialed": "3939"}, "Le champ « caller » doit être une chaîne de caractères."),
    ({"caller": "0611", "dialed": "3939"},
     "Le champ « caller » n'est pas un numéro de téléphone valide (chiffres, + en tête)."),
    ({"caller": "+33611223344", "dialed": "39 39 39"},
     "Le champ « dialed » n'est pas un numéro de téléphone valide (chiffres, + en tête)."),
    ({"caller": "+33611223344", "dialed": "3939", "ivr_choice": "1\x00"},
     "Le champ « ivr_choice » contient un caractère de contrôle non autorisé."),
    ({"caller": "+33611223344", "dialed": "3939", "event_id": "\ud800"},
     "Le champ « event_id » contient un caractère invalide."),
    ({"caller": "+33611223344", "dialed": "3939", "event_id": "x" * 81}, "Le champ « event_id » dépasse 80 caractères."),
    ({"caller": "+33611223344", "dialed": "3939", "ivr_choice": "<b>"},
     "Le champ « ivr_choice » n'est pas valide : touches du clavier (chiffres, * et #) ou lettres, sans espace."),
    ({"caller": "0611", "dialed": "3939", "colour": "red", "size": 1}, "Champ(s) inconnu(s) : colour, size."),
])
def test_a_refused_call_gets_its_french_message(data, message):
    assert _refusal(schemas.NouvelAppel, data) == message


def test_accepted_values_are_stripped_and_absent_ones_empty():
    call = schemas.payload(schemas.NouvelAppel, {"caller": " +262692123456 ", "dialed": "3939", "event_id": None})
    assert (call.caller, call.dialed, call.ivr_choice, call.event_id) == ("+262692123456", "3939", "", "")


@pytest.mark.parametrize("model, data, message", [
    (schemas.ReponseAuRappel, {"accepted": "oui"}, "Le champ « accepted » est obligatoire et doit valoir true ou false."),
    (schemas.ReponseAuRappel, {}, "Le champ « accepted » est obligatoire et doit valoir true ou false."),
    (schemas.TelephoneEnregistre, {"registered": 1}, "Le corps doit être {\"registered\": true|false}."),
    (schemas.TelephoneEnregistre, {"registered": True, "x": 1}, "Le corps doit être {\"registered\": true|false}."),
    (schemas.PasDeReponse, {"agent": "<b>"}, "Le champ « agent » n'est pas un identifiant d'agent valide."),
    (schemas.Acquittement, {"type": "ack", "seq": -1}, "« seq » doit être un entier positif."),
    (schemas.Acquittement, {"type": "ack", "seq": True}, "« seq » doit être un entier positif."),
])
def test_the_other_bodies_keep_their_messages(model, data, message):
    assert _refusal(model, data) == message


def test_the_components_are_the_models_schemas():
    components = SCHEMA["components"]["schemas"]
    call = components["NouvelAppel"]
    assert call["required"] == ["caller", "dialed"] and call["additionalProperties"] is False
    assert call["properties"]["event_id"]["maxLength"] == 80
    assert components["EtatAppel"]["properties"]["partner"]["type"] == ["integer", "null"]
    assert "null" not in str(components["Commande"]["properties"]["agent"])  # absent, never null
    refs = {ref.rsplit("/", 1)[1] for ref in _refs(SCHEMA["paths"])}
    assert refs <= set(components)
    assert {"NouvelAppel", "PasDeReponse", "ReponseAuRappel", "TelephoneEnregistre", "MurEnDirect"} <= refs


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)
