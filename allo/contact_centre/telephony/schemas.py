"""The telephony API's bodies as pydantic models, written once: what the connector sends is validated
by them (`payload`, with French messages for the connector's logs), what Allô answers is built by them,
and the OpenAPI document's components are generated from them (telephony/openapi.py)."""

from __future__ import annotations

import json
import re
from typing import Annotated, ClassVar, Literal, TypeVar

import phonenumbers
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

# A phone number as a PBX presents it: digits with an optional leading + (_possible_number checks the rest).
PHONE_PATTERN = r"^\+?[0-9]{2,15}$"
# Control characters (NUL above all: PostgreSQL refuses it in text and jsonb).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PayloadError(ValueError):
    pass


class Invalid:
    """The French refusal of a field whose value has not the expected shape ({name}: the field)."""

    def __init__(self, message: str):
        self.message = message


def _text(required: bool):
    """Before pydantic's own checks: an absent value (null or "") is refused when required, else
    empty; a lone surrogate (valid JSON, not storable text) or a control character is refused; the
    rest is stripped. Not a string: left to the type's refusal."""

    def clean(value):
        if value is None or value == "":
            if required:
                raise PydanticCustomError("missing", "required")
            return ""
        if not isinstance(value, str):
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise PydanticCustomError("lone_surrogate", "lone surrogate") from None
        if CONTROL.search(value):
            raise PydanticCustomError("control_character", "control character")
        return value.strip()

    return BeforeValidator(clean)


def _possible_number(value: str) -> str:
    """A length some numbering plan allows ("00" or "0611" are not numbers; an overseas or foreign
    caller is)."""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise PydanticCustomError("phone_number", "not a possible number")
    return value


PhoneNumber = Annotated[str, Field(max_length=16, pattern=PHONE_PATTERN), _text(required=True),
                        Invalid("Le champ « {name} » n'est pas un numéro de téléphone valide (chiffres, + en tête).")]
# A PBX's own event identifier (Asterisk's "1712345678.42", a UUID...): visible ASCII, no space.
EventId = Annotated[str, Field(max_length=80, pattern=r"^[\x21-\x7e]*$"), _text(required=False),
                    Invalid("Le champ « event_id » n'est pas valide : caractères ASCII visibles, sans espace.")]
# An agent as the telephony knows it: its Allô username (the SIP user part of its phone).
AgentName = Annotated[str, Field(max_length=150, pattern=r"^[A-Za-z0-9._+@-]{1,150}$"), _text(required=True),
                      Invalid("Le champ « agent » n'est pas un identifiant d'agent valide.")]


class Body(BaseModel):
    """A request body: strict JSON types (true is not "oui"), unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid")
    # when set, every refusal of the body is this message
    refusal: ClassVar[str | None] = None


class NouvelAppel(Body):
    caller: Annotated[PhoneNumber, AfterValidator(_possible_number)]
    dialed: PhoneNumber  # the line's own short number (3939) is dialled too: the shape only
    # What a PBX sends: key presses (digits, * and #) or a short label of its menu; never markup.
    ivr_choice: Annotated[str, Field(max_length=20, pattern=r"^[0-9A-Za-z*#._-]*$"), _text(required=False),
                          Invalid("Le champ « ivr_choice » n'est pas valide : touches du clavier "
                                  "(chiffres, * et #) ou lettres, sans espace.")] = ""
    event_id: Annotated[EventId, Field(description="Rejouer le même event_id ne crée rien.")] = ""
    # the connector's promise of a keep-alive (…/alive) this often: the call is closed « perdu » after
    # 5 missed (a connector or a voice node that died), not after ALLO_CC_LOST_AFTER
    keepalive_s: Annotated[int | None, Field(ge=60, le=3600, description=(
        "Le connecteur enverra un signe de vie (…/alive) au moins toutes les keepalive_s secondes : l'appel "
        "est clos « perdu » après 5 signes manqués. Absent : après ALLO_CC_LOST_AFTER (2 h).")),
        Invalid("Le champ « keepalive_s » doit être un nombre entier de secondes entre 60 et 3600.")] = None


class PasDeReponse(Body):
    agent: AgentName
    event_id: EventId = ""


class ConsultationQuittee(Body):
    agent: AgentName  # whose phone hung up the consult call: the N1 agent's or the expert's
    event_id: EventId = ""


class ReponseAuRappel(Body):
    model_config = ConfigDict(extra="ignore")
    refusal = "Le champ « accepted » est obligatoire et doit valoir true ou false."
    accepted: bool


class TelephoneEnregistre(Body):
    refusal = "Le corps doit être {\"registered\": true|false}."
    registered: bool


class Acquittement(Body):
    """The connector's message on the command stream (consumers.TelephonyConsumer)."""

    model_config = ConfigDict(json_schema_extra={
        "description": "Message du connecteur : toutes les commandes jusqu'à seq (inclus) sont exécutées (cumulatif)."})
    refusal = "« seq » doit être un entier positif."
    type: Literal["ack"]
    seq: int = Field(ge=0)


