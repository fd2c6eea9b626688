"""The renderer's hooks for pages that lay a fiche out themselves (the portal, the operator's desk)."""

from __future__ import annotations

import re

from allo.kb.importers.dila.render import Renderer

DOC = {
    "warnings": [{"title": "Formulaires pas encore en ligne", "c": [{"t": "p", "c": ["Bientôt."]}]}],
    "intro": [{"t": "p", "c": ["Voir le ", {"t": "ln", "id": "R1", "k": "Formulaire", "c": ["formulaire"]},
                                " et la ", {"t": "ln", "id": "F2", "k": "Fiche", "c": ["fiche voisine"]}, "."]}],
    "body": [{"t": "sec", "lvl": 2, "title": ["Démarche"], "c": [{"t": "p", "c": ["Texte."]}]}],
    "services": [{"t": "svc", "type": "Formulaire", "title": "Demande", "url": "https://example.org/f.pdf",
                  "cerfa": "12345*01"}],
    "guided": {"items": [{"title": ["Estimer le prix"], "set": {"T1": True},
                          "target": {"id": "R1", "k": "Simulateur", "c": []}},
                         {"title": ["Lire la fiche"], "set": {"T2": True},
                          "target": {"id": "F2", "k": "Fiche", "c": []}}]},
}
URLS = {"R1": "https://www.service-public.fr/simulateur/calcul/1", "F2": "/fiches/F2"}


def link(target: str, kind: str) -> str | None:
    return URLS.get(target)


def test_a_resource_on_another_site_opens_in_a_new_window_and_a_fiche_of_ours_does_not():
    intro = Renderer(DOC, link).parts()["intro"]
    assert ('<a href="https://www.service-public.fr/simulateur/calcul/1" target="_blank" rel="noopener noreferrer" '
            'title="formulaire — nouvelle fenêtre">formulaire</a>') in intro
    assert '<a href="/fiches/F2">fiche voisine</a>' in intro


def test_a_guided_leaf_carries_the_situation_to_our_fiche_only():
    tree = Renderer(DOC, link).guided_tree().replace("&amp;", "&")
    assert 'href="/fiches/F2?vrai=T2"' in tree
    # another site gets no situation of ours in its address, and opens in a new window
    assert 'href="https://www.service-public.fr/simulateur/calcul/1" target="_blank"' in tree


def test_sections_start_at_the_level_the_page_asks_for():
    def levels(html: str) -> list[int]:
        return [int(n) for n in re.findall(r"<h(\d)", html)]

    page = Renderer(DOC, link).parts()
    assert levels(page["warnings"]) == [2] and levels(page["body"]) == [2]
    panel = Renderer(DOC, link).parts(level=3)
    assert levels(panel["warnings"]) == [3] and levels(panel["body"]) == [3]
    assert panel["services"] == page["services"]  # services hold no heading of their own
