"""The theme tree from DILA's N files (theme and dossier pages), and where each fiche is listed.

Theme pages (type "Theme") list their sous-thèmes and, in each, the dossiers; dossier pages list
their sous-dossiers and, in each, the fiches, in DILA's order. A dossier whose page is missing
from the archive is still known from its theme page, and its fiches from the fiches' own
`DossierPere` (which repeats the dossier's list). A node gets one parent (the first met, the
Particuliers site first); a fiche may be listed under several nodes.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from .document import AUDIENCE_KEYS, runs_text, squash
from .safexml import DC, Source, local


def _text(elem: ET.Element | None) -> str:
    if elem is None:
        return ""
    return squash("".join(elem.itertext())).strip()


def _title(elem: ET.Element) -> str:
    """An entry's label: its <Titre>, or its own text (`<Dossier ID="N44">Assurance habitation</Dossier>`)."""
    title = elem.find("Titre")
    return _text(title) if title is not None else _text(elem)


class Tree:
    """Nodes {id: {id, kind, title, parent, position, audience, introduction}} and placements."""

    def __init__(self):
        self.nodes: dict[str, dict] = {}
        self.placements: dict[tuple[str, str], int] = {}  # (node id, fiche id) -> position
        self._listed: set[str] = set()  # nodes whose fiches came from their own page
        self._own_parent: dict[str, str] = {}  # fiche -> the dossier its own file names

    def node(self, node_id: str, kind: str, title: str, parent: str | None, position: int, audience: str,
             listed: bool = False) -> None:
        """Record a node. `listed`: the position comes from the parent's own list (a theme page, the
        menu, a dossier page), which decides the child's place over what a child's page says of its
        parent (a dossier page names its sous-thème, not where that sous-thème comes in its theme)."""
        if not node_id:
            return
        existing = self.nodes.get(node_id)
        if existing is None:
            self.nodes[node_id] = {"id": node_id, "kind": kind, "title": title, "parent": parent,
                                   "position": position, "audience": audience, "introduction": "",
                                   "listed": listed}
            return
        if not existing["title"] and title:
            existing["title"] = title
        if not parent or parent == node_id:
            return
        if existing["parent"] is None or (listed and not existing["listed"]):
            # The first listing wins (the Particuliers site is read first); a mention never moves a node.
            existing["parent"], existing["position"], existing["listed"] = parent, position, listed

    def place(self, node_id: str, fiche_id: str, position: int) -> None:
        self.placements.setdefault((node_id, fiche_id), position)

    def add_page(self, data: bytes, name: str) -> None:
        """One N file."""
        source = Source(data, name)
        root = source.root
        page_id = root.get("ID", "")
        kind = (root.get("type") or _text(root.find(f"{DC}type"))).lower()
        audience = _audience(root)
        title = _text(root.find(f"{DC}title"))
        if kind.startswith("theme"):
            self.node(page_id, "theme", title, None, 0, audience)
            position = 0
            for child in root:
                tag = local(child.tag)
                if tag == "SousTheme":
                    sub_id = child.get("ID", "")
                    self.node(sub_id, "sous-theme", _title(child), page_id, position, audience, listed=True)
                    position += 1
                    for i, dossier in enumerate(child.findall("Dossier")):
                        self.node(dossier.get("ID", ""), "dossier", _title(dossier), sub_id, i, audience,
                                  listed=True)
                elif tag == "Dossier":
                    self.node(child.get("ID", ""), "dossier", _title(child), page_id, position, audience, listed=True)
                    position += 1
            return
        # A dossier page: its place (theme > sous-thème > dossier), then its lists.
        theme = root.find("Theme")
        parent = root.find("SousThemePere")
        parent_id = (parent.get("ID") if parent is not None else None) or (
            theme.get("ID") if theme is not None else None)
        if theme is not None:
            self.node(theme.get("ID", ""), "theme", _title(theme), None, 0, audience)
        if parent is not None and theme is not None:
            self.node(parent.get("ID", ""), "sous-theme", _title(parent), theme.get("ID"), 0, audience)
        self.node(page_id, "dossier", title, parent_id, 0, audience)
        intro = root.find("Introduction")
        if intro is not None:
            self.nodes[page_id]["introduction"] = _text(intro)
        self._listed.add(page_id)
        self._list_fiches(root, page_id, audience)

    def _list_fiches(self, container: ET.Element, dossier_id: str, audience: str) -> None:
        position = 0
        for child in container:
            tag = local(child.tag)
            if tag == "SousDossier":
                sub_id = child.get("ID", "")
                self.node(sub_id, "sous-dossier", _title(child), dossier_id, position, audience, listed=True)
                position += 1
                for i, fiche in enumerate(child.findall("Fiche")):
                    self.place(sub_id, fiche.get("ID", ""), i)
            elif tag == "Fiche" and child.get("ID"):
                self.place(dossier_id, child.get("ID", ""), position)
                position += 1
        # The dossier's questions-réponses, "comment faire si" and guided searches come after its
        # fiches, in the page's order (the portal lists them apart, by the fiches' kind).
        for offset, tag in ((10_000, "QuestionReponse"), (20_000, "CommentFaireSi"), (30_000, "RechercheGuidee")):
            for i, entry in enumerate(container.findall(tag)):
                if entry.get("ID", "").startswith("F"):
                    self.place(dossier_id, entry.get("ID", ""), offset + i)

    def add_fiche_parent(self, data_root: ET.Element, audience: str) -> None:
        """A fiche's own DossierPere: its dossier's list, used when the dossier page is missing."""
        parent = data_root.find("DossierPere")
        if parent is None or not parent.get("ID"):
            return
        dossier_id = parent.get("ID", "")
        theme = data_root.find("Theme")
        sub = data_root.find("SousThemePere")
        if theme is not None:
            self.node(theme.get("ID", ""), "theme", _title(theme), None, 0, audience)
        if sub is not None and theme is not None:
            self.node(sub.get("ID", ""), "sous-theme", _title(sub), theme.get("ID"), 0, audience)
        parent_id = (sub.get("ID") if sub is not None else None) or (theme.get("ID") if theme is not None else None)
        self.node(dossier_id, "dossier", _title(parent), parent_id, 0, audience)
        if dossier_id not in self._listed:
            self._listed.add(dossier_id)
            self._list_fiches(parent, dossier_id, audience)
        fiche_id = data_root.get("ID", "")
        if fiche_id:
            self._own_parent.setdefault(fiche_id, dossier_id)

    def is_listed(self, dossier_id: str) -> bool:
        return dossier_id in self._listed

    def note_parent(self, fiche_id: str, dossier_id: str) -> None:
        self._own_parent.setdefault(fiche_id, dossier_id)

    def place_orphans(self) -> None:
        """A fiche no page lists is placed under its own parent dossier, after the others."""
        placed = {fiche for _, fiche in self.placements}
        for fiche_id, dossier_id in self._own_parent.items():
            if fiche_id not in placed:
                self.place(dossier_id, fiche_id, 90_000)

    def add_menu(self, data: bytes, name: str) -> None:
        """menu.xml: the site's themes > sous-thèmes > dossiers, in the site's order."""
        root = Source(data, name).root
        audience = AUDIENCE_KEYS.get(_text(root.find("Audience")), "")
        for i, theme in enumerate(root.findall("ItemMenu")):
            self.node(theme.get("ID", ""), "theme", _title(theme), None, i, audience, listed=True)
            for j, sub in enumerate(theme.findall("ItemMenu")):
                kind = "sous-theme" if sub.get("type", "").lower().startswith("sous") else "dossier"
                self.node(sub.get("ID", ""), kind, _title(sub), theme.get("ID"), j, audience, listed=True)
                for k, dossier in enumerate(sub.findall("ItemMenu")):
                    self.node(dossier.get("ID", ""), "dossier", _title(dossier), sub.get("ID"), k, audience,
                              listed=True)


def _audience(root: ET.Element) -> str:
    first = root.find("FilDAriane/Niveau")
    if first is not None and first.get("ID") in AUDIENCE_KEYS:
        return AUDIENCE_KEYS[first.get("ID")]
    return AUDIENCE_KEYS.get(_text(root.find("Audience")), "")


__all__ = ["Tree", "runs_text"]
