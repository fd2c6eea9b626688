"""Nothing an operator needs is lost: over both real archives, every element kind is known to the
importer, and the words of each content element kind are in the fiches' rendered pages (≥ 99 %).

Reads and renders all 3,647 fiche files (about 40 s here): the one test that proves the importer on
the whole corpus rather than on samples.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from allo.kb.importers.dila import parse_fiche, render_html
from allo.kb.importers.dila.coverage import html_words, measure, unknown_kinds
from allo.kb.importers.dila.elements import CONTENT, ELEMENTS

REAL = Path(__file__).resolve().parents[4] / "shared" / "kb" / "service-public-real"
MIN_SHARE = 0.99


@pytest.mark.skipif(not (REAL / "part.zip").exists(), reason=f"the real DILA archives are not at {REAL}")
def test_every_element_kind_is_known_and_its_words_are_rendered():
    totals: dict[str, list[int]] = {}
    unknown: Counter = Counter()
    fiches = 0
    for site in ("part", "pro"):
        with zipfile.ZipFile(REAL / f"{site}.zip") as archive:
            for info in archive.infolist():
                if not info.filename.startswith("F"):
                    continue
                data = archive.read(info)
                root = ET.fromstring(data)
                unknown.update(unknown_kinds(root))
                record = parse_fiche(data, info.filename)
                page = " ".join([record["title"], record["description"],
                                 render_html(record["document"], lambda target, kind: "#")])
                measure(root, html_words(page), totals)
                fiches += 1
    assert fiches == 3647
    assert not unknown, f"element kinds the importer does not know: {dict(unknown)}"
    low = {kind: f"{found / words:.4f}" for kind, (found, words) in totals.items() if found / words < MIN_SHARE}
    assert not low, f"element kinds whose words are not all rendered: {low}"
    # The measure covers the kinds that carry the text (not a handful of trivial ones).
    content = {kind for kind, (role, _) in ELEMENTS.items() if role == CONTENT}
    measured = set(totals) & content
    assert {"Paragraphe", "Cas", "Situation", "Tableau", "ASavoir", "Avertissement", "ServiceEnLigne",
            "FragmentConditionne", "Branche", "Choix", "LienExterneCommente", "Definition"} <= measured
    assert sum(words for _, words in totals.values()) > 3_000_000