_MESSAGES = {
    "missing": "Le champ « {name} » est obligatoire.",
    "string_type": "Le champ « {name} » doit être une chaîne de caractères.",
    "string_too_long": "Le champ « {name} » dépasse {max_length} caractères.",
    "lone_surrogate": "Le champ « {name} » contient un caractère invalide.",
    "control_character": "Le champ « {name} » contient un caractère de contrôle non autorisé.",
}


def _french(model: type[Body], errors: list[dict]) -> str:
    """The connector's message for pydantic's refusal: unknown fields first, then the first field's."""
    if model.refusal:
        return model.refusal
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        return f"Champ(s) inconnu(s) : {', '.join(unknown)}."
    error = errors[0]
    name = str(error["loc"][0])
    if error["type"] in _MESSAGES:
        return _MESSAGES[error["type"]].format(name=name, **error.get("ctx", {}))
    # the pattern, or the phone number's plan
    invalid = next((m.message for m in model.model_fields[name].metadata if isinstance(m, Invalid)),
                   "Le champ « {name} » n'est pas valide.")
    return invalid.format(name=name)


def parse_json(body: bytes) -> dict:
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # RecursionError: nesting too deep
        raise PayloadError("Le corps de la requête n'est pas du JSON valide.") from None
    if not isinstance(data, dict):
        raise PayloadError("Le corps de la requête doit être un objet JSON.")
    return data


