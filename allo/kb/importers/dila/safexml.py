"""Loading DILA XML files safely, with French error messages that name the file, element and line.

The C parser does the work (the whole corpus, 7,600 files, parses in about 3 s); line numbers are
found again only when an error has to be reported. The real files never carry a DOCTYPE, so any
DOCTYPE or entity declaration is refused before parsing (no entity expansion attack can start);
archive members are size-capped elsewhere (zip bombs).
"""

from __future__ import annotations

from xml.etree import ElementTree as ET
from xml.parsers import expat

DC = "{http://purl.org/dc/elements/1.1/}"

# Real fiches weigh at most 1.5 MB; anything far larger is not a fiche (or is a zip bomb).
MAX_FILE_BYTES = 8 * 1024 * 1024


class DilaFormatError(ValueError):
    """A DILA file or archive that cannot be imported; the message is French and names file/element/line.

    `errors` lists every problem found (an archive reports all its bad files at once).
    """

    def __init__(self, message: str, *, filename: str = "", element: str = "", line: int | None = None,
                 errors: list[str] | None = None):
        super().__init__(message)
        self.filename, self.element, self.line = filename, element, line
        self.errors = errors or [message]


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


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class Source:
    """One parsed file: its root element, and how to report an error on one of its elements."""

    def __init__(self, data: bytes, name: str):
        self.name, self.data = name, data
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            line = data[: max(data.find(b"<!DOCTYPE"), data.find(b"<!ENTITY"))].count(b"\n") + 1
            raise DilaFormatError(
                f"{name}, ligne {line} : déclaration DOCTYPE/ENTITY refusée "
                "(absente des fichiers DILA, et risque d'expansion d'entités)",
                filename=name, element="!DOCTYPE", line=line)
        try:
            self.root = ET.fromstring(data)
        except ET.ParseError:
            raise self._syntax_error() from None

    def _syntax_error(self) -> DilaFormatError:
        # Parsed again with expat's own handlers only to say where, in which element, and why.
        stack: list[str] = []
        parser = expat.ParserCreate(namespace_separator="}")
        parser.StartElementHandler = lambda tag, attrs: stack.append(tag)
        parser.EndElementHandler = lambda tag: stack.pop() if stack else None
        try:
            parser.Parse(self.data, True)
        except expat.ExpatError as exc:
            reason = expat.errors.messages.get(exc.code, str(exc)) if exc.code else str(exc)
            where = f" dans l'élément <{local(stack[-1])}>" if stack else ""
            return DilaFormatError(
                f"{self.name}, ligne {exc.lineno}, colonne {exc.offset + 1} : XML mal formé{where} "
                f"({_EXPAT_FR.get(reason, reason)})",
                filename=self.name, element=local(stack[-1]) if stack else "", line=exc.lineno)
        return DilaFormatError(f"{self.name} : XML mal formé", filename=self.name)

    def line(self, elem: ET.Element) -> int | None:
        """The line where `elem` starts: the n-th start tag in document order, found by expat."""
        try:
            index = next(i for i, e in enumerate(self.root.iter()) if e is elem)
        except StopIteration:
            return None
        found: list[int] = []
        parser = expat.ParserCreate(namespace_separator="}")

        def start(tag, attrs):
            if len(found) <= index:
                found.append(parser.CurrentLineNumber)

        parser.StartElementHandler = start
        parser.Parse(self.data, True)
        return found[index] if index < len(found) else None

    def error(self, elem: ET.Element | None, message: str, element: str) -> DilaFormatError:
        line = self.line(elem) if elem is not None else None
        where = f", ligne {line}" if line else ""
        return DilaFormatError(f"{self.name}{where} : {message}", filename=self.name, element=element, line=line)
