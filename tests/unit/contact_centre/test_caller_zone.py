"""The caller's time zone from the number: metropolitan France, and each overseas department's own."""

from __future__ import annotations

import pytest

from allo.contact_centre.caller_zone import caller_zone


@pytest.mark.parametrize("number, zone", [
    ("+33612345678", "Europe/Paris"),
    ("01 23 45 67 89", "Europe/Paris"),
    ("", "Europe/Paris"),
    ("+4420 7946 0000", "Europe/Paris"),  # abroad: the line's own time
    ("+590590123456", "America/Guadeloupe"),
    ("0590 12 34 56", "America/Guadeloupe"),
    ("0690123456", "America/Guadeloupe"),
    ("+594594123456", "America/Cayenne"),
    ("0694.12.34.56", "America/Cayenne"),
    ("+596596123456", "America/Martinique"),
    ("0696123456", "America/Martinique"),
    ("0697123456", "America/Martinique"),
    ("+262262123456", "Indian/Reunion"),
    ("0262123456", "Indian/Reunion"),
    ("0692123456", "Indian/Reunion"),
    ("0693123456", "Indian/Reunion"),
    ("+262269612345", "Indian/Mayotte"),  # +262 is shared: Mayotte's numbers go on with 269 or 639
    ("+262639123456", "Indian/Mayotte"),
    ("+269612345", "Indian/Mayotte"),
    ("00269612345", "Indian/Mayotte"),
    ("0269612345", "Indian/Mayotte"),
    ("0639123456", "Indian/Mayotte"),
    ("+33690123456", "America/Guadeloupe"),  # a DOM number written with France's code
])
def test_caller_zone(number, zone):
    assert caller_zone(number).key == zone
