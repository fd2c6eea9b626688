"""One DILA fiche (F*.xml) -> a record: metadata, the structured document, and search fields.

The document is plain JSON (stored as is, rendered to HTML at display time by render.py). Nothing
is flattened: situations, cases, conditional passages, questionnaires and guided searches keep
their structure and their conditions.

Inline content ("runs") is a list of strings and dicts:
    {"t": "b"|"sup"|"sub"|"val"|"expr"|"q"|"date"|"var", "c": runs}      markup
    {"t": "lang", "lang": "en", "c": runs}                                 a foreign term
    {"t": "a", "href": url, "c": runs}                                     external link
    {"t": "ln", "id": "F123"|"N45"|"R67", "k": DILA type, "c": runs}       another publication
    {"t": "def", "id": "R41270", "c": runs}                                glossary entry of the fiche
Blocks are dicts with a "t" key, and "cond" (a condition) when DILA shows them only in a situation:
    p (c: runs), h (c: runs: an intertitle), list (ordered, items: [{c: blocks, cond?}]),
    table (title, summary, rows: [{h: header?, cells: [{c: blocks, cs, rs}]}]),
    box (k: asavoir|anoter|attention|rappel|exemple|consigne, title, c), sec (lvl 2|3, title, alt,
    k: important|pieces, c), more (title, c: a "Complément"), cases / sits (display, items: [{title,
    cond?, help?, c}]), cond (c), svc (an online service or form), contact (an office), img, video,
    illus (c + img), defn (a definition inside help text).
Conditions: ["vrai"|"faux"|"indefini", var] | ["ou"|"et", cond, cond, ...].
"""

from __future__ import annotations

import re
from datetime import date
from xml.etree import ElementTree as ET

from .elements import ELEMENTS
from .safexml import DC, DilaFormatError, Source, local

PARSER_VERSION = 2  # bump when the record or document shape changes: every fiche is parsed again

AUDIENCE_KEYS = {"Particuliers": "particulier", "Professionnels": "professionnel", "Associations": "association",
                 "Entreprendre": "professionnel"}
KINDS = {
    "Fiche d'information": "information", "Fiche Question-réponse": "question-reponse",
    "Recherche guidée": "recherche-guidee", "Fiche Comment faire si": "comment-faire-si",
    "Fiche avec liens externes": "liens-externes",
}
STATUS = {"miseAJourAVenir": "a-venir", "enCoursDeMiseAJour": "en-cours"}
BOXES = {"ASavoir": "asavoir", "ANoter": "anoter", "Attention": "attention", "Rappel": "rappel",
         "Exemple": "exemple", "Consigne": "consigne"}
BOX_TITLES = {"asavoir": "À savoir", "anoter": "À noter", "attention": "Attention", "rappel": "Rappel",
              "exemple": "Exemple", "consigne": "Consigne"}
_INLINE_MARKS = {"MiseEnEvidence": "b", "Exposant": "sup", "Indice": "sub", "Valeur": "val", "Expression": "expr",
                 "Citation": "q", "Date": "date", "Variable": "var"}
# Editorial closing sentence of many summaries: meaningless when read aloud on the phone.
_BOILERPLATE = re.compile(r"\s*Nous vous (présentons|expliquons|indiquons|donnons)[^.!?]*[.!?]\s*$")
_SPACES = re.compile(r"\s+")
_FILE_ID = re.compile(r"^[A-Z]+\d[\w-]*$")


def squash(text: str | None) -> str:
    """Whitespace runs (no-break spaces of French typography included) become one space."""
    return _SPACES.sub(" ", text) if text else ""


def runs_text(runs: list) -> str:
    """Plain text of inline runs."""
    out = []
    for run in runs:
        out.append(run if isinstance(run, str) else runs_text(run.get("c", [])))
    return squash("".join(out)).strip()


