"""The « Bilan » of a period as tables (the page's data tables, the CSV, ODS and XLSX exports) and as a
monthly PDF report, all from the stored aggregates through services.report / services.breakdown: the
page, the files and `allo report` show the same figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from allo.history import aggregate as agg
from allo.history import services
from allo.history.charts import SL_TARGET
from allo.reports import pdf
from allo.reports.tables import (
    DATE,
    INT,
    PERCENT,
    SECONDS,
    TEXT,
    Column,
    Table,
    display,
    period_label,
    whole_month,
)

# (key of services.report's figures, column label, kind): the page's and the files' columns; the service
# level's label gets its threshold (sl_label: each level's, aggregate.threshold)
FIGURES = [
    ("offered", "Présentés", INT),
    ("answered", "Répondus", INT),
    ("abandoned", "Abandons", INT),
    ("asa_s", "Attente moyenne des répondus (ASA, s)", SECONDS),
    ("service_level", "Niveau de service", PERCENT),
    ("aht_s", "Durée moyenne de traitement (s)", SECONDS),
    ("servicelevel_perf", "ServicelevelPerf (Asterisk)", PERCENT),
    ("servicelevel_perf2", "ServicelevelPerf2 (Asterisk)", PERCENT),
]
# (dimension of the stored bins, sheet, first column): the tables per key, for the whole line
BREAKDOWNS = [
    ("queue", "Par file", "File"),
    ("destination", "Par destination", "Transféré vers"),
    ("theme", "Par thème", "Thème"),
    ("origin", "Par numéro composé", "Numéro composé"),
    ("fiche", "Par fiche", "Fiche"),
    ("agent", "Par agent", "Agent"),
]
LINE = "toute la ligne (niveau 1)"
# the N2 view: each N2 queue (an expert centre's) with its calls from the transfer, within the N2 threshold
N2_SHEET = "Niveau 2 par file"
N2_FIGURES = [
    ("offered", "Présentés (transferts)", INT),
    ("answered", "Répondus", INT),
    ("abandoned", "Abandons", INT),
    ("abandon_rate", "Taux d'abandon", PERCENT),
    ("service_level", "Niveau de service", PERCENT),
    ("asa_s", "Attente moyenne au niveau 2 (ASA, s)", SECONDS),
]
N2_TOTAL = "Total niveau 2"
# the fiches of a month run to hundreds, most cited once or twice: the table keeps the most cited
FICHES_SHOWN = 50


@dataclass
class Bilan:
    first: dt.date
    last: dt.date
    queue: str | None
    data: dict  # services.report
    days: Table
    n2: Table  # per N2 queue, with the N2 threshold
    breakdowns: list[Table]

    @property
    def label(self) -> str:
        return period_label(self.first, self.last)

    @property
    def scope(self) -> str:
        return f"file {self.queue}" if self.queue else LINE

    @property
    def n2_threshold_s(self) -> float:
        return agg.threshold(2)

    @property
    def tables(self) -> list[Table]:
        return [self.days, self.n2, *self.breakdowns]

    def filename(self, extension: str, stem: str = "bilan") -> str:
        """`bilan-2026-11.ods`, `bilan-2026-11-n1.ods`; `bilan-2026-03-02-au-2026-03-03.csv` for another range."""
        period = f"{self.first:%Y-%m}" if whole_month(self.first, self.last) else f"{self.first:%Y-%m-%d}-au-{self.last:%Y-%m-%d}"
        return f"{stem}-{period}{'-' + self.queue if self.queue else ''}.{extension}"


def _figures(d: dict, figures: list = FIGURES) -> list:
    return [d[k] for k, _, _ in figures]


def seconds(t: float) -> str:
    return f"{t:.0f} s"


def sl_label(*levels: int) -> str:
    """« Niveau de service (20 s) »: the service level's column with its threshold; for a table whose rows
    are of both levels (per queue, per agent) each level's: « Niveau de service (N1 : 20 s, N2 : 60 s) »."""
    if len(levels) == 1:
        return f"Niveau de service ({seconds(agg.threshold(levels[0]))})"
    return "Niveau de service (" + ", ".join(f"N{lv} : {seconds(agg.threshold(lv))}" for lv in levels) + ")"


def _columns(figures: list, levels: tuple[int, ...]) -> list[Column]:
    return [Column(sl_label(*levels) if key == "service_level" else name, kind) for key, name, kind in figures]


