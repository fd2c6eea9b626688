"""Parser for the service-public.fr open-data XML ("fiches pratiques", DILA schema 3.5).

Turns `F*.xml` fiches into dicts in our fiche format (`allo/kb/demo/README.md`), keeping the official
id (`F862`) as the fiche id. Pure Python, standard library only.

Decisions worth knowing:

- **Conditional content** is never flattened: each `Situation` becomes a "**Situation : <Titre>**"
  label and each `Cas` a "**Cas : <Titre>**" label; a nested case carries its parents' titles
  ("**Cas : A › B**") because our Markdown subset has no indentation for blocks. Content that follows
  a `BlocCas` in the same container applies to every case and is labelled so ("**Dans tous les cas :**").
- **Chapters** whose title names one of our aspects (conditions, démarche, pièces, coût, ...) go to
  that section; the others go, in order and under a `### <title>` heading, to an extra `other` section.
  A chapter inside a situation keeps its situation label in whichever section it lands.
- **N\\* files** ("noeuds": theme, sub-theme and dossier pages) never become fiches: they hold
  navigation, not answers. `parse_archive` validates them like the fiches (all-or-nothing) and uses
  them only as a fallback to find the theme of a fiche that carries no `Theme`/`FilDAriane` itself.
  Other files of the DILA archive (`R*.xml` resources, menus, schemas) are ignored.
- **Security**: the real files never carry a DOCTYPE, so any DOCTYPE or entity declaration is
  rejected before it can be expanded (billion laughs, external entities); archive members are
  size-capped (zip bombs). No third-party XML library is needed for that.
- Errors raise `DilaFormatError` with a French message naming the file, the element and the line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import unicodedata
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from xml.parsers import expat

logger = logging.getLogger(__name__)

DC = "{http://purl.org/dc/elements/1.1/}"

# Real fiches weigh at most a few hundred kB; anything far larger is not a fiche (or is a zip bomb).
MAX_FILE_BYTES = 5 * 1024 * 1024

SECTION_ORDER = (
    "conditions", "demarche", "pieces", "cout", "montant", "delai", "duree-validite", "calendrier",
    "ou-s-adresser", "service-en-ligne", "recours", "other",
)

THEMES = (
    "papiers-citoyennete", "famille-scolarite", "social-sante", "travail-formation", "logement",
    "transports-mobilite", "argent-impots-consommation", "justice", "etranger-europe",
    "loisirs-sports-culture", "associations",
)

# Words of a DILA theme label (accents stripped) -> our theme. First match wins, so the more
# specific words come first ("Loisirs - Sports - Culture" must not fall through to nothing).
_THEME_WORDS = (
    ("papiers-citoyennete", ("papiers", "citoyennete", "elections")),
    ("famille-scolarite", ("famille", "scolarite")),
    ("social-sante", ("social", "sante")),
    ("travail-formation", ("travail", "formation", "emploi", "ressources humaines")),
    ("logement", ("logement",)),
    ("transports-mobilite", ("transports", "mobilite")),
    ("argent-impots-consommation", ("argent", "impots", "consommation", "fiscalite")),
    ("justice", ("justice",)),
    ("etranger-europe", ("etranger", "europe")),
    ("associations", ("associations",)),
    ("loisirs-sports-culture", ("loisirs", "sports", "culture")),
)

# No theme recognised: file by audience; the original label is kept as the sub-theme for editors.
_DEFAULT_THEME = {
    "particulier": "papiers-citoyennete",
    "professionnel": "travail-formation",
    "association": "associations",
}

_AUDIENCES = (
    ("particulier", ("particulier",)),
    ("professionnel", ("professionnel", "entreprise", "entreprendre")),
    ("association", ("association",)),
)

# Chapter title (normalised: lower case, no accents) -> section key. Order matters: "délai de recours"
# is a recours, "combien ça coûte" a coût before a montant, "qui peut faire la demande" a condition.
_SECTION_PATTERNS = (
    ("recours", r"recours|contest|litige|en cas de refus"),
    ("pieces", r"pieces?\b|documents? a (fournir|presenter)|justificatifs?|quels documents"),
    ("service-en-ligne", r"en ligne|teleservice|teleprocedure"),
    ("ou-s-adresser", r"ou s.adresser|a qui s.adresser|ou faire|ou deposer|ou se renseigner|qui contacter"
                      r"|aupres de qui"),
    ("cout", r"\bcouts?\b|combien (ca )?coute|\btarifs?\b|\bprix\b|\bfrais\b|timbre fiscal"),
    ("montant", r"montant|combien|\bcalcul"),
    ("duree-validite", r"validite"),
    ("delai", r"\bdelais?\b"),
    ("calendrier", r"calendrier|\bdates?\b|a quel moment|periode"),
    ("conditions", r"condition|qui peut|qui est concerne|beneficiaires?|eligib|ayants? droit"),
    ("demarche", r"demarche|comment (faire|proceder|demander|obtenir|effectuer|declarer|s.inscrire)"
                 r"|procedure|faire (la|sa|une) demande"),
)

_CALLOUTS = {"ASavoir": "À savoir", "ANoter": "À noter", "Attention": "Attention", "Rappel": "Rappel",
             "Exemple": "Exemple"}
# Labels, navigation and cross-references: read where they belong (titles, references, glossary),
# never rendered as body text. Any other unknown element keeps its text.
_NOT_CONTENT = {
    "Titre", "Condition", "Colonne", "Source", "PivotLocal", "RessourceWeb", "MotClef", "FilDAriane",
    "Theme", "SousThemePere", "DossierPere", "SurTitre", "Audience", "Canal", "VoirAussi",
    "QuiPeutMAider", "Reference", "PourEnSavoirPlus", "Definition", "Abreviation", "QuestionReponse",
}
_STRUCTURE = {"Chapitre", "SousChapitre", "Texte", "ListeSituations"}
# Editorial closing sentence of many introductions: meaningless when read aloud on the phone.
_BOILERPLATE = re.compile(r"\s*Nous vous (présentons|expliquons|indiquons)[^.!?]*[.!?]\s*$")
_FILE_RE = re.compile(r"^[FN]\d[\w-]*\.xml$", re.IGNORECASE)


class DilaFormatError(ValueError):
    """A DILA file or archive that cannot be imported; the message is French and names file/element/line.

    `errors` lists every problem found (an archive reports all its bad files at once).
    """

    def __init__(self, message: str, *, filename: str = "", element: str = "", line: int | None = None,
                 errors: list[str] | None = None):
        super().__init__(message)
        self.filename, self.element, self.line = filename, element, line
        self.errors = errors or [message]


# --------------------------------------------------------------------------------------------------
# Safe XML loading with line numbers
# --------------------------------------------------------------------------------------------------

_EXPAT_FR = {
    "mismatched tag": "balise fermante qui ne correspond pas à l'élément ouvert",
    "no element found": "fichier vide ou tronqué",
    "not well-formed (invalid token)": "caractère ou balise invalide",
    "unclosed token": "balise non fermée",
    "undefined entity": "entité non définie",
    "junk after document element": "contenu après l'élément racine",
    "syntax error": "erreur de syntaxe",
    "duplicate attribute": "attribut en double",
    "unbound prefix": "préfixe d'espace de noms non déclaré",
}


class _Forbidden(Exception):
    pass


class _Doc:
    """A parsed file: its root, where each element started, and helpers to report errors on it."""

    def __init__(self, data: bytes, name: str):
        self.name = name
        self.lines: dict[int, int] = {}
        builder = ET.TreeBuilder()
        stack: list[str] = []
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True

        def start(tag: str, attrs: dict[str, str]) -> None:
            elem = builder.start(_qname(tag), {_qname(k): v for k, v in attrs.items()})
            self.lines[id(elem)] = parser.CurrentLineNumber
            stack.append(tag)

        def end(tag: str) -> None:
            builder.end(_qname(tag))
            stack.pop()

        def forbid(*_args: Any) -> None:
            raise _Forbidden

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = builder.data
        # DILA files never declare a DOCTYPE: refusing it rules out entity expansion attacks outright.
        parser.StartDoctypeDeclHandler = forbid
        parser.EntityDeclHandler = forbid
        try:
            parser.Parse(data, True)
        except _Forbidden:
            raise DilaFormatError(
                f"{name}, ligne {parser.CurrentLineNumber} : déclaration DOCTYPE/ENTITY refusée "
                "(absente des fichiers DILA, et risque d'expansion d'entités)",
                filename=name, element="!DOCTYPE", line=parser.CurrentLineNumber) from None
        except expat.ExpatError as exc:
            reason = expat.errors.messages.get(exc.code, str(exc)) if exc.code else str(exc)
            where = f" dans l'élément <{_local(stack[-1])}>" if stack else ""
            raise DilaFormatError(
                f"{name}, ligne {exc.lineno}, colonne {exc.offset + 1} : XML mal formé{where} "
                f"({_EXPAT_FR.get(reason, reason)})",
                filename=name, element=_local(stack[-1]) if stack else "", line=exc.lineno) from None
        self.root = builder.close()

    def line(self, elem: ET.Element) -> int | None:
        return self.lines.get(id(elem))

    def error(self, elem: ET.Element | None, message: str, element: str) -> DilaFormatError:
        line = self.line(elem) if elem is not None else None
        where = f", ligne {line}" if line else ""
        return DilaFormatError(f"{self.name}{where} : {message}", filename=self.name, element=element,
                               line=line)

    def require_title(self, elem: ET.Element) -> str:
        """Titles of situations and cases are their labels: without one the branch is unreadable."""
        title = _plain(elem.find("Titre"))
        if not title:
            tag = _local(elem.tag)
            raise self.error(elem, f"élément <Titre> manquant dans <{tag}>", "Titre")
        return title


def _qname(name: str) -> str:
    # expat gives "uri}local" for namespaced names; ElementTree spells them "{uri}local".
    return "{" + name if "}" in name else name


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read_source(source: bytes | str | os.PathLike[str]) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), ""
    path = Path(source)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DilaFormatError(f"{path.name} : fichier trop volumineux pour une fiche ({path.stat().st_size} octets)",
                              filename=path.name)
    return path.read_bytes(), path.name


# --------------------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------------------

def _squash(text: str) -> str:
    # \s also covers the (narrow) no-break spaces of French typography.
    return re.sub(r"\s+", " ", text).strip()


def _inline(elem: ET.Element | None, md: bool = True) -> str:
    """Text of an element with its inline markup: emphasis becomes **bold**, links become their text."""
    if elem is None:
        return ""
    parts = [elem.text or ""]
    for child in elem:
        inner = _inline(child, md)
        if md and _local(child.tag) == "MiseEnEvidence" and inner.strip():
            stripped = inner.strip()
            lead = inner[: len(inner) - len(inner.lstrip())]
            trail = inner[len(inner.rstrip()):]
            inner = f"{lead}**{stripped}**{trail}"
        elif _local(child.tag) in ("Paragraphe", "Item"):
            inner = f" {inner} "  # block-ish children read as separate words, never glued together
        parts.append(inner)
        parts.append(child.tail or "")
    return "".join(parts)


def _plain(elem: ET.Element | None) -> str:
    return _squash(_inline(elem, md=False))


def _md(elem: ET.Element | None) -> str:
    return _squash(_inline(elem, md=True))


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _squash(re.sub(r"[’'`]", "'", text))


def section_key(title: str) -> str | None:
    """Our section key for a chapter title, or None when it names none of our aspects."""
    norm = _norm(title)
    for key, pattern in _SECTION_PATTERNS:
        if re.search(pattern, norm):
            return key
    return None


def map_theme(label: str) -> str | None:
    """Our theme slug for a DILA theme label ("Argent - Impôts - Consommation"), or None."""
    norm = _norm(label)
    for slug, words in _THEME_WORDS:
        if any(re.search(rf"\b{w}\b", norm) for w in words):
            return slug
    return None


def _audience(label: str) -> str | None:
    norm = _norm(label)
    for slug, words in _AUDIENCES:
        if any(w in norm for w in words):
            return slug
    return None


def _truncate(text: str, max_words: int = 120) -> str:
    """Keep whole sentences up to max_words; a single over-long sentence is cut with an ellipsis."""
    if len(text.split()) <= max_words:
        return text
    sentences = re.split(r"(?<=[.!?…])\s+(?=[«\"(\dA-ZÀ-ÖØ-Þ])", text)
    kept: list[str] = []
    count = 0
    for sentence in sentences:
        n = len(sentence.split())
        if count + n > max_words:
            break
        kept.append(sentence)
        count += n
    if kept:
        return " ".join(kept)
    return " ".join(text.split()[:max_words]).rstrip(",;:") + " …"


# --------------------------------------------------------------------------------------------------
# Body rendering
# --------------------------------------------------------------------------------------------------

class _Body:
    """Walks the body once, appending Markdown blocks to section buckets in document order."""

    def __init__(self, doc: _Doc):
        self.doc = doc
        self.out: dict[str, list[str]] = {}
        self.context: dict[str, tuple[str, ...]] = {}

    # -- routing -----------------------------------------------------------------------------------

    def emit(self, key: str, blocks: list[str], ctx: tuple[str, ...], appendix: bool = False) -> None:
        """Append blocks to a section, repeating the situation label when it changed for that section.

        `appendix` marks material gathered from the whole fiche (glossary, contacts), which belongs to
        no situation and needs no "whatever the situation" label.
        """
        if not blocks:
            return
        bucket = self.out.setdefault(key, [])
        previous = self.context.get(key, ())
        if ctx != previous:
            if ctx:
                bucket.extend(ctx)
            elif previous and not appendix:
                bucket.append("**Quelle que soit la situation :**")
            self.context[key] = ctx
        bucket.extend(blocks)

    def container(self, elem: ET.Element, ctx: tuple[str, ...] = ()) -> None:
        """A Texte (or Situation): chapters are routed to sections, loose content goes to `other`."""
        loose: list[str] = []
        children = list(elem)
        for i, child in enumerate(children):
            tag = _local(child.tag)
            if tag in ("Chapitre", "SousChapitre"):
                self.emit("other", loose, ctx)
                loose = []
                self.chapter(child, ctx)
            elif tag == "Texte":
                self.emit("other", loose, ctx)
                loose = []
                self.container(child, ctx)
            elif tag == "ListeSituations":
                self.emit("other", loose, ctx)
                loose = []
                self.situations(child)
            else:
                loose.extend(self.block(child, (), children[i + 1:]))
        self.emit("other", loose, ctx)

    def situations(self, elem: ET.Element) -> None:
        for situation in elem.findall("Situation"):
            label = f"**Situation : {self.doc.require_title(situation)}**"
            self.container(situation, (label,))

    def chapter(self, elem: ET.Element, ctx: tuple[str, ...]) -> None:
        title = _plain(elem.find("Titre"))
        key = section_key(title) if title else None
        target = key or "other"
        head: list[str] = []
        # A mapped chapter is labelled by its section; the title only separates it from earlier content.
        if title and (key is None or self.out.get(target)):
            head = [f"### {title}"]
        blocks: list[str] = []
        children = list(elem)
        for i, child in enumerate(children):
            sub_key = section_key(_plain(child.find("Titre"))) if _local(child.tag) == "SousChapitre" else None
            if sub_key and sub_key != key:
                # e.g. "Pièces à fournir" inside "Comment faire la demande ?": it belongs to `pieces`.
                self.emit(target, head + blocks, ctx)
                head, blocks = [], []
                self.chapter(child, ctx)
            else:
                blocks.extend(self.block(child, (), children[i + 1:]))
        self.emit(target, head + blocks if blocks else [], ctx)

    # -- blocks ------------------------------------------------------------------------------------

    def blocks(self, elem: ET.Element, cases: tuple[str, ...]) -> list[str]:
        children = list(elem)
        out: list[str] = []
        for i, child in enumerate(children):
            out.extend(self.block(child, cases, children[i + 1:]))
        return out

    def block(self, elem: ET.Element, cases: tuple[str, ...], following: list[ET.Element]) -> list[str]:
        tag = _local(elem.tag)
        if tag in _NOT_CONTENT or tag.startswith("{"):
            return []
        if tag == "Paragraphe":
            text = _md(elem)
            return [text] if text else []
        if tag == "Liste":
            lines = self.bullets(elem, 0)
            return ["\n".join(lines)] if lines else []
        if tag == "Tableau":
            return self.table(elem)
        if tag == "TitreFlottant":
            text = _plain(elem)
            return [f"**{text}**"] if text else []
        if tag in _CALLOUTS:
            return self.callout(elem, tag)
        if tag in ("Chapitre", "SousChapitre"):
            title = _plain(elem.find("Titre"))
            return ([f"**{title}**"] if title else []) + self.blocks(elem, cases)
        if tag in ("Texte", "Introduction", "Situation", "Cas"):
            return self.blocks(elem, cases)
        if tag in ("BlocCas", "ListeSituations"):
            return self.branches(elem, cases, following)
        if tag == "ServiceEnLigne":
            return [f"**{elem.get('type') or 'Service en ligne'} :** {_service_line(elem)}"]
        if tag == "OuSAdresser":
            return [f"**Où s'adresser :** {_contact_line(elem)}"]
        # Unknown element: keep its text rather than lose content an operator may need.
        text = _md(elem)
        return [text] if text else []

    def branches(self, elem: ET.Element, cases: tuple[str, ...], following: list[ET.Element]) -> list[str]:
        """BlocCas/Cas (or a nested ListeSituations): one labelled block per branch, in order."""
        word, child_tag = ("Cas", "Cas") if _local(elem.tag) == "BlocCas" else ("Situation", "Situation")
        out: list[str] = []
        for branch in elem.findall(child_tag):
            path = cases + (self.doc.require_title(branch),)
            out.append(f"**{word} : {' › '.join(path)}**")
            out.extend(self.blocks(branch, path))
        # Whatever follows the branches in the same block of text is not conditioned by them: say so
        # (a following chapter has its own heading, so it needs no such label).
        rest = []
        for el in following:
            if _local(el.tag) in _STRUCTURE:
                break
            rest.append(el)
        if out and any(self.block(el, cases, []) for el in rest):
            out.append(f"**Cas : {' › '.join(cases)} (suite)**" if cases else "**Dans tous les cas :**")
        return out

    def callout(self, elem: ET.Element, tag: str) -> list[str]:
        label = _plain(elem.find("Titre")) or _CALLOUTS[tag]
        inner = self.blocks(elem, ())
        if not inner:
            return []
        if not inner[0].startswith(("- ", "**")):
            return [f"**{label} :** {inner[0]}"] + inner[1:]
        return [f"**{label} :**"] + inner

    def bullets(self, liste: ET.Element, depth: int) -> list[str]:
        numbered = liste.get("type") == "numero"
        lines: list[str] = []
        for n, item in enumerate(liste.findall("Item"), 1):
            texts, nested = [], []
            for child in item:
                if _local(child.tag) == "Liste":
                    nested.extend(self.bullets(child, depth + 1))
                else:
                    texts.extend(b.replace("\n", " ") for b in self.block(child, (), []))
            text = _squash(" ".join(texts) or _md(item))
            if text:
                prefix = f"({n}) " if numbered else ""
                lines.append(f"{'  ' * depth}- {prefix}{text}")
            lines.extend(nested)
        return lines

    def table(self, elem: ET.Element) -> list[str]:
        """One bullet per row; cells are prefixed by their column header when the table has one."""
        header: list[str] = []
        rows: list[str] = []
        for row in elem.iter("Rangée"):
            cells = [self.cell(c) for c in row.findall("Cellule")]
            if row.get("type") == "header" and not header:
                header = cells
                continue
            if not any(cells):
                continue
            first, rest = cells[0], cells[1:]
            labelled = [f"{header[i + 1]} : {c}" if i + 1 < len(header) and header[i + 1] else c
                        for i, c in enumerate(rest) if c]
            if first and labelled:
                rows.append(f"- {first} — {' ; '.join(labelled)}")
            else:
                rows.append(f"- {first or ' ; '.join(labelled)}")
        title = _plain(elem.find("Titre"))
        if not rows:
            return []
        return ([f"**{title}**"] if title else []) + ["\n".join(rows)]


    def cell(self, elem: ET.Element) -> str:
        # A cell may hold several paragraphs or a list: keep them apart on the single line of a row.
        parts = [re.sub(r"^\s*- ", "", line) for b in self.blocks(elem, ()) for line in b.splitlines()]
        return " ; ".join(p.strip() for p in parts if p.strip()) or _md(elem)


def _service_line(elem: ET.Element, with_type: bool = False) -> str:
    title = _plain(elem.find("Titre")) or "Service en ligne"
    about = [elem.get("type", "")] if with_type else []
    about = [a for a in about + [_plain(elem.find("Source"))] if a]
    url = elem.get("URL", "")
    return title + (f" ({', '.join(about)})" if about else "") + (f" : {url}" if url else "")


def _contact_line(elem: ET.Element) -> str:
    title = _plain(elem.find("Titre"))
    details = _squash(" ".join(_md(c) for c in elem if _local(c.tag) not in ("Titre", "RessourceWeb",
                                                                             "PivotLocal", "Source")))
    pivot = _plain(elem.find("PivotLocal"))
    urls = [r.get("URL", "") for r in elem.iter("RessourceWeb") if r.get("URL")] + (
        [elem.get("URL", "")] if elem.get("URL") else [])
    text = title or pivot or "Organisme compétent"
    if details:
        text += f" — {details}"
    if urls:
        text += f" : {urls[0]}"
    return text


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------

def _publication(doc: _Doc) -> ET.Element:
    root = doc.root
    if _local(root.tag) != "Publication":
        raise doc.error(root, f"élément <Publication> manquant (racine trouvée : <{_local(root.tag)}>)",
                        "Publication")
    return root


def _identity(doc: _Doc, root: ET.Element, source_name: str) -> tuple[str, str]:
    pub_id = (root.get("ID") or _plain(root.find(f"{DC}identifier"))).strip()
    if not pub_id:
        raise doc.error(root, "attribut ID manquant sur <Publication> (et pas de <dc:identifier>)", "Publication")
    stem = Path(source_name).stem if source_name else ""
    if _FILE_RE.match(Path(source_name).name or "") and stem.upper() != pub_id.upper():
        raise doc.error(root, f"identifiant {pub_id} différent du nom de fichier", "Publication")
    title = _plain(root.find(f"{DC}title"))
    if not title:
        raise doc.error(root, "élément <dc:title> manquant dans <Publication>", "dc:title")
    return pub_id, title


def parse_node(source: bytes | str | os.PathLike[str], source_name: str = "") -> dict:
    """Parse an N* file (theme, sub-theme or dossier page) into navigation info, never into a fiche.

    Returns {"id", "type", "title", "theme", "subtheme", "children"}: `theme` is the label of the
    top-level theme it belongs to, `children` the ids of the fiches and nodes it lists.
    """
    data, file_name = _read_source(source)
    doc = _Doc(data, source_name or file_name or "<xml>")
    root = _publication(doc)
    node_id, title = _identity(doc, root, doc.name)
    kind = root.get("type") or _plain(root.find(f"{DC}type"))
    theme = _plain(root.find("Theme/Titre")) or (title if _norm(kind).startswith("theme") else "")
    children: list[str] = []
    stack = list(root)
    while stack:
        el = stack.pop(0)
        if _local(el.tag) in ("VoirAussi", "FilDAriane", "DossierPere", "Theme"):
            continue  # links to elsewhere, not what this page lists
        if _local(el.tag) in ("Fiche", "Dossier", "SousTheme") and el.get("ID"):
            children.append(el.get("ID"))
        stack.extend(el)
    return {"id": node_id, "type": kind, "title": title, "theme": theme,
            "subtheme": _plain(root.find("SousThemePere")), "children": children}


def parse_fiche(source: bytes | str | os.PathLike[str], source_name: str = "", *,
                nodes: dict[str, dict] | None = None) -> dict:
    """Parse one F* fiche (XML bytes, or a path) into a dict in our fiche format.

    `source_name` names the file in error messages (defaults to the path's name). `nodes` (from
    `parse_node`, keyed by id) is only a fallback to find the theme of a fiche that has none itself.
    Besides our format's keys, the dict has a `source` entry (DILA url, type, modification date).
    """
    data, file_name = _read_source(source)
    doc = _Doc(data, source_name or file_name or "<xml>")
    root = _publication(doc)
    fiche_id, title = _identity(doc, root, doc.name)

    audience_label = _plain(root.find(f"{DC}audience")) or _plain(root.find("Audience"))
    audience = _audience(audience_label) or "particulier"
    theme, subtheme = _theme(root, fiche_id, audience, nodes or {})

    body = _Body(doc)
    intro = root.find("Introduction")
    intro_plain = _plain(intro)
    short_answer = _truncate(intro_plain or _plain(root.find(f"{DC}description")))
    if intro is not None and intro_plain != short_answer:
        # What the operator reads aloud was shortened (or lost its lists): keep the full text.
        body.emit("other", ["### Introduction"] + body.blocks(intro, ()), ())
    for child in root:
        tag = _local(child.tag)
        if tag == "Texte":
            body.container(child)
        elif tag == "ListeSituations":
            body.situations(child)
    sections = _collect_sections(root, body)
    short_answer = _BOILERPLATE.sub("", short_answer).strip() or short_answer
    if not short_answer:
        first = next(iter(sections.values()), "")
        short_answer = _truncate(_squash(re.sub(r"\*\*|^#+ |^\s*- ", "", first, flags=re.M))) or title

    modified = _modified(root)
    url = root.get("spUrl") or _default_url(fiche_id, audience)
    return {
        "id": fiche_id,
        "theme": theme,
        "subtheme": subtheme,
        "audience": audience,
        "title": title,
        # The source says nothing about demand: lowest, so imports never outrank curated fiches on it.
        "popularity": 1,
        "level2": "",
        "short_answer": short_answer,
        "sections": sections,
        "keywords": _keywords(root),
        "phrasings": [],
        "references": _references(root, title, url),
        # Editors re-check a year after DILA's last modification (or after the import if undated).
        "review_by": ((modified or date.today()) + timedelta(days=365)).isoformat(),
        "source": {"name": "service-public.fr (DILA)", "file": doc.name, "url": url,
                   "type": root.get("type") or _plain(root.find(f"{DC}type")),
                   "modified": modified.isoformat() if modified else None},
    }


def _theme(root: ET.Element, fiche_id: str, audience: str, nodes: dict[str, dict]) -> tuple[str, str]:
    levels = [n for n in root.findall("FilDAriane/Niveau") if (n.get("ID") or "").startswith("N")]
    labels = [_plain(root.find("Theme/Titre")), _plain(levels[0]) if levels else "",
              _plain(root.find(f"{DC}subject"))]
    subtheme = (_plain(root.find("DossierPere/Titre")) or _plain(root.find("SousThemePere"))
                or (_plain(levels[-1]) if len(levels) > 1 else ""))
    if nodes and not any(map(map_theme, filter(None, labels))):
        # Only then look the fiche up in the theme pages ("isPartOf N44", or listed by a node).
        parent_ids = [_plain(e).split()[-1] for e in root.findall(f"{DC}relation") if _plain(e)]
        parent_ids += [n["id"] for n in nodes.values() if fiche_id in n["children"]]
        parents = [nodes[i] for i in dict.fromkeys(parent_ids) if i in nodes]
        labels += [p["theme"] for p in parents]
        subtheme = subtheme or next(
            (p["title"] for p in parents if not _norm(p["type"]).startswith("theme")), "")
    labels = [label for label in labels if label]
    for label in labels:
        slug = map_theme(label)
        if slug:
            return slug, subtheme or label
    # Unknown theme: a default by audience, and the original label where an editor will see it.
    return _DEFAULT_THEME[audience], (labels[0] if labels else subtheme) or "Service-public.fr"


def _modified(root: ET.Element) -> date | None:
    match = re.search(r"\d{4}-\d{2}-\d{2}", _plain(root.find(f"{DC}date")))
    try:
        return date.fromisoformat(match.group(0)) if match else None
    except ValueError:
        return None


def _default_url(fiche_id: str, audience: str) -> str:
    space = {"professionnel": "professionnels-entreprises", "association": "associations"}.get(
        audience, "particuliers")
    return f"https://www.service-public.gouv.fr/{space}/vosdroits/{fiche_id}"


def _collect_sections(root: ET.Element, body: _Body) -> dict[str, str]:
    contacts = [f"- {_contact_line(el)}" for el in root if _local(el.tag) in ("OuSAdresser", "QuiPeutMAider")]
    if contacts:
        body.emit("ou-s-adresser", ["\n".join(contacts)], (), appendix=True)
    services, seen = [], set()
    for el in root.iter("ServiceEnLigne"):
        key = el.get("URL") or _plain(el.find("Titre"))
        if key not in seen:
            seen.add(key)
            services.append(f"- {_service_line(el, with_type=True)}")
    if services:
        body.emit("service-en-ligne", ["\n".join(services)], (), appendix=True)
    glossary = [f"- **{_plain(el.find('Titre'))}** : {_md(el.find('Texte'))}" for el in root
                if _local(el.tag) in ("Definition", "Abreviation") and _plain(el.find("Titre"))]
    if glossary:
        # Glossary entries behind the fiche's links (LienIntra): operators cannot click, so spell them out.
        body.emit("other", ["### Définitions", "\n".join(glossary)], (), appendix=True)
    return {key: "\n\n".join(body.out[key]) for key in SECTION_ORDER if body.out.get(key)}


def _keywords(root: ET.Element) -> list[str]:
    candidates = [_plain(e) for e in root.iter() if _local(e.tag) in ("MotClef", "MotCle")]
    candidates += [_plain(root.find(f"{DC}subject")), _plain(root.find("SousThemePere")),
                   _plain(root.find("DossierPere/Titre"))]
    # Glossary terms and acronyms the fiche uses are words callers say ("avenant", "RAR").
    candidates += [_plain(e.find("Titre")) for e in root if _local(e.tag) in ("Abreviation", "Definition")]
    keywords, seen = [], set()
    for word in candidates:
        if word and _norm(word) not in seen:
            seen.add(_norm(word))
            keywords.append(word)
    return keywords


def _references(root: ET.Element, title: str, url: str) -> list[dict[str, str]]:
    refs: list[dict[str, str]] = [{"title": f"Service-public.fr — {title}", "url": url}]
    for el in root:
        tag = _local(el.tag)
        if tag in ("Reference", "PourEnSavoirPlus") and el.get("URL"):
            complement = _plain(el.find("Complement"))
            name = _plain(el.find("Titre")) or el.get("URL")
            refs.append({"title": name + (f" — {complement}" if complement else ""), "url": el.get("URL")})
    for el in root.iter("ServiceEnLigne"):
        if el.get("URL"):
            refs.append({"title": _plain(el.find("Titre")) or "Service en ligne", "url": el.get("URL")})
    for source in root.findall(f"{DC}source"):
        for link in re.findall(r"https?://[^\s,;]+", _plain(source)):
            host = re.sub(r"^https?://(www\.)?", "", link).split("/")[0]
            refs.append({"title": f"Texte de référence ({host})", "url": link})
    unique, seen = [], set()
    for ref in refs:
        if ref["url"] not in seen:
            seen.add(ref["url"])
            unique.append(ref)
    return unique


def parse_archive(path: str | os.PathLike[str]) -> list[dict]:
    """Parse a DILA archive (a folder or a .zip of F*.xml / N*.xml, or a single F*.xml) into fiches.

    All-or-nothing: every F*/N* file is checked, and any problem raises one `DilaFormatError` listing
    all bad files; nothing is returned then. N* files only help place fiches in themes (see module doc).
    """
    path = Path(path)
    with contextlib.ExitStack() as stack:
        return _parse_members(path, _archive_members(path, stack))


def _parse_members(path: Path, members: list[tuple[str, Any]]) -> list[dict]:
    nodes: dict[str, dict] = {}
    fiches: list[dict] = []
    errors: list[DilaFormatError] = []
    origin: dict[str, str] = {}

    def check_unique(item_id: str, name: str) -> None:
        if item_id in origin:
            raise DilaFormatError(f"{name} : identifiant {item_id} déjà présent dans {origin[item_id]}",
                                  filename=name, element="Publication")
        origin[item_id] = name

    # Nodes first: fiches use them as a theme fallback.
    for name, read in members:
        if Path(name).name.upper().startswith("N"):
            try:
                node = parse_node(read(), name)
                check_unique(node["id"], name)
                nodes[node["id"]] = node
            except DilaFormatError as exc:
                errors.append(exc)
    for name, read in members:
        if Path(name).name.upper().startswith("F"):
            try:
                fiche = parse_fiche(read(), name, nodes=nodes)
                check_unique(fiche["id"], name)
                fiches.append(fiche)
            except DilaFormatError as exc:
                errors.append(exc)
    if errors:
        first = errors[0]
        message = str(first) if len(errors) == 1 else (
            f"{len(errors)} fichiers invalides, rien n'a été importé :\n" + "\n".join(f"- {e}" for e in errors))
        raise DilaFormatError(message, filename=first.filename, element=first.element, line=first.line,
                              errors=[str(e) for e in errors])
    if not fiches:
        raise DilaFormatError(f"{path.name} : aucune fiche F*.xml trouvée", filename=path.name)
    logger.info("DILA import: %d fiches parsed, %d theme pages used, from %s", len(fiches), len(nodes), path)
    return fiches


def _archive_members(path: Path, stack: contextlib.ExitStack) -> list[tuple[str, Any]]:
    """(name, reader) of the F*/N* files, sorted for a stable order; other files are ignored."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.xml") if _FILE_RE.match(p.name))
        return [(str(p.relative_to(path)), lambda p=p: _read_source(p)[0]) for p in files]
    if not path.exists():
        raise DilaFormatError(f"{path} : fichier ou dossier introuvable", filename=str(path))
    if _FILE_RE.match(path.name):
        return [(path.name, lambda: _read_source(path)[0])]
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except zipfile.BadZipFile:
        raise DilaFormatError(f"{path.name} : ni dossier, ni archive .zip lisible, ni fichier F*.xml / N*.xml",
                              filename=path.name) from None
    infos = sorted((i for i in archive.infolist() if not i.is_dir() and _FILE_RE.match(Path(i.filename).name)),
                   key=lambda i: i.filename)

    def reader(info: zipfile.ZipInfo):
        def read() -> bytes:
            # Declared sizes can lie: read at most the cap plus one byte, whatever the header says.
            with archive.open(info) as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise DilaFormatError(f"{info.filename} : fichier trop volumineux pour une fiche",
                                      filename=info.filename)
            return data
        return read

    return [(info.filename, reader(info)) for info in infos]
