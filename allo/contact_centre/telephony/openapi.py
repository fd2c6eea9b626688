"""OpenAPI 3.1 description of the contact centre's HTTP API: the paths are declared here, every body's
schema is generated from its pydantic model (telephony/schemas.py). A test checks that every /api/ URL
of the project is documented here."""

from __future__ import annotations

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from allo.contact_centre.telephony import schemas

# what the connector sends (validated by the models) and what Allô answers
_REQUESTS = (schemas.NouvelAppel, schemas.PasDeReponse, schemas.ConsultationQuittee, schemas.ReponseAuRappel, schemas.TelephoneEnregistre,
             schemas.Acquittement)
_RESPONSES = (schemas.Erreur, schemas.AppelCree, schemas.EvenementRecu, schemas.EtatAppel, schemas.Commande,
              schemas.ComptesSip, schemas.EtatTelephone, schemas.MurEnDirect, schemas.AppelsEnCours,
              schemas.AnnoncesEnregistrees)


class _Document(GenerateJsonSchema):
    """Pydantic's JSON schema, plainer to read: no English titles of fields (« Call Id »), no null
    default of a field that is absent rather than null (schemas.Commande), and `int | None` as
    {"type": ["integer", "null"]} rather than an anyOf."""

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def nullable_schema(self, schema) -> dict:
        document = super().nullable_schema(schema)
        simple = document.get("anyOf", [])
        if len(simple) == 2 and all(set(member) == {"type"} and isinstance(member["type"], str) for member in simple):
            return {"type": [simple[0]["type"], simple[1]["type"]]}
        return document

    def default_schema(self, schema) -> dict:
        document = super().default_schema(schema)
        if "default" in document and document["default"] is None:
            del document["default"]
        return document


def _components() -> dict:
    _, document = models_json_schema([(m, "validation") for m in _REQUESTS]
                                     + [(m, "serialization") for m in _RESPONSES],
                                     ref_template="#/components/schemas/{model}", schema_generator=_Document)
    return document["$defs"]

_ERR = {"description": "Erreur", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}}}
_AUTH = [{"bearer": []}, {"session": []}]
# every authenticated operation may refuse: no or an unknown credential (401), a token or a role that
# does not open this operation, or a session request without its CSRF token (403)
_DENIED = {"401": {**_ERR, "description": "Authentification requise, ou jeton invalide ou révoqué"},
           "403": {**_ERR, "description": "Ce jeton ou ce rôle ne donne pas accès à cette ressource"}}


