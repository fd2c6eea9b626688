"""What the search engine reads of an official fiche, field by field (allo/kb/search weighs them)."""

from __future__ import annotations

from .document import runs_text
from .render import render_text


def _headings(blocks: list, out: list[str]) -> None:
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        t = block.get("t")
        if t in ("sec", "more") and block.get("title"):
            out.append(runs_text(block["title"]))
        elif t == "h":
            out.append(runs_text(block.get("c", [])))
        if t in ("cases", "sits"):
            for item in block.get("items", []):
                out.append(runs_text(item.get("title", [])))
                _headings(item.get("c", []), out)
        _headings(block.get("c", []) if isinstance(block.get("c"), list) else [], out)


def search_fields(record: dict) -> dict:
    doc = record["document"]
    headings: list[str] = []
    _headings(doc.get("body", []), headings)
    body_parts = {key: doc.get(key) for key in ("body", "questionnaire", "guided", "links", "services", "contacts",
                                                 "helpers")}
    keywords: list[str] = []
    for entry in doc.get("glossary") or []:
        if entry.get("title"):
            keywords.append(entry["title"])
    keywords += doc.get("targets") or []
    keywords += sorted({s["cerfa"] for s in _services(doc) if s.get("cerfa")})
    crumbs: list[str] = []
    for path in record.get("paths") or []:
        for _, label in path.get("crumbs", []):
            if label not in crumbs:
                crumbs.append(label)
    return {
        "title": record["title"],
        "description": record.get("description", ""),
        "intro": render_text({"c": doc.get("intro", [])}),
        "headings": [h for h in dict.fromkeys(headings) if h],
        "body": render_text(body_parts),
        "keywords": list(dict.fromkeys(k for k in keywords if k)),
        "definitions": [[g.get("title", ""), render_text({"c": g.get("c", [])})] for g in doc.get("glossary") or []],
        "crumbs": crumbs,
        "kind": record.get("kind", ""),
        "audiences": record.get("audiences", []),
    }


def _services(doc: dict):
    for service in doc.get("services") or []:
        yield service
        yield from service.get("annexes", [])
    stack = list(doc.get("body") or [])
    while stack:
        block = stack.pop()
        if not isinstance(block, dict):
            continue
        if block.get("t") == "svc":
            yield block
            yield from block.get("annexes", [])
        for key in ("c", "items"):
            value = block.get(key)
            if isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, dict))
