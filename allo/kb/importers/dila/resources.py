"""DILA resources (R files) and the archive's index files.

- R*.xml (`ServiceComplementaire`): forms (cerfa number, notices), online services, simulators,
  model letters, search tools, with the fiches they serve.
- centresDeContact.xml: the national contact centres ("où s'adresser"); their details come from
  the fiches that cite them (`OuSAdresser`, `QuiPeutMAider` with the same id).
- redirections.xml: old ids and where they lead now.
- accueil.xml (most read publications), commentFaireSi.xml, questionsReponses.xml,
  servicesEnLigne.xml: lists of the site, kept as ordered lists of ids.
- idxDateModifImp.xml repeats each fiche's "last important change" date, which the fiche itself
  carries; it is read only to check nothing is missing.
"""

from __future__ import annotations

import re

from .document import AUDIENCE_KEYS, squash
from .safexml import DC, Source, local

RESOURCE_KINDS = {"Formulaire": "formulaire", "Téléservice": "teleservice", "Téléservice personnalisé sur SP": "teleservice",
                  "Simulateur": "simulateur", "Modèle de document": "modele", "Outil de recherche": "outil"}
_SUFFIX = re.compile(r"\s*\((Formulaire|Service en ligne|Simulateur|Modèle de document|Outil de recherche)[^)]*\)\s*$")


def _text(elem) -> str:
    return squash("".join(elem.itertext())).strip() if elem is not None else ""


def parse_resource(data: bytes, name: str) -> dict:
    source = Source(data, name)
    root = source.root
    rid = root.get("ID", "")
    if local(root.tag) != "ServiceComplementaire" or not rid:
        raise source.error(root, "ressource sans identifiant ou d'un type inconnu", local(root.tag))
    dila_type = root.get("type", "")
    web = root.find("LienWeb")
    audiences = [AUDIENCE_KEYS[a] for a in (_text(e) for e in root.findall("Audience")) if a in AUDIENCE_KEYS]
    modified = re.search(r"\d{4}-\d{2}-\d{2}", _text(root.find(f"{DC}date")))
    description = _text(root.find("Introduction")) or _text(root.find("Texte")) or _text(root.find(f"{DC}description"))
    return {
        "id": rid,
        "kind": RESOURCE_KINDS.get(dila_type, "autre"),
        "title": _SUFFIX.sub("", _text(root.find(f"{DC}title"))) or _text(root.find(f"{DC}title")),
        "url": web.get("URL", "") if web is not None else "",
        "cerfa": _text(root.find("NumeroCerfa")),
        "other_number": "",
        "description": description,
        "notices": [{"title": _text(n), "url": n.get("URL", ""), "cerfa": n.get("numerocerfa", "")}
                    for n in root.findall("NoticeLiee")],
        "audiences": list(dict.fromkeys(audiences)),
        "modified": modified.group(0) if modified else None,
        "fiches": [f.get("ID", "") for f in root.findall("FicheLiee") if f.get("ID")],
    }


def parse_contacts(data: bytes, name: str) -> list[dict]:
    root = Source(data, name).root
    return [{"id": c.get("ID", ""), "kind": "contact", "title": _text(c.find("Titre"))}
            for c in root.findall("Contact") if c.get("ID")]


def parse_redirections(data: bytes, name: str) -> list[dict]:
    root = Source(data, name).root
    return [{"old": r.get("from", ""), "new": r.get("to", ""), "kind": r.get("type", ""), "date": r.get("date")}
            for r in root.findall("Redirection") if r.get("from") and r.get("to")]


def parse_list(data: bytes, name: str) -> dict[str, list[dict]]:
    """An index page's groups: {group type: [{id, title, type}]} (a page without groups is one group)."""
    root = Source(data, name).root
    groups: dict[str, list[dict]] = {}
    containers = root.findall("Groupe") or [root]
    for group in containers:
        key = group.get("type", "") or local(root.tag)
        for item in group:
            tag = local(item.tag)
            if item.get("ID") and tag not in ("FilDAriane", "Audience", "Canal"):
                groups.setdefault(key, []).append({"id": item.get("ID", ""), "type": item.get("type", tag),
                                                   "title": _text(item.find("Titre")) or _text(item)})
    return groups


def parse_dates(data: bytes, name: str) -> dict[str, str]:
    root = Source(data, name).root
    out = {}
    for item in root.findall("Item"):
        match = re.search(r"\d{4}-\d{2}-\d{2}", item.get("dateDerniereModificationImportante", ""))
        if item.get("ID") and match:
            out[item.get("ID")] = match.group(0)
    return out


def archive_date(data: bytes, name: str) -> str | None:
    """The date DILA produced the archive (menu.xml's dc:date)."""
    root = Source(data, name).root
    match = re.search(r"\d{4}-\d{2}-\d{2}", _text(root.find(f"{DC}date")))
    return match.group(0) if match else None


def site_of(data: bytes, name: str) -> str:
    root = Source(data, name).root
    return AUDIENCE_KEYS.get(_text(root.find("Audience")), "")