def bilan(first: dt.date, last: dt.date, queue: str | None = None) -> Bilan:
    """The period's tables: per day (for the line or one queue) with its total, then per queue,
    destination, theme, origin, fiche and agent (for the whole line: the stored bins have no queue × theme).
    The fiche table gives each fiche's title beside its id (its id again for a fiche the knowledge base
    does not know) and keeps the FICHES_SHOWN most cited."""
    data = services.report(first, last, queue)
    label = period_label(first, last)
    scope = f"file {queue}" if queue else LINE
    days = Table("Par jour", f"Bilan par jour, {label}, {scope}",
                 [Column("Jour", DATE), *_columns(FIGURES, (data["level"],))],
                 [[dt.date.fromisoformat(d["date"]), *_figures(d)] for d in data["days"]]
                 + [["Total", *_figures(data["total"])]])
    breakdowns = []
    for dim, sheet, first_column in BREAKDOWNS:
        found = services.breakdown(first, last, dim)
        whose = "" if dim == "queue" else f", {LINE}" if dim != "agent" else ", toutes files"
        # queues and agents are of both levels, each counted within its level's threshold
        figure_columns = _columns(FIGURES, (1, 2) if dim in ("queue", "agent") else (1,))
        if dim == "fiche":
            breakdowns.append(_fiches(found, f"{sheet}, {label}{whose}", sheet, first_column, figure_columns))
            continue
        rows = [[r["key"], *_figures(r)] for r in found]
        breakdowns.append(Table(sheet, f"{sheet}, {label}{whose}", [Column(first_column, TEXT), *figure_columns],
                                rows))
    return Bilan(first, last, queue, data, days, _n2(first, last, label), breakdowns)


def _n2(first: dt.date, last: dt.date, label: str) -> Table:
    """Per N2 queue (services.breakdown of the level-2 queues, the busiest first): its name, its calls from
    the transfer, abandon rate, N2 service level (within the N2 threshold: the wallboard's
    `service_level_n2_by_queue`) and N2 ASA; then the N2 total (the wallboard's `service_level_n2`)."""
    from allo.history.models import Queue

    found = services.breakdown(first, last, "queue", level=2)
    names = dict(Queue.objects.filter(level=2).values_list("code", "name"))
    total = [0.0] * len(agg.COUNTERS)
    for r in found:
        agg.add(total, r["counters"])
    rows = [[r["key"], names.get(r["key"]) or r["key"], *_figures(r, N2_FIGURES)] for r in found]
    if found:
        rows.append([N2_TOTAL, "", *_figures(services.rounded(agg.figures(total)), N2_FIGURES)])
    return Table(N2_SHEET, f"Niveau 2 par file, {label}, délai compté depuis le transfert",
                 [Column("File", TEXT), Column("Centre", TEXT), *_columns(N2_FIGURES, (2,))], rows)


def _fiches(found: list[dict], title: str, sheet: str, first_column: str, figure_columns: list[Column]) -> Table:
    """The most cited fiches (services.breakdown's order: calls, then id) with their titles."""
    from allo.kb.models import Fiche

    shown = found[:FICHES_SHOWN]
    titles = dict(Fiche.objects.filter(pk__in=[r["key"] for r in shown]).values_list("id", "title"))
    if len(found) > FICHES_SHOWN:
        title += f", les {FICHES_SHOWN} plus citées sur {len(found)}"
    return Table(sheet, title, [Column(first_column, TEXT), Column("Titre", TEXT), *figure_columns],
                 [[r["key"], titles.get(r["key"], r["key"]), *_figures(r)] for r in shown])


# ---------------------------------------------------------------------------------------------- PDF

def brief(b: Bilan) -> list[tuple[str, str]]:
    """The period in brief (docs/reports.md's figures), ours then Asterisk's, then the N2 total (n2_brief)."""
    t = b.data["total"]
    threshold = f"{b.data['threshold_s']:.0f} s"
    return [
        ("Appels présentés", display(t["offered"], INT)),
        ("Répondus", display(t["answered"], INT)),
        ("Abandons", display(t["abandoned"], INT)),
        ("dont abandons de moins de 5 s", display(t["abandoned_short"], INT)),
        ("Taux d'abandon", display(t["abandon_rate"], PERCENT)),
        (f"Niveau de service (répondus en {threshold} / présentés hors abandons < 5 s)",
         display(t["service_level"], PERCENT)),
        ("Attente moyenne des répondus (ASA)", display(t["asa_s"], SECONDS)),
        ("Durée moyenne de traitement (communication + post-appel)", display(t["aht_s"], SECONDS)),
        (f"ServicelevelPerf, Asterisk (répondus en {threshold} / répondus)",
         display(t["servicelevel_perf"], PERCENT)),
        (f"ServicelevelPerf2, Asterisk (rép. et abandons en {threshold} / rép. et abandons)",
         display(t["servicelevel_perf2"], PERCENT)),
        *n2_brief(b),
    ]


