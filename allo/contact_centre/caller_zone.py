"""The caller's time zone, from the number: a callback is agreed in the caller's local time.

Metropolitan France is Europe/Paris; the overseas departments (DOM) have their own numbering, in
international form (+590 Guadeloupe, +594 Guyane, +596 Martinique, +262 La Réunion and Mayotte, +269
Mayotte's former code) and in national form (0590 / 0690-0691 Guadeloupe, 0594 / 0694 Guyane, 0596 /
0696-0697 Martinique, 0262-0263 / 0692-0693 La Réunion, 0269 / 0639 Mayotte; ARCEP's plan). Any
other number (metropolitan, masked, foreign) is taken in Europe/Paris, the line's own time.

Pure: no Django import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PARIS = "Europe/Paris"


@dataclass(frozen=True)
class CallerZone:
    key: str  # IANA name
    place: str  # French name shown to the operator

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.key)


METROPOLE = CallerZone(PARIS, "France métropolitaine")
GUADELOUPE = CallerZone("America/Guadeloupe", "Guadeloupe")
GUYANE = CallerZone("America/Cayenne", "Guyane")
MARTINIQUE = CallerZone("America/Martinique", "Martinique")
REUNION = CallerZone("Indian/Reunion", "La Réunion")
MAYOTTE = CallerZone("Indian/Mayotte", "Mayotte")

# national prefixes (the first four digits of the ten), geographic and mobile
NATIONAL = {
    "0590": GUADELOUPE, "0690": GUADELOUPE, "0691": GUADELOUPE,
    "0594": GUYANE, "0694": GUYANE,
    "0596": MARTINIQUE, "0696": MARTINIQUE, "0697": MARTINIQUE,
    "0262": REUNION, "0263": REUNION, "0692": REUNION, "0693": REUNION,
    "0269": MAYOTTE, "0639": MAYOTTE,
}
# country codes of the DOM; +262 is shared by La Réunion and Mayotte (Mayotte's numbers go on with 269 or 639)
INTERNATIONAL = {"590": GUADELOUPE, "594": GUYANE, "596": MARTINIQUE, "269": MAYOTTE}


def normalise(number: str) -> str:
    """Digits, with a leading + for an international number ("00" becomes "+")."""
    number = (number or "").strip()
    digits = re.sub(r"\D", "", number)
    if number.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return digits


def caller_zone(number: str) -> CallerZone:
    n = normalise(number)
    if n.startswith("+33"):  # a French number in international form: back to its national form
        n = "0" + n[3:]
    if n.startswith("+"):
        code = n[1:4]
        if code == "262":
            rest = n[4:]
            return MAYOTTE if rest.startswith(("269", "639")) else REUNION
        return INTERNATIONAL.get(code, METROPOLE)
    if len(n) == 10 and n.startswith("0"):
        return NATIONAL.get(n[:4], METROPOLE)
    return METROPOLE