def _json(description: str, ref: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _body(ref: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _report(summary: str, body: str, again: str = "Même event_id : déjà reçu", description: str = "") -> dict:
    """A connector's report about a call (http._report): its body, 202 taken, 200 already received."""
    post = {"summary": summary, "security": _AUTH,
            "parameters": [{"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": _body(body),
            "responses": {"202": _json("Pris en compte", "EvenementRecu"), "200": _json(again, "EvenementRecu"),
                          "400": _ERR, "404": _ERR, **_DENIED}}
    if description:
        post["description"] = description
    return {"post": post}


SCHEMA = {
    "openapi": "3.1.0",
    "info": {"title": "Allô — API du centre de contacts", "version": "1.0.0",
             "description": "Connecteur téléphonique (appels entrants, commandes) et supervision en direct. "
                            "Authentification : `Authorization: Bearer <jeton>` (jeton issu de "
                            "`allo token create --role telephony|supervisor`) ou session d'un agent habilité."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                            "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"}},
        "schemas": _components(),
    },
    "paths": {
        "/api/telephony/calls": {
            "post": {
                "summary": "Un appel arrive sur la ligne", "security": _AUTH,
                "requestBody": _body("NouvelAppel"),
                "responses": {"201": _json("Appel créé", "AppelCree"),
                              "200": _json("Même event_id : l'appel existant", "AppelCree"), "400": _ERR,
                              **_DENIED}},
            "get": {
                "summary": "Les appels en cours selon Allô (pour les rapprocher de ceux du connecteur)",
                "security": _AUTH,
                "description": "Chaque appel que le routeur tient encore (nouveau, en file, en communication, en "
                               "transfert, proposition de rappel), avec son event_id : le connecteur signale "
                               "comme perdu (…/lost) celui qu'il n'a plus.",
                "responses": {"200": _json("Appels en cours", "AppelsEnCours"), **_DENIED}}},
        "/api/telephony/calls/{call_id}": {"get": {
            "summary": "État d'un appel", "security": _AUTH,
            "parameters": [{"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json("État", "EtatAppel"), "404": _ERR, **_DENIED}}},
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
        "/api/telephony/calls/{call_id}/lost": {"post": {
            "summary": "Le connecteur n'a plus cet appel : le clore comme « perdu » (idempotent)", "security": _AUTH,
            "description": "Pour un appel que le connecteur a perdu (redémarrage, raccroché jamais reçu) : "
                           "l'appel se termine « perdu », compté comme tel, et son agent est libéré, comme une "
                           "fin d'appel forcée par la supervision. Corps vide.",
            "parameters": [{"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"202": _json("Pris en compte", "EvenementRecu"),
                          "200": _json("Déjà signalé perdu (ou clos par la supervision)", "EvenementRecu"),
                          "404": _ERR, "409": {**_ERR, "description": "L'appel est déjà terminé"}, **_DENIED}}},
        "/api/telephony/calls/{call_id}/callback-answer": _report(
            "Réponse de l'appelant à une proposition de rappel", "ReponseAuRappel",
            "Réponse déjà reçue pour cet appel"),
        "/api/telephony/calls/{call_id}/no-answer": _report(
            "Le téléphone de l'agent n'a pas répondu (sonnerie sans réponse, refus, injoignable)", "PasDeReponse",
            description="L'appel revient en tête de sa file ; l'agent passe en pause « Pas de réponse » : "
                        "plus aucun appel ne lui est proposé avant qu'il clique « Prêt ». Ignoré si l'agent "
                        "ne tient plus l'appel. `event_id` (la tentative côté connecteur) : le même compte "
                        "une fois."),
        "/api/telephony/calls/{call_id}/consult-left": _report(
            "Un téléphone a raccroché l'appel de consultation (opérateur ou expert)", "ConsultationQuittee",
            description="La consultation se termine comme si l'agent l'avait terminée sur son poste : "
                        "l'expert qui raccroche la décline, l'opérateur qui raccroche reprend l'appelant ; "
                        "dans les deux cas l'appelant sort de l'attente et retrouve l'opérateur. Ignoré si "
                        "aucune consultation n'est en cours ou si l'agent n'y prend pas part. `event_id` : "
                        "le même compte une fois."),
        "/api/telephony/sip-accounts": {"get": {
            "summary": "Comptes SIP des agents (HA1 seulement), pour le bureau d'enregistrement de la voix",
            "description": "Jeton telephony uniquement. Les agents actifs (opérateurs, experts) ayant généré "
                           "un mot de passe SIP sur leur poste, dans le domaine SIP courant "
                           "(ALLO_VOICE_SIP_DOMAIN) : un HA1 calculé pour un autre domaine n'est pas rendu.",
            "security": [{"bearer": []}],
            "responses": {"200": _json("Comptes", "ComptesSip"), **_DENIED}}},
        "/api/telephony/prompts": {"get": {
            "summary": "Annonces enregistrées par un administrateur (à la place de la voix de synthèse)",
            "description": "Jeton telephony uniquement. Le connecteur télécharge celles dont l'empreinte a "
                           "changé et joue la voix de synthèse pour celles qui ne sont plus listées.",
            "security": [{"bearer": []}],
            "responses": {"200": _json("Annonces", "AnnoncesEnregistrees"), **_DENIED}}},
        "/api/telephony/prompts/{name}": {"get": {
            "summary": "Le fichier WAV d'une annonce enregistrée",
            "security": [{"bearer": []}],
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "WAV PCM 16 bits mono", "content": {"audio/wav": {"schema": {
                "type": "string", "format": "binary"}}}},
                          "404": {**_ERR, "description": "Aucune annonce enregistrée à ce nom"}, **_DENIED}}},
        "/api/telephony/agents/{agent}/phone": {"post": {
            "summary": "Le téléphone de l'agent s'est enregistré, ou ne l'est plus (désenregistré, expiré)",
            "description": "Jeton telephony uniquement. Avec ALLO_VOICE_EDGE, aucun appel n'est proposé à un "
                           "agent dont le téléphone n'est pas enregistré.",
            "security": [{"bearer": []}],
            "parameters": [{"name": "agent", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": _body("TelephoneEnregistre"),
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
            "responses": {"200": _json("Files, agents, journée", "MurEnDirect"), **_DENIED}}},
        "/api/openapi.json": {"get": {"summary": "Ce schéma", "responses": {"200": {"description": "OpenAPI"}}}},
    },
}