def n2_brief(b: Bilan) -> list[tuple[str, str]]:
    """The N2 total of the « Niveau 2 par file » table (the whole line's, whatever the Bilan's queue): a
    reader of the first page sees how the transfers fared without turning to the tables."""
    total = next((r for r in b.n2.rows if r[0] == N2_TOTAL), None)
    if total is None:
        return [("Transferts vers le niveau 2", display(0, INT))]
    figures = dict(zip((k for k, _, _ in N2_FIGURES), total[2:], strict=True))
    threshold = seconds(b.n2_threshold_s)
    return [
        ("Transferts vers le niveau 2 (toute la ligne)", display(figures["offered"], INT)),
        ("Répondus au niveau 2", display(figures["answered"], INT)),
        ("Taux d'abandon au niveau 2", display(figures["abandon_rate"], PERCENT)),
        (f"Niveau de service du niveau 2 (répondus en {threshold} après le transfert)",
         display(figures["service_level"], PERCENT)),
        ("Attente moyenne au niveau 2 (ASA)", display(figures["asa_s"], SECONDS)),
    ]


def title(b: Bilan) -> str:
    """The PDF's title (and its metadata's): « Bilan mensuel, novembre 2026, toute la ligne (niveau 1) »."""
    return f"Bilan {'mensuel, ' if whole_month(b.first, b.last) else ''}{b.label}, {b.scope}"


def report_pdf(b: Bilan) -> bytes:
    """The report as a tagged PDF (allo/reports/pdf.py): its title, the period in brief (with the N2
    total), calls and service level per day as charts, then each non-empty table."""
    d = b.data["days"]
    days = [dt.date.fromisoformat(x["date"]) for x in d]
    answered = [x["answered"] for x in d]
    abandoned = [x["abandoned"] for x in d]
    other = [x["offered"] - x["answered"] - x["abandoned"] for x in d]
    rates = [x["service_level"] for x in d]
    reached = sum(1 for r in rates if r is not None and r >= SL_TARGET)
    span = f"du {days[0]:%d/%m/%Y} au {days[-1]:%d/%m/%Y}" if days else b.label
    target = f"objectif {SL_TARGET:.0%}".replace("%", " %")
    with pdf.PdfReport(title(b), "Bilan du centre de contact (Allô)") as report:
        report.heading(title(b))
        report.summary(f"La période en bref ({b.label})", brief(b))
        report.chart(
            "Appels par jour",
            f"Barres par jour {span} : répondus, abandons et autres (rappel proposé, perdus). "
            f"{sum(answered)} répondus, {sum(abandoned)} abandons ; le jour le plus chargé : "
            f"{pdf.busiest(days, [a + b_ + o for a, b_, o in zip(answered, abandoned, other, strict=True)])}. "
            "Les chiffres de chaque jour sont dans le tableau « Bilan par jour ».",
            lambda ax: pdf.stacked_bars(ax, days, [("Répondus", answered, pdf.BLUE), ("Abandons", abandoned, pdf.RED),
                                                   ("Autres (rappel proposé, perdus)", other, pdf.GREY)]))
        report.chart(
            "Niveau de service par jour",
            f"Courbe du niveau de service par jour {span}, {target} : atteint {reached} jour(s) sur "
            f"{sum(1 for r in rates if r is not None)} avec des appels. "
            "Les chiffres de chaque jour sont dans le tableau « Bilan par jour ».",
            lambda ax: pdf.rate_per_day(ax, days, [("Niveau de service", rates, pdf.BLUE)], target=SL_TARGET,
                                        target_label=target))
        report.heading("Les tableaux du bilan", 2, new_page=True)
        for table in b.tables:
            # the fiche's id and title, the queue's code and its centre's name: two text columns
            report.table(table, left=2 if table.sheet in ("Par fiche", N2_SHEET) else 1)
    return report.body
