"""OpenAPI 3.1 description of the contact centre's HTTP API, written by hand (a test checks that
every /api/ URL of the project is documented here)."""

from __future__ import annotations

from allo.contact_centre.telephony import schemas

_ERR = {"description": "Erreur", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}}}
_AUTH = [{"bearer": []}, {"session": []}]
# every authenticated operation may refuse: no or an unknown credential (401), a token or a role that
# does not open this operation, or a session request without its CSRF token (403)
_DENIED = {"401": {**_ERR, "description": "Authentification requise, ou jeton invalide ou révoqué"},
           "403": {**_ERR, "description": "Ce jeton ou ce rôle ne donne pas accès à cette ressource"}}


def _json(description: str, ref: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


SCHEMA = {
    "openapi": "3.1.0",
    "info": {"title": "Allô — API du centre de contacts", "version": "1.0.0",
             "description": "Connecteur téléphonique (appels entrants, commandes) et supervision en direct. "
                            "Authentification : `Authorization: Bearer <jeton>` (jeton issu de "
                            "`allo token create --role telephony|supervisor`) ou session d'un agent habilité."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                            "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"}},
        "schemas": {
            "Erreur": {"type": "object", "properties": {"erreur": {"type": "string"}}, "required": ["erreur"]},
            "AppelCree": {"type": "object", "required": ["call_id", "created"],
                          "properties": {"call_id": {"type": "string"}, "created": {"type": "boolean"}}},
            "EvenementRecu": {"type": "object", "required": ["call_id", "accepted"],
                              "description": "accepted : false quand le même événement avait déjà été reçu.",
                              "properties": {"call_id": {"type": "string"}, "accepted": {"type": "boolean"}}},
            "NouvelAppel": {"type": "object", "required": ["caller", "dialed"], "additionalProperties": False,
                            "properties": {"caller": {"type": "string", "pattern": schemas.PHONE_PATTERN},
                                           "dialed": {"type": "string", "pattern": schemas.PHONE_PATTERN},
                                           "ivr_choice": {"type": "string", "maxLength": schemas.IVR_CHOICE_MAX,
                                                          "pattern": rf"^{schemas.IVR_CHOICE_CHARS}*$"},
                                           "event_id": {"type": "string", "maxLength": schemas.EVENT_ID_MAX,
                                                        "pattern": rf"^{schemas.EVENT_ID_CHARS}*$",
                                                        "description": "Rejouer le même event_id ne crée rien."}}},
            "EtatAppel": {"type": "object",
                          "required": ["call_id", "state", "queue", "agent", "transferred_to", "outcome", "partner"],
                          "properties": {"call_id": {"type": "string"}, "state": {"type": "string"},
                                         "queue": {"type": "string"}, "agent": {"type": "string"},
                                         "transferred_to": {"type": "string"}, "outcome": {"type": "string"},
                                         "partner": {"type": ["integer", "null"],
                                                     "description": "Identifiant du partenaire (mairie, préfecture, "
                                                                    "CAF…) dont le standard a transmis l'appel : "
                                                                    "`dialed` est l'un de ses numéros d'entrée "
                                                                    "(docs/partners.md) ; null sinon."}}},
            "Commande": {"type": "object", "required": ["seq", "command", "call_id"], "properties": {
                "seq": {"type": "integer", "minimum": 1,
                        "description": "Identifiant et ordre de la commande : croissant, jamais réutilisé. Le "
                                       "connecteur exécute chaque seq une fois et ignore un seq déjà vu (une "
                                       "commande est renvoyée quand son acquittement s'est perdu)."},
                "command": {"enum": ["bridge", "transfer", "play", "hangup"]}, "call_id": {"type": "string"},
                "agent": {"type": "string"}, "outbound": {"type": "boolean"}, "centre": {"type": "string"},
                "domain": {"type": "string"}, "announcement": {"type": "string"}, "position": {"type": "integer"},
                "expected_wait_s": {"type": "integer"}, "reason": {"type": "string"}, "at": {"type": "number"}}},
            "ComptesSip": {"type": "object", "required": ["realm", "accounts"], "properties": {
                "realm": {"type": "string", "description": "Domaine SIP (realm du digest) des HA1."},
                "accounts": {"type": "array", "items": {
                    "type": "object", "required": ["username", "ha1"], "properties": {
                        "username": {"type": "string"},
                        "ha1": {"type": "string", "pattern": "^[0-9a-f]{32}$",
                                "description": "MD5(username:realm:mot de passe) ; le mot de passe n'est "
                                               "jamais conservé."}}}}}},
            "EtatTelephone": {"type": "object", "required": ["agent", "registered", "changed"], "properties": {
                "agent": {"type": "string"}, "registered": {"type": "boolean"},
                "changed": {"type": "boolean", "description": "false : l'état était déjà celui-là."}}},
            "Acquittement": {"type": "object", "required": ["type", "seq"], "additionalProperties": False,
                             "description": "Message du connecteur : toutes les commandes jusqu'à seq (inclus) "
                                            "sont exécutées (cumulatif).",
                             "properties": {"type": {"const": "ack"}, "seq": {"type": "integer", "minimum": 0}}},
        },
    },
    "paths": {
        "/api/telephony/calls": {"post": {
            "summary": "Un appel arrive sur la ligne", "security": _AUTH,
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NouvelAppel"}}}},
            "responses": {"201": _json("Appel créé", "AppelCree"),
                          "200": _json("Même event_id : l'appel existant", "AppelCree"), "400": _ERR, **_DENIED}}},
        "/api/telephony/calls/{call_id}": {"get": {
            "summary": "État d'un appel", "security": _AUTH,
            "parameters": [{"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "État", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/EtatAppel"}}}}, "404": _ERR, **_DENIED}}},
        "/api/telephony/calls/{call_id}/hangup": {"post": {
            "summary": "L'appelant a raccroché (idempotent)", "security": _AUTH,
            "parameters": [{"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"202": _json("Pris en compte", "EvenementRecu"),
                          "200": _json("Déjà reçu", "EvenementRecu"), "404": _ERR, **_DENIED}}},
        "/api/telephony/calls/{call_id}/alive": {"post": {
            "summary": "L'appel est toujours en cours (signe de vie)", "security": _AUTH,
            "description": "Pour une longue communication : sans signe de vie pendant ALLO_CC_LOST_AFTER "
                           "(2 h par défaut), un appel est clos comme « perdu ». Le connecteur envoie ce "
                           "signe de vie, par exemple toutes les 5 minutes, pour chaque appel en cours ; "
                           "ceux d'une même minute comptent une fois. Corps vide.",
            "parameters": [{"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"202": _json("Pris en compte", "EvenementRecu"),
                          "200": _json("Déjà reçu dans la même minute", "EvenementRecu"),
                          "404": _ERR, "409": {**_ERR, "description": "L'appel est terminé (il a pu être clos "
                                                                      "comme perdu) : le raccrocher"},
                          **_DENIED}}},
        "/api/telephony/calls/{call_id}/callback-answer": {"post": {
            "summary": "Réponse de l'appelant à une proposition de rappel", "security": _AUTH,
            "parameters": [{"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["accepted"], "properties": {"accepted": {"type": "boolean"}}}}}},
            "responses": {"202": _json("Pris en compte", "EvenementRecu"),
                          "200": _json("Réponse déjà reçue pour cet appel", "EvenementRecu"),
                          "400": _ERR, "404": _ERR, **_DENIED}}},
        "/api/telephony/calls/{call_id}/no-answer": {"post": {
            "summary": "Le téléphone de l'agent n'a pas répondu (sonnerie sans réponse, refus, injoignable)",
            "security": _AUTH,
            "description": "L'appel revient en tête de sa file ; l'agent passe en pause « Pas de réponse » : "
                           "plus aucun appel ne lui est proposé avant qu'il clique « Prêt ». Ignoré si l'agent "
                           "ne tient plus l'appel. `event_id` (la tentative côté connecteur) : le même compte "
                           "une fois.",
            "parameters": [{"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["agent"], "additionalProperties": False, "properties": {
                    "agent": {"type": "string", "pattern": schemas.AGENT_PATTERN},
                    "event_id": {"type": "string", "maxLength": schemas.EVENT_ID_MAX,
                                 "pattern": rf"^{schemas.EVENT_ID_CHARS}*$"}}}}}},
            "responses": {"202": _json("Pris en compte", "EvenementRecu"),
                          "200": _json("Même event_id : déjà reçu", "EvenementRecu"),
                          "400": _ERR, "404": _ERR, **_DENIED}}},
        "/api/telephony/sip-accounts": {"get": {
            "summary": "Comptes SIP des agents (HA1 seulement), pour le bureau d'enregistrement de la voix",
            "description": "Jeton telephony uniquement. Les agents actifs (opérateurs, experts) ayant généré "
                           "un mot de passe SIP sur leur poste, dans le domaine SIP courant "
                           "(ALLO_VOICE_SIP_DOMAIN) : un HA1 calculé pour un autre domaine n'est pas rendu.",
            "security": [{"bearer": []}],
            "responses": {"200": _json("Comptes", "ComptesSip"), **_DENIED}}},
        "/api/telephony/agents/{agent}/phone": {"post": {
            "summary": "Le téléphone de l'agent s'est enregistré, ou ne l'est plus (désenregistré, expiré)",
            "description": "Jeton telephony uniquement. Avec ALLO_VOICE_EDGE, aucun appel n'est proposé à un "
                           "agent dont le téléphone n'est pas enregistré.",
            "security": [{"bearer": []}],
            "parameters": [{"name": "agent", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["registered"], "additionalProperties": False,
                "properties": {"registered": {"type": "boolean"}}}}}},
            "responses": {"202": _json("Pris en compte", "EtatTelephone"),
                          "200": _json("État inchangé", "EtatTelephone"),
                          "400": _ERR, "404": {**_ERR, "description": "Pas de compte SIP à ce nom"}, **_DENIED}}},
        "/api/telephony/commands": {"get": {
            "summary": "Flux des commandes (WebSocket : ws[s]://hôte/ws/telephony/?token=…[&after=N])",
            "description": "Connexion WebSocket (sans en-tête Origin : le jeton suffit ; un Origin envoyé doit "
                           "être celui du site). Chaque message reçu est un objet JSON `Commande` : bridge "
                           "(mettre en relation avec un agent), transfer (vers un centre), play (annonce), "
                           "hangup. Les commandes sont conservées par le routeur : à chaque connexion le "
                           "connecteur reçoit d'abord, dans l'ordre, toutes celles qui suivent la dernière "
                           "acquittée (ou celles après `after`), puis les nouvelles. Il acquitte par un "
                           "message `Acquittement` ({\"type\": \"ack\", \"seq\": N}) ; une erreur est "
                           "répondue par {\"erreur\": …} sans fermer la connexion.",
            "security": [{"bearer": []}],
            "parameters": [{"name": "after", "in": "query", "required": False,
                            "schema": {"type": "integer", "minimum": 0},
                            "description": "Reprendre après cette commande plutôt qu'après la dernière acquittée."}],
            "requestBody": {"description": "Messages du connecteur sur la WebSocket", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Acquittement"}}}},
            "responses": {"101": {"description": "Passage en WebSocket",
                                  "content": {"application/json": {"schema": {
                                      "$ref": "#/components/schemas/Commande"}}}}}}},
        "/api/supervision/live": {"get": {
            "summary": "Le mur d'images en JSON", "security": _AUTH,
            "responses": {"200": {"description": "Files, agents, journée", "content": {"application/json": {
                "schema": {"type": "object", "required": ["queues", "agents", "today"], "properties": {
                    "queues": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "waiting": {"type": "integer"},
                        "longest_wait_s": {"type": "number"}}}},
                    "agents": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "today": {"type": "object", "description": "Les indicateurs du jour (docs/routing.md, "
                              "allo.routing.kpi), des appels entrés en attente depuis minuit", "properties": {
                        "offered": {"type": "integer"}, "answered": {"type": "integer"},
                        "abandoned": {"type": "integer"}, "lost": {"type": "integer"},
                        "service_level": {"type": ["number", "null"]},
                        "service_level_target_s": {"type": "integer"},
                        "abandon_rate": {"type": ["number", "null"]}, "asa_s": {"type": ["number", "null"]},
                        "aht_n1_s": {"type": ["number", "null"]}, "n1_under_3min": {"type": ["number", "null"]},
                        "n1_fast_target_s": {"type": "integer"}, "transfer_rate": {"type": ["number", "null"]},
                        "transfers": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "asa_n2_s": {"type": ["number", "null"]}, "occupancy_n1": {"type": ["number", "null"]},
                        "occupancy_n2": {"type": ["number", "null"]}}}}}}}},
                **_DENIED}}},
        "/api/openapi.json": {"get": {"summary": "Ce schéma", "responses": {"200": {"description": "OpenAPI"}}}},
    },
}
