"""Read the demo YAML fiches (allo/kb/demo/fiches/*.yaml) into SearchDoc objects."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .index import SearchDoc

DEMO_FICHES = Path(__file__).resolve().parent.parent / "demo" / "fiches"

SECTION_ORDER = ("conditions", "demarche", "pieces", "cout", "montant", "delai", "duree-validite",
                 "calendrier", "ou-s-adresser", "service-en-ligne", "recours")

_MD = re.compile(r"\*\*|__|^\s*[-*]\s+|^#+\s*", re.MULTILINE)


def markdown_to_text(text: str) -> str:
    """The fiche Markdown subset -> plain text (bullets become lines)."""
    return _MD.sub("", text or "").strip()


def doc_from_mapping(data: dict) -> SearchDoc:
    sections = data.get("sections") or {}
    keys = [k for k in SECTION_ORDER if k in sections] + sorted(k for k in sections if k not in SECTION_ORDER)
    body = "\n".join(markdown_to_text(str(sections[k] or "")) for k in keys)
    return SearchDoc(
        id=str(data["id"]),
        title=str(data.get("title") or ""),
        theme=str(data.get("theme") or ""),
        subtheme=str(data.get("subtheme") or ""),
        audience=str(data.get("audience") or ""),
        short_answer=markdown_to_text(str(data.get("short_answer") or "")),
        body=body,
        keywords=[str(k) for k in data.get("keywords") or []],
        phrasings=[str(p) for p in data.get("phrasings") or []],
        popularity=int(data.get("popularity") or 3),
    )


def load_demo_docs(path: str | Path | None = None) -> list[SearchDoc]:
    """All fiches of a folder of `<id>.yaml` files (default: the package's demo fiches), by id."""
    folder = Path(path) if path else DEMO_FICHES
    docs = []
    for file in sorted(folder.glob("*.yaml")):
        with open(file, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        if not isinstance(data, dict) or "id" not in data:
            raise ValueError(f"{file}: not a fiche (no id)")
        docs.append(doc_from_mapping(data))
    return docs
