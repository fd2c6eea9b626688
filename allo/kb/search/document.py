"""What the engine indexes of a fiche (`SearchDoc`), and how a fiche record becomes one.

A record is the fiche dict of our format (demo YAML, `fiche_to_record`, the DILA importer). When it
carries a `search` dict (the importer's search fields: title, description, intro, headings, body,
keywords, definitions, crumbs, kind, audiences) that is used as is; otherwise the same fields are
read back from the record's Markdown sections (headings, "Cas :" labels, the glossary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from allo.kb.sections import SECTIONS
from allo.kb.text import markdown_to_text

# The two collections of one index: DILA's official fiches and the line's own (local) fiches.
OFFICIAL = "service-public"
LOCAL = "locale"

# a fiche's sections in display order, written once in allo/kb/sections.py (pure, like this package)
SECTION_ORDER = tuple(SECTIONS)

_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$|^\*\*(?:Situation|Cas)\s*:\s*(.+?)\*\*\s*$", re.MULTILINE)
_GLOSSARY_ITEM = re.compile(r"^- \*\*(.+?)\*\* : (.+)$", re.MULTILINE)
_OFFICIAL_ID = re.compile(r"^[FNR]\d+$")
_KINDS = (("question", "question-reponse"), ("recherche", "recherche-guidee"), ("comment", "comment-faire-si"),
          ("liens", "liens-externes"), ("information", "information"))


@dataclass
class SearchDoc:
    id: str
    title: str
    theme: str = ""
    subtheme: str = ""
    audience: str = ""
    short_answer: str = ""  # the introduction (what an operator reads aloud first)
    body: str = ""
    keywords: list[str] = field(default_factory=list)
    phrasings: list[str] = field(default_factory=list)  # ways callers ask it (local fiches)
    callers_words: list[str] = field(default_factory=list)  # what editors say callers call it (Allô's notes)
    popularity: int = 3
    description: str = ""  # DILA's dc:description: one sentence saying what the fiche answers
    headings: list[str] = field(default_factory=list)  # chapter, situation and case titles
    definitions: list[tuple[str, str]] = field(default_factory=list)  # glossary (term, text)
    crumbs: list[str] = field(default_factory=list)  # theme and dossier labels above the fiche
    kind: str = ""  # information, question-reponse, recherche-guidee, comment-faire-si, liens-externes
    collection: str = LOCAL


def _kind(value: str) -> str:
    low = (value or "").lower()
    return next((kind for word, kind in _KINDS if word in low), "")


def _strs(values) -> list[str]:
    return [str(v).strip() for v in values or [] if str(v or "").strip()]


def doc_from_mapping(data: dict) -> SearchDoc:
    """A fiche record (see module doc) -> SearchDoc."""
    fiche_id = str(data["id"])
    sections = data.get("sections") or {}
    keys = [k for k in SECTION_ORDER if k in sections] + sorted(k for k in sections if k not in SECTION_ORDER)
    raw = "\n".join(str(sections[k] or "") for k in keys)
    source = data.get("source") if isinstance(data.get("source"), dict) else {}
    collection = str(data.get("collection") or (OFFICIAL if _OFFICIAL_ID.match(fiche_id) else LOCAL))
    search = data.get("search") if isinstance(data.get("search"), dict) else None
    if search:
        definitions = [(str(t), str(x)) for t, x in search.get("definitions") or [] if str(t).strip()]
        return SearchDoc(
            id=fiche_id, title=str(search.get("title") or data.get("title") or ""),
            theme=str(data.get("theme") or ""), subtheme=str(data.get("subtheme") or ""),
            audience=str(data.get("audience") or ""),
            short_answer=str(search.get("intro") or markdown_to_text(str(data.get("short_answer") or ""))),
            body=str(search.get("body") or ""), keywords=_strs(search.get("keywords")),
            phrasings=_strs(data.get("phrasings")), callers_words=_strs(data.get("callers_words")),
            popularity=int(data.get("popularity") or 3), description=str(search.get("description") or ""), headings=_strs(search.get("headings")),
            definitions=definitions, crumbs=_strs(search.get("crumbs")),
            kind=str(search.get("kind") or ""), collection=collection)
    headings = [(m.group(1) or m.group(2)).strip(" :") for m in _HEADING.finditer(raw)]
    glossary = raw.split("### Définitions", 1)[1] if "### Définitions" in raw else ""
    definitions = [(t.strip(), markdown_to_text(x)) for t, x in _GLOSSARY_ITEM.findall(glossary)]
    return SearchDoc(
        id=fiche_id,
        title=str(data.get("title") or ""),
        theme=str(data.get("theme") or ""),
        subtheme=str(data.get("subtheme") or ""),
        audience=str(data.get("audience") or ""),
        short_answer=markdown_to_text(str(data.get("short_answer") or "")),
        body=markdown_to_text(raw),
        keywords=_strs(data.get("keywords")),
        phrasings=_strs(data.get("phrasings")),
        callers_words=_strs(data.get("callers_words")),
        popularity=int(data.get("popularity") or 3),
        headings=[h for h in headings if h not in ("Définitions", "Introduction")],
        definitions=definitions,
        crumbs=_strs([data.get("subtheme")]),
        kind=str(data.get("kind") or _kind(str(source.get("type") or ""))),
        collection=collection,
    )
