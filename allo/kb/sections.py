"""The structured sections of a fiche, in display order, with their French labels."""

from __future__ import annotations

SECTIONS: dict[str, str] = {
    "conditions": "Conditions",
    "demarche": "Démarche",
    "pieces": "Pièces à fournir",
    "cout": "Coût",
    "montant": "Montant",
    "delai": "Délai",
    "duree-validite": "Durée de validité",
    "calendrier": "Calendrier",
    "ou-s-adresser": "Où s'adresser",
    "service-en-ligne": "Service en ligne",
    "recours": "Recours",
    "other": "Autres informations",
}

AUDIENCES = {"particulier": "Particuliers", "professionnel": "Professionnels", "association": "Associations"}
LEVEL2 = {"": "Aucun (niveau 1 uniquement)", "impots": "Centre d'information fiscale",
          "consommation": "Centre d'information des consommateurs",
          "cira": "Réseau des centres interministériels de renseignements"}

SHORT_ANSWER_MAX_WORDS = 120
