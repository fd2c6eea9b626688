"""A report's table, whatever the file it goes to (pure: no Django import).

A column has a kind, and a value keeps its type: a spreadsheet can then sum the numbers, sort the
dates and show the percentages as such. A text in a typed column (« Total » in the day column) stays a
text; None is an empty cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

TEXT, INT, NUMBER, SECONDS, PERCENT, DATE = "text", "int", "number", "seconds", "percent", "date"
KINDS = (TEXT, INT, NUMBER, SECONDS, PERCENT, DATE)
WEEKDAYS = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]
NNBSP = "\u202f"  # French thousands separator and space before « % »


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = TEXT

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Table:
    """`sheet` names the spreadsheet's sheet (31 characters at most, Excel's limit); `title` says what
    the table is, in full."""

    sheet: str
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)

    def __post_init__(self):
        if len(self.sheet) > 31 or any(c in self.sheet for c in "[]:*?/\\"):
            raise ValueError(f"sheet name {self.sheet!r}: 31 characters at most, none of []:*?/\\")
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"{self.sheet}: a row of {len(row)} cells for {len(self.columns)} columns")

    @property
    def header(self) -> list[str]:
        return [c.label for c in self.columns]

    def display_rows(self) -> list[list[str]]:
        return [[display(v, c.kind) for v, c in zip(row, self.columns, strict=True)] for row in self.rows]


def month_label(first: dt.date) -> str:
    return f"{MONTHS[first.month - 1]} {first.year}"


def whole_month(first: dt.date, last: dt.date) -> bool:
    next_month = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first.day == 1 and last == next_month - dt.timedelta(days=1)


def period_label(first: dt.date, last: dt.date) -> str:
    """« novembre 2026 » for a whole month, else « du 02/03/2026 au 03/03/2026 »."""
    if whole_month(first, last):
        return month_label(first)
    return f"du {first:%d/%m/%Y} au {last:%d/%m/%Y}"


def decimal(x: float, places: int) -> str:
    text = f"{x:,.{places}f}".replace(",", NNBSP).replace(".", ",")
    return text


def display(value, kind: str) -> str:
    """A value as a French reader reads it (pages, PDF, CSV): « 1 234 », « 66,7 % », « 24 s »,
    « lun. 02/03/2026 »; « — » for no value."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str) or isinstance(value, bool):
        return str(value)
    if kind == PERCENT:
        return f"{decimal(100 * value, 1)}{NNBSP}%"
    if kind == SECONDS:
        return f"{decimal(value, 0)}{NNBSP}s"
    if kind == DATE and isinstance(value, dt.date):
        return f"{WEEKDAYS[value.weekday()]} {value:%d/%m/%Y}"
    if kind == INT or (isinstance(value, int)):
        return decimal(value, 0)
    if isinstance(value, float):
        return decimal(value, 2)
    return str(value)