def _strip(runs: list) -> list:
    """Runs without leading/trailing whitespace (a title's Paragraphe brings its own)."""
    runs = [r for r in runs if not (isinstance(r, str) and not r.strip())]
    if runs and isinstance(runs[0], str):
        runs[0] = runs[0].lstrip()
    if runs and isinstance(runs[-1], str):
        runs[-1] = runs[-1].rstrip()
    return [r for r in runs if r != ""]


class Converter:
    """Walks one fiche's XML once; `seen` counts the element kinds met (for the import report)."""

    def __init__(self, source: Source):
        self.source = source
        self.unknown: dict[str, int] = {}
        self.defines: dict[str, list[str]] = {}  # variable -> [label when true, label when false]

    # -- inline --------------------------------------------------------------------------------------

    def runs(self, elem: ET.Element | None) -> list:
        if elem is None:
            return []
        out: list = []
        if elem.text:
            out.append(squash(elem.text))
        for child in elem:
            tag = local(child.tag)
            inner = self.runs(child)
            if tag in _INLINE_MARKS:
                out.append({"t": _INLINE_MARKS[tag], "c": inner})
            elif tag == "LienInterne":
                out.append({"t": "ln", "id": child.get("LienPublication", ""), "k": child.get("type", ""),
                            "c": inner})
            elif tag == "LienIntra":
                out.append({"t": "def", "id": child.get("LienID", ""), "k": child.get("type", ""), "c": inner})
            elif tag == "LienExterne":
                out.append({"t": "a", "href": child.get("URL", ""), "c": inner})
            elif tag == "TermeEtranger":
                out.append({"t": "lang", "lang": child.get("langue", ""), "c": inner})
            elif tag in ("Paragraphe", "Item"):
                out += [" ", *inner, " "]  # block-ish children read as separate words
            elif tag == "Image":
                pass  # an image inside a paragraph becomes a block after it (see block())
            else:
                self._unknown(tag)
                out += [" ", *inner, " "]
            if child.tail:
                out.append(squash(child.tail))
        return out

    def title(self, elem: ET.Element | None) -> list:
        return _strip(self.runs(elem))

    def _unknown(self, tag: str) -> None:
        if tag not in ELEMENTS:
            self.unknown[tag] = self.unknown.get(tag, 0) + 1

    # -- conditions ----------------------------------------------------------------------------------

    def condition(self, elem: ET.Element | None):
        if elem is None:
            return None
        parts = [self._cond(child) for child in elem]
        parts = [p for p in parts if p]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else ["et", *parts]

    def _cond(self, elem: ET.Element):
        tag = local(elem.tag)
        if tag in ("estVrai", "estFaux", "estIndefini"):
            return [{"estVrai": "vrai", "estFaux": "faux", "estIndefini": "indefini"}[tag], elem.get("var", "")]
        if tag in ("ou", "et"):
            parts = [p for p in (self._cond(c) for c in elem) if p]
            return [tag, *parts] if len(parts) > 1 else (parts[0] if parts else None)
        self._unknown(tag)
        return None

    def assignments(self, elem: ET.Element | None) -> dict[str, bool]:
        if elem is None:
            return {}
        out: dict[str, bool] = {}
        for child in elem:
            tag = local(child.tag)
            if tag in ("affecteVrai", "affecteFaux"):
                out[child.get("var", "")] = tag == "affecteVrai"
            else:
                self._unknown(tag)
        return out

    def _define(self, assigned: dict[str, bool], label: str) -> None:
        """What a variable means, for the condition labels: the answer's label that sets it."""
        for var, value in assigned.items():
            labels = self.defines.setdefault(var, ["", ""])
            slot = 0 if value else 1
            if label and not labels[slot]:
                labels[slot] = label

    # -- blocks --------------------------------------------------------------------------------------

    def blocks(self, container: ET.Element | None, skip: tuple[str, ...] = ("Titre", "Condition")) -> list:
        if container is None:
            return []
        out: list = []
        for child in container:
            tag = local(child.tag)
            if tag in skip:
                continue
            block = self.block(child, tag)
            if block is None:
                continue
            if isinstance(block, list):
                out.extend(block)
            else:
                out.append(block)
        return out

    def block(self, el: ET.Element, tag: str):
        cond = self.condition(el.find("Condition"))
        block: dict | list | None
        if tag == "Paragraphe":
            runs = _strip(self.runs(el))
            block = [{"t": "p", "c": runs}] if runs else []
            block += [self.image(img) for img in el.findall("Image")]
        elif tag == "Liste":
            items = []
            for item in el:
                if local(item.tag) != "Item":
                    self._unknown(local(item.tag))
                    continue
                entry = {"c": self.blocks(item)}
                item_cond = self.condition(item.find("Condition"))
                if item_cond:
                    entry["cond"] = item_cond
                items.append(entry)
            block = {"t": "list", "ordered": el.get("type") == "numero", "items": items}
        elif tag == "Tableau":
            block = self.table(el)
        elif tag in BOXES:
            title = runs_text(self.runs(el.find("Titre")))
            block = {"t": "box", "k": BOXES[tag], "title": title or BOX_TITLES[BOXES[tag]], "c": self.blocks(el)}
        elif tag in ("Chapitre", "SousChapitre"):
            block = {"t": "sec", "lvl": 2 if tag == "Chapitre" else 3, "title": self.title(el.find("Titre")),
                     "c": self.blocks(el, skip=("Titre", "Condition", "TitreAlternatif"))}
            if el.find("TitreAlternatif") is not None:
                block["alt"] = self.title(el.find("TitreAlternatif"))
            if el.get("type"):
                block["k"] = el.get("type")
        elif tag == "Complement":
            block = {"t": "more", "title": self.title(el.find("Titre")), "c": self.blocks(el)}
        elif tag == "BlocCas":
            block = {"t": "cases", "display": el.get("affichage", ""), "items": [
                self.case(c, "Cas") for c in el if local(c.tag) == "Cas"]}
        elif tag == "ListeSituations":
            block = self.situations(el)
        elif tag == "FragmentConditionne":
            block = {"t": "cond", "c": self.blocks(el)}
        elif tag == "TitreFlottant":
            block = {"t": "h", "c": self.title(el)}
        elif tag == "ServiceEnLigne":
            block = self.service(el)
        elif tag in ("OuSAdresser", "QuiPeutMAider"):
            block = self.contact(el)
        elif tag in ("Image", "Illustration"):
            block = self.image(el)
        elif tag == "Video":
            block = {"t": "video", "url": el.get("URL", ""), "title": runs_text(self.runs(el.find("Titre"))),
                     "credits": self.blocks(el.find("Credits")), "c": self.blocks(el.find("Description")),
                     "source": runs_text(self.runs(el.find("Source")))}
        elif tag == "ContenuIllustre":
            illustration = el.find("Illustration")
            block = {"t": "illus", "c": self.blocks(el.find("Contenu")),
                     "img": self.image(illustration) if illustration is not None else None}
        elif tag in ("Texte", "Introduction", "Contenu", "Description", "Aide", "IntroductionSimple"):
            block = self.blocks(el)  # containers: their blocks, in place
            if cond and block:
                block = {"t": "cond", "c": block}
        elif tag == "Definition":
            block = {"t": "defn", "id": el.get("ID", ""), "title": runs_text(self.runs(el.find("Titre"))),
                     "c": self.blocks(el.find("Texte"))}
        elif tag == "PourEnSavoirPlus":
            block = {"t": "list", "ordered": False, "items": [{"c": [self.link_item(el)]}]}
        elif tag == "Reference":
            block = {"t": "list", "ordered": False, "items": [{"c": [self.reference(el)]}]}
        elif tag == "Avertissement":
            block = {"t": "box", "k": "attention", "title": runs_text(self.runs(el.find("Titre"))) or "Attention",
                     "c": self.blocks(el.find("Texte"))}
        else:
            self._unknown(tag)
            text = runs_text(self.runs(el))
            block = {"t": "p", "c": [text]} if text else None
        if cond and isinstance(block, dict):
            block["cond"] = cond
        return block

    def case(self, el: ET.Element, tag: str) -> dict:
        title = self.title(el.find("Titre"))
        if not title:
            raise self.source.error(el, f"élément <Titre> manquant dans <{tag}>", "Titre")
        item = {"title": title, "c": self.blocks(el, skip=("Titre", "Condition", "Aide"))}
        cond = self.condition(el.find("Condition"))
        if cond:
            item["cond"] = cond
        if el.find("Aide") is not None:
            item["help"] = self.blocks(el.find("Aide"))
        return item

    def situations(self, el: ET.Element) -> dict:
        return {"t": "sits", "display": el.get("affichage", ""),
                "items": [self.case(s, "Situation") for s in el if local(s.tag) == "Situation"]}

    def table(self, el: ET.Element) -> dict:
        rows = []
        for row in el.findall("Rangée"):
            cells = []
            for cell in row.findall("Cellule"):
                entry = {"c": self.blocks(cell)}
                if cell.get("fusionHorizontale"):
                    entry["cs"] = _int(cell.get("fusionHorizontale"))
                if cell.get("fusionVerticale"):
                    entry["rs"] = _int(cell.get("fusionVerticale"))
                cells.append(entry)
            rows.append({"h": row.get("type") == "header", "cells": cells})
        block = {"t": "table", "title": self.title(el.find("Titre")), "rows": rows}
        if el.find("Resume") is not None:
            block["summary"] = self.blocks(el.find("Resume"))
        return block

    def image(self, el: ET.Element) -> dict:
        return {"t": "img", "src": el.get("LienPublication", ""), "title": runs_text(self.runs(el.find("Titre"))),
                "caption": runs_text(self.runs(el.find("Legende"))),
                "alt": runs_text(self.runs(el.find("TexteDeRemplacement"))),
                "credits": self.blocks(el.find("Credits")), "c": self.blocks(el.find("Description"))}

    def service(self, el: ET.Element) -> dict:
        block = {"t": "svc", "id": el.get("ID", ""), "type": el.get("type", ""),
                 "title": runs_text(self.runs(el.find("Titre"))), "url": el.get("URL", ""),
                 "cerfa": el.get("numerocerfa", ""), "other": el.get("autrenumero", ""),
                 "source": runs_text(self.runs(el.find("Source"))),
                 "c": self.blocks(el, skip=("Titre", "Condition", "Source", "NoticeLiee", "ServiceEnLigneAnnexe",
                                            "FranceConnect", "PivotLocal")),
                 "notices": [self.notice(n) for n in el.findall("NoticeLiee")],
                 "annexes": [self.annex(a) for a in el.findall("ServiceEnLigneAnnexe")]}
        if (el.findtext("FranceConnect") or "").strip() == "true":
            block["franceconnect"] = True
        pivot = runs_text(self.runs(el.find("PivotLocal")))
        if pivot:
            block["pivot"] = pivot
        if el.get("format"):
            block["format"], block["weight"] = el.get("format", ""), el.get("poids", "")
        return block

    def notice(self, el: ET.Element) -> dict:
        return {"id": el.get("ID", ""), "url": el.get("URL", ""), "cerfa": el.get("numerocerfa", ""),
                "title": runs_text(self.runs(el)), "type": el.get("type", "")}

    def annex(self, el: ET.Element) -> dict:
        web = el.find("LienWeb")
        return {"id": el.get("ID", ""), "type": el.get("type", ""), "group": el.get("groupe", ""),
                "title": runs_text(self.runs(el.find("Titre"))), "cerfa": el.get("numerocerfa", ""),
                "url": web.get("URL", "") if web is not None else "",
                "c": self.blocks(el.find("Introduction")),
                "notices": [self.notice(n) for n in el.findall("NoticeLiee")]}

    def contact(self, el: ET.Element) -> dict:
        return {"t": "contact", "id": el.get("ID", ""), "type": el.get("type", ""),
                "title": runs_text(self.runs(el.find("Titre"))),
                "pivot": runs_text(self.runs(el.find("PivotLocal"))),
                "complement": runs_text(self.runs(el.find("Complement"))),
                "web": [r.get("URL", "") for r in el.findall("RessourceWeb") if r.get("URL")],
                "source": runs_text(self.runs(el.find("Source"))),
                "c": self.titled(el.find("IntroductionSimple")) + self.blocks(el.find("Texte"))}

    def titled(self, el: ET.Element | None) -> list:
        """A container's blocks, its own title (if any) first, in bold."""
        if el is None:
            return []
        title = self.title(el.find("Titre"))
        return ([{"t": "p", "c": [{"t": "b", "c": title}]}] if title else []) + self.blocks(el)

    def link_item(self, el: ET.Element) -> dict:
        """A "Pour en savoir plus" (or "Qui peut m'aider" web link): title, url, source."""
        return {"t": "p", "c": [{"t": "a", "href": el.get("URL", ""), "c": [runs_text(self.runs(el.find("Titre")))]},
                                *([f" — {runs_text(self.runs(el.find('Source')))}"] if el.find("Source") is not None
                                  else [])]}

    def reference(self, el: ET.Element) -> dict:
        runs: list = [{"t": "a", "href": el.get("URL", ""), "c": [runs_text(self.runs(el.find("Titre")))]}]
        complement = runs_text(self.runs(el.find("Complement")))
        if complement:
            runs.append(f" : {complement}")
        source = runs_text(self.runs(el.find("Source")))
        if source:
            runs.append(f" ({source})")
        return {"t": "p", "c": runs}

    # -- questionnaires and guided searches ----------------------------------------------------------

    def questionnaire(self, el: ET.Element) -> dict:
        out: dict = {"desc": self.blocks(el.find("Description")), "intro": self.blocks(el.find("IntroductionSimple")),
                     "questions": [], "branches": []}
        for question in el.findall("Question"):
            choices = []
            for choice in question.findall("Choix"):
                assigned = self.assignments(choice.find("SiSelectionne"))
                label = runs_text(self.runs(choice.find("IntituleSiSelectionne")))
                self._define(assigned, label)
                choices.append({"title": self.title(choice.find("Titre")), "label": label, "set": assigned})
            out["questions"].append({"title": self.title(question.find("Titre")),
                                     "help": self.blocks(question.find("Aide")), "choices": choices})
        out["branches"] = [self.branch(b) for b in el.findall("Branche")]
        return out

    def guided(self, el: ET.Element) -> dict:
        return {"intro": self.title(el.find("Accueil")),
                "items": [self.branch(p) for p in el.findall("Problematique")]}

    def branch(self, el: ET.Element) -> dict:
        title = self.title(el.find("Titre"))
        assigned: dict[str, bool] = {}
        for sel in el.findall("SiSelectionne"):
            assigned.update(self.assignments(sel))
        self._define(assigned, runs_text(title))
        node: dict = {"title": title, "set": assigned}
        if el.find("Aide") is not None:
            node["help"] = self.blocks(el.find("Aide"))
        if el.find("TitreChoix") is not None:
            node["ask"] = self.title(el.find("TitreChoix"))
        link = el.find("LienInterne")
        if link is not None:
            node["target"] = {"id": link.get("LienPublication", ""), "k": link.get("type", ""),
                              "c": self.title(link)}
        children = [self.branch(b) for b in el.findall("Branche")]
        if children:
            node["children"] = children
        return node