def payload(model: type[M], data: dict) -> M:
    """`data` (a JSON object) validated by `model`; PayloadError with the French message if refused."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(_french(model, exc.errors())) from None


M = TypeVar("M", bound=Body)


# ---------------------------------------------------------------- what Allô answers


class Erreur(BaseModel):
    erreur: str


class AppelCree(BaseModel):
    call_id: str
    created: bool


class EvenementRecu(BaseModel):
    model_config = ConfigDict(json_schema_extra={
        "description": "accepted : false quand le même événement avait déjà été reçu."})
    call_id: str
    accepted: bool


class EtatAppel(BaseModel):
    call_id: str
    state: str
    queue: str
    agent: str
    transferred_to: str
    outcome: str
    partner: int | None = Field(description="Identifiant du partenaire (mairie, préfecture, CAF…) dont le standard "
                                            "a transmis l'appel : `dialed` est l'un de ses numéros d'entrée "
                                            "(docs/partners.md) ; null sinon.")


class EtatTelephone(BaseModel):
    agent: str
    registered: bool
    changed: bool = Field(description="false : l'état était déjà celui-là.")


class CompteSip(BaseModel):
    username: str
    ha1: str = Field(pattern=r"^[0-9a-f]{32}$",
                     description="MD5(username:realm:mot de passe) ; le mot de passe n'est jamais conservé.")
    registered: bool = Field(description="Le téléphone de l'agent est enregistré selon Allô (dernier état reçu "
                                         "de la voix) : la voix le compare à ce qu'elle a réellement.")


class ComptesSip(BaseModel):
    realm: str = Field(description="Domaine SIP (realm du digest) des HA1.")
    accounts: list[CompteSip]


class AnnonceEnregistree(BaseModel):
    name: str = Field(description="Nom de l'annonce (accueil, attente, consultation, proposition-rappel, "
                                  "rappel-enregistre, ferme).")
    sha256: str = Field(description="Empreinte du fichier WAV : le connecteur le télécharge quand elle change.")
    seconds: float


class AnnoncesEnregistrees(BaseModel):
    prompts: list[AnnonceEnregistree]


class AppelEnCours(BaseModel):
    call_id: str
    event_id: str = Field(description="L'event_id donné à la création de l'appel (vide sans event_id) : le "
                                      "connecteur y reconnaît ses appels.")
    state: str
    age_s: int = Field(ge=0, description="Secondes depuis l'arrivée de l'appel.")


class AppelsEnCours(BaseModel):
    calls: list[AppelEnCours]


# One message of the command stream (documented only: the router writes them). Its optional fields
# are absent, never null: SkipJsonSchema keeps null out of the document.
class Commande(BaseModel):
    seq: int = Field(ge=1, description="Identifiant et ordre de la commande : croissant, jamais réutilisé. Le "
                                       "connecteur exécute chaque seq une fois et ignore un seq déjà vu (une "
                                       "commande est renvoyée quand son acquittement s'est perdu).")
    command: Literal["bridge", "transfer", "play", "hangup", "hold", "unhold"] = Field(
        description="bridge : mettre l'appelant en relation avec l'agent ; transfer : le transférer au niveau 2 ; "
                    "play : lui jouer une annonce ; hangup : raccrocher ; hold / unhold : le mettre en attente "
                    "(musique ou annonce) pendant que l'opérateur consulte l'expert `expert`, puis l'en sortir "
                    "(consultation annulée : l'opérateur le reprend).")
    call_id: str
    agent: SkipJsonSchema[None] | str = None
    expert: SkipJsonSchema[None] | str = None
    outbound: SkipJsonSchema[None] | bool = None
    centre: SkipJsonSchema[None] | str = None
    domain: SkipJsonSchema[None] | str = None
    announcement: SkipJsonSchema[None] | str = None
    position: SkipJsonSchema[None] | int = None
    expected_wait_s: SkipJsonSchema[None] | int = None
    reason: SkipJsonSchema[None] | str = None
    at: SkipJsonSchema[None] | float = None


class FileEnDirect(BaseModel):
    name: str
    label: str
    waiting: int
    longest_wait_s: float
    open: bool
    service_level: float | None  # today's: the line's N1 figure for the N1 queue, its own for an N2 queue
    staffed: int
    ready: int
    alerts: list[str]
    status: Literal["ok", "alert"] | None


class Journee(BaseModel):
    model_config = ConfigDict(json_schema_extra={
        "description": "Les indicateurs du jour (docs/routing.md, allo.routing.kpi), des appels entrés en "
                       "attente depuis minuit"})
    offered: int
    answered: int
    abandoned: int
    lost: int
    service_level: float | None
    service_level_target_s: int
    abandon_rate: float | None
    asa_s: float | None
    aht_n1_s: float | None
    n1_under_3min: float | None
    n1_fast_target_s: int
    transfer_rate: float | None
    transfers: dict[str, int]
    asa_n2_s: float | None
    occupancy_n1: float | None
    occupancy_n2: float | None


# What GET /api/supervision/live returns (contact_centre.services.live_stats builds it).
class MurEnDirect(BaseModel):
    queues: list[FileEnDirect]
    agents: dict[str, int]
    today: Journee
    alerts: list[str]
    generated_at: str
