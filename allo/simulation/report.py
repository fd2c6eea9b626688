"""Simulation report: PNG charts (matplotlib, Agg backend) and one self-contained HTML page."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from allo.simulation.runner import SimResult

CHARTS = {
    "volume.png": "Appels par intervalle (offerts, répondus, abandonnés)",
    "service_level.png": "Niveau de service N1 par intervalle",
    "queue.png": "File d'attente N1 (moyenne des relevés par intervalle)",
    "agents.png": "Téléconseillers N1 connectés et occupés",
    "daily.png": "Appels et niveau de service par jour",
}


def _label(key: str) -> str:
    return key.replace("_", " ")


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}".replace(",", " ")
    if isinstance(value, dict):
        return ", ".join(f"{k or '(aucune)'}: {_fmt(v)}" for k, v in value.items())
    return html.escape(str(value))


def write_report(result: SimResult, directory: str | Path, interval_s: float | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    epoch = dt.datetime.combine(result.start or dt.date(2026, 1, 1), dt.time())
    series = result.kpi.series(interval_s)
    xs = [epoch + dt.timedelta(seconds=t) for t, _ in series]

    def values(key):
        return [f[key] if f[key] is not None else float("nan") for _, f in series]

    def save(name, fig):
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.plot(xs, values("offered"), lw=0.8, label="offerts")
    ax.plot(xs, values("answered"), lw=0.8, label="répondus")
    ax.plot(xs, values("abandoned"), lw=0.8, label="abandonnés")
    ax.set_ylabel("appels")
    ax.legend(loc="upper right")
    ax.set_title(CHARTS["volume.png"])
    save("volume.png", fig)

    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.plot(xs, values("service_level"), ".", ms=2)
    ax.axhline(0.8, color="grey", ls="--", lw=0.8)
    ax.set_ylim(0, 1.02)
    ax.set_title(CHARTS["service_level.png"])
    save("service_level.png", fig)

    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.plot(xs, values("queue_n1"), lw=0.8)
    ax.set_ylabel("appels en attente")
    ax.set_title(CHARTS["queue.png"])
    save("queue.png", fig)

    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.plot(xs, values("agents_logged_n1"), lw=0.8, label="connectés")
    ax.plot(xs, values("agents_busy_n1"), lw=0.8, label="occupés")
    ax.set_ylabel("téléconseillers")
    ax.legend(loc="upper right")
    ax.set_title(CHARTS["agents.png"])
    save("agents.png", fig)

    daily = result.kpi.series(86400.0)
    days = [epoch + dt.timedelta(seconds=t) for t, _ in daily]
    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.bar(days, [f["offered"] for _, f in daily], color="#6a6af4", label="offerts")
    ax.set_ylabel("appels / jour")
    ax2 = ax.twinx()
    ax2.plot(days, [f["service_level"] if f["service_level"] is not None else float("nan") for _, f in daily],
             "o-", color="#e1000f", ms=3, label="niveau de service")
    ax2.set_ylim(0, 1.02)
    ax.set_title(CHARTS["daily.png"])
    save("daily.png", fig)

    summary = result.to_json()
    rows = "\n".join(f"<tr><th scope=\"row\">{html.escape(_label(k))}</th><td>{_fmt(v)}</td></tr>"
                     for k, v in summary.items())
    figures = "\n".join(f"<figure><img src=\"{name}\" alt=\"{html.escape(title)}\">"
                        f"<figcaption>{html.escape(title)}</figcaption></figure>" for name, title in CHARTS.items())
    page = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Allô – rapport de simulation</title>
<style>body{{font-family:Marianne,Arial,sans-serif;max-width:1200px;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}th,td{{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:left}}
img{{max-width:100%}}figure{{margin:1.5rem 0}}</style></head>
<body><h1>Rapport de simulation</h1>
<p>Scénario simulé avec le moteur de routage d'Allô. Définitions des indicateurs : docs/routing.md.</p>
<h2>Indicateurs</h2><table>{rows}</table>
<h2>Graphiques</h2>{figures}
</body></html>
"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
