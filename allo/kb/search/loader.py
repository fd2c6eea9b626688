"""Read the demo YAML fiches (allo/kb/demo/fiches/*.yaml) into SearchDoc objects."""

from __future__ import annotations

from pathlib import Path

import yaml

from .document import SearchDoc, doc_from_mapping, markdown_to_text

DEMO_FICHES = Path(__file__).resolve().parent.parent / "demo" / "fiches"

__all__ = ["DEMO_FICHES", "doc_from_mapping", "load_demo_docs", "markdown_to_text"]


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