def _int(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _date(value: str | None) -> str | None:
    match = re.search(r"\d{4}-\d{2}-\d{2}", value or "")
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(0)).isoformat()
    except ValueError:
        return None


def _related(root: ET.Element, tag: str, conv: Converter) -> list[dict]:
    out, seen = [], set()
    for el in root.findall(tag):
        key = el.get("ID", "")
        if key in seen:
            continue
        seen.add(key)
        out.append({"id": key, "title": runs_text(conv.runs(el.find("Titre"))), "audience": el.get("audience", "")})
    return out


_GUIDED_TITLE = re.compile(r"^\[\s*(?:(?:RG|Questionnaire)\s*-\s*)?(?P<title>.*?)\s*\]$")


def _display_title(title: str) -> str:
    """A guided search's title as people read it. DILA titles 62 of them for its own staff, in brackets
    and sometimes with a prefix ("[RG - Mariage en France]", "[Questionnaire - MTP]"); the site shows
    them under the fiche they lead to, a list of hits shows them alone."""
    match = _GUIDED_TITLE.match(title)
    if not match or not match.group("title"):
        return title
    clean = match.group("title")
    return f"Recherche guidée : {clean}" if " " not in clean and clean.isupper() else clean


def parse_fiche(data: bytes, name: str) -> dict:
    """Parse one F*.xml file's bytes into a record (see the module docstring for the document)."""
    source = Source(data, name)
    root = source.root
    if local(root.tag) != "Publication":
        raise source.error(root, f"élément <Publication> manquant (racine trouvée : <{local(root.tag)}>)",
                           "Publication")
    fiche_id = (root.get("ID") or squash(root.findtext(f"{DC}identifier"))).strip()
    if not fiche_id:
        raise source.error(root, "attribut ID manquant sur <Publication> (et pas de <dc:identifier>)", "Publication")
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if _FILE_ID.match(stem) and stem.upper() != fiche_id.upper():
        raise source.error(root, f"identifiant {fiche_id} différent du nom de fichier", "Publication")
    conv = Converter(source)
    title = runs_text(conv.runs(root.find(f"{DC}title")))
    if not title:
        raise source.error(root, "élément <dc:title> manquant dans <Publication>", "dc:title")

    dila_type = root.get("type") or squash(root.findtext(f"{DC}type"))
    kind = next((key for label, key in KINDS.items() if dila_type.startswith(label)), "information")
    site = _site(root)
    audiences = [AUDIENCE_KEYS[a] for a in (squash(e.text).strip() for e in root.findall("Audience"))
                 if a in AUDIENCE_KEYS]
    if site and site not in audiences:
        audiences.insert(0, site)
    audiences = list(dict.fromkeys(audiences)) or ["particulier"]

    doc: dict = {"v": PARSER_VERSION}
    doc["warnings"] = [{"id": w.get("ID", ""), "date": _date(w.get("date")),
                        "title": runs_text(conv.runs(w.find("Titre"))), "c": conv.blocks(w.find("Texte"))}
                       for w in root.findall("Avertissement")]
    intro = root.find("Introduction")
    doc["intro"] = conv.blocks(intro)
    intro_cond = conv.condition(intro.find("Condition")) if intro is not None else None
    if intro_cond and doc["intro"]:
        doc["intro"] = [{"t": "cond", "cond": intro_cond, "c": doc["intro"]}]
    questionnaire = root.find("Questionnaire")
    doc["questionnaire"] = conv.questionnaire(questionnaire) if questionnaire is not None else None
    problems = root.find("Problematiques")
    doc["guided"] = conv.guided(problems) if problems is not None else None
    body: list = []
    for child in root:
        tag = local(child.tag)
        if tag == "Texte":
            body += conv.blocks(child)
        elif tag == "ListeSituations":
            body.append(conv.situations(child))
    doc["body"] = body
    doc["links"] = [{"url": (lk.find("LienExterne").get("URL", "") if lk.find("LienExterne") is not None else ""),
                     "title": runs_text(conv.runs(lk.find("LienExterne"))),
                     "comment": conv.blocks(lk.find("Commentaire")) if lk.find("Commentaire") is not None and len(
                         lk.find("Commentaire")) else ([{"t": "p", "c": [squash(lk.findtext("Commentaire"))]}]
                                                       if (lk.findtext("Commentaire") or "").strip() else []),
                     "source": runs_text(conv.runs(lk.find("Source")))}
                    for lk in root.findall("LienExterneCommente")]
    doc["services"] = [_with_cond(conv.service(el), conv, el) for el in root.findall("ServiceEnLigne")]
    doc["contacts"] = [_with_cond(conv.contact(el), conv, el) for el in root.findall("OuSAdresser")]
    doc["helpers"] = [_with_cond(conv.contact(el), conv, el) for el in root.findall("QuiPeutMAider")]
    doc["references"] = [_with_cond(conv.reference(el), conv, el) for el in root.findall("Reference")]
    doc["more"] = [_with_cond(conv.link_item(el), conv, el) for el in root.findall("PourEnSavoirPlus")]
    doc["questions"] = _related(root, "QuestionReponse", conv)
    doc["howto"] = _related(root, "CommentFaireSi", conv)
    doc["guided_links"] = _related(root, "RechercheGuidee", conv) + _related(root, "RechercheGuideePere", conv)
    see_also = []
    for group in root.findall("VoirAussi"):
        for el in group:
            if local(el.tag) in ("Fiche", "Dossier"):
                see_also.append({"id": el.get("ID", ""), "title": runs_text(conv.runs(el.find("Titre"))),
                                 "k": local(el.tag), "audience": el.get("audience", ""),
                                 "important": group.get("important") == "oui"})
    doc["see_also"] = see_also
    doc["glossary"] = [{"id": el.get("ID", ""), "k": "definition" if local(el.tag) == "Definition" else "sigle",
                        "type": el.get("type", ""), "title": runs_text(conv.runs(el.find("Titre"))),
                        "c": conv.blocks(el.find("Texte")),
                        "refs": [conv.reference(r) for r in el.findall("Reference")]}
                       for el in root if local(el.tag) in ("Definition", "Abreviation")]
    doc["targets"] = [t.strip() for e in root.findall("Cible") for t in (e.text or "").split(",") if t.strip()]
    doc["sources"] = [link for e in root.findall(f"{DC}source")
                      for link in re.findall(r"https?://[^\s,;]+", e.text or "")]
    doc["author"] = squash(root.findtext(f"{DC}contributor") or root.findtext(f"{DC}creator")).strip()
    doc["defines"] = conv.defines
    for tag in {local(e.tag) for e in root.iter()}:
        conv._unknown(tag)

    description = squash(root.findtext(f"{DC}description")).strip()
    short = _BOILERPLATE.sub("", description).strip() or description
    crumbs = [(n.get("ID", ""), squash(n.text).strip()) for n in root.findall("FilDAriane/Niveau")]
    path = [[i, label] for i, label in crumbs[1:] if i != fiche_id]
    record = {
        "id": fiche_id,
        "title": _display_title(title) if kind == "recherche-guidee" else title,
        "kind": kind,
        "dila_type": dila_type,
        "site": site,
        "audiences": audiences,
        "status": STATUS.get(root.get("statut", ""), ""),
        "modified": _date(root.findtext(f"{DC}date")),
        "important": _date(root.get("dateDerniereModificationImportante")),
        "url": root.get("spUrl", ""),
        "description": short,
        "paths": [{"audience": site or audiences[0], "crumbs": path}] if path else [],
        "parent": (root.find("DossierPere").get("ID", "") if root.find("DossierPere") is not None else ""),
        "subject": squash(root.findtext(f"{DC}subject")).strip(),
        "document": doc,
        "unknown": conv.unknown,
    }
    return record


def _with_cond(block: dict, conv: Converter, el: ET.Element) -> dict:
    cond = conv.condition(el.find("Condition"))
    if cond:
        block["cond"] = cond
    return block


def _site(root: ET.Element) -> str:
    first = root.find("FilDAriane/Niveau")
    return AUDIENCE_KEYS.get(first.get("ID", "")) if first is not None else ""


def check_title(record: dict) -> None:
    if not record.get("title"):
        raise DilaFormatError(f"{record.get('id')} : titre manquant")
