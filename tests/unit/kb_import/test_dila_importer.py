"""The service-public.fr (DILA) XML importer: project-written samples plus the two real fiches.

Run with `pytest -p no:django tests/unit/kb_import`: the parser is pure Python.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from allo.kb.importers import dila_legacy as dila
from allo.kb.importers.dila_legacy import DilaFormatError, parse_archive, parse_fiche, parse_node

SAMPLES = Path(__file__).parent / "samples"
REAL = Path(__file__).resolve().parents[4] / "shared" / "kb" / "service-public-samples"
needs_real = pytest.mark.skipif(
    not (REAL / "F862.xml").exists(),
    reason=f"real DILA fiches not available ({REAL} is only present in the project's shared workspace)",
)

SECTION_KEYS = set(dila.SECTION_ORDER)
TAG = re.compile(r"</?[A-Za-z][\w:.-]*(\s[^>]*)?/?>")


def all_text(fiche: dict) -> str:
    parts = [fiche["title"], fiche["short_answer"], fiche["subtheme"], *fiche["keywords"], *fiche["sections"].values()]
    parts += [r["title"] for r in fiche["references"]]
    return "\n".join(parts)


def labels(text: str) -> list[str]:
    return re.findall(r"^\*\*((?:Situation|Cas) : [^*]+)\*\*$", text, flags=re.M)


def assert_well_formed(fiche: dict) -> None:
    assert set(fiche["sections"]) <= SECTION_KEYS
    assert fiche["theme"] in dila.THEMES
    assert fiche["audience"] in {"particulier", "professionnel", "association"}
    assert len(fiche["short_answer"].split()) <= 120
    assert not TAG.search(all_text(fiche)), TAG.search(all_text(fiche))
    for ref in fiche["references"]:
        assert ref["title"] and ref["url"].startswith("http")


# -- simple fiche ----------------------------------------------------------------------------------


def test_simple_fiche_header_fields():
    fiche = parse_fiche(SAMPLES / "F1001.xml")
    assert_well_formed(fiche)
    assert fiche["id"] == "F1001"
    assert fiche["title"] == "Carte de bibliothèque municipale"
    assert fiche["audience"] == "particulier"
    assert (fiche["theme"], fiche["subtheme"]) == ("loisirs-sports-culture", "Bibliothèques")
    assert fiche["short_answer"].startswith("La carte de bibliothèque permet")
    assert "**" not in fiche["short_answer"]  # read aloud: plain text
    assert {"médiathèque", "emprunt de livres"} <= set(fiche["keywords"])
    assert fiche["review_by"] == "2027-03-15"
    assert fiche["level2"] == "" and fiche["phrasings"] == []


def test_simple_fiche_chapters_go_to_our_sections():
    sections = parse_fiche(SAMPLES / "F1001.xml")["sections"]
    assert list(sections) == [k for k in dila.SECTION_ORDER if k in sections]  # display order
    assert sections["conditions"] == "Toute personne **résidant** dans la commune."
    assert "- (1) Remplir le formulaire\n- (2) Signer le règlement\n  - sur place" in sections["demarche"]
    assert "**À noter :** La carte est délivrée immédiatement." in sections["demarche"]
    # Sub-chapters named after one of our aspects leave their chapter for that section.
    assert sections["pieces"] == "- Justificatif de domicile"
    assert "- Adulte — Prix annuel : 15 €\n- Moins de 18 ans — Prix annuel : Gratuit" in sections["cout"]
    # Chapters matching no aspect are kept, titled, in `other`.
    assert sections["other"].startswith("### De quoi s'agit-il ?\n\nLa carte est valable")
    assert sections["ou-s-adresser"] == "- Bibliothèque municipale"
    assert "Inscription en ligne à la bibliothèque (Téléservice) : https://www.example.gouv.fr/" in (
        sections["service-en-ligne"])


def test_simple_fiche_references_are_deduplicated():
    refs = parse_fiche(SAMPLES / "F1001.xml")["references"]
    urls = [r["url"] for r in refs]
    assert urls[0] == "https://www.service-public.gouv.fr/particuliers/vosdroits/F1001"
    assert len(urls) == len(set(urls))
    assert {"title": "Code du patrimoine : article L310-1",
            "url": "https://www.legifrance.gouv.fr/codes/id/LEGITEST0001"} in refs
    assert "https://www.example.gouv.fr/inscription-bibliotheque" in urls


def test_bytes_input_and_audience_mapping():
    data = (SAMPLES / "F1001.xml").read_bytes().replace(b"<Audience>Particuliers", b"<Audience>Professionnels")
    fiche = parse_fiche(data, "F1001.xml")
    assert fiche["audience"] == "professionnel"
    assert fiche["source"]["file"] == "F1001.xml"


@pytest.mark.parametrize(("label", "slug"), [
    ("Papiers - Citoyenneté - Élections", "papiers-citoyennete"),
    ("Famille - Scolarité", "famille-scolarite"),
    ("Social - Santé", "social-sante"),
    ("Travail - Formation", "travail-formation"),
    ("Logement", "logement"),
    ("Transports - Mobilité", "transports-mobilite"),
    ("Argent - Impôts - Consommation", "argent-impots-consommation"),
    ("Justice", "justice"),
    ("Étranger - Europe", "etranger-europe"),
    ("Loisirs - Sports - Culture", "loisirs-sports-culture"),
    ("Associations", "associations"),
    ("Création d'entreprise", None),
])
def test_theme_labels_map_to_our_themes(label, slug):
    assert dila.map_theme(label) == slug


def test_unknown_theme_falls_back_and_keeps_the_label():
    data = (SAMPLES / "F1001.xml").read_bytes()
    data = data.replace(b"Loisirs - Sports - Culture", b"Cr\xc3\xa9ation d'entreprise")
    fiche = parse_fiche(data, "F1001.xml")
    assert fiche["theme"] == "papiers-citoyennete"
    assert fiche["subtheme"] == "Création d'entreprise"


@pytest.mark.parametrize(("title", "key"), [
    ("Comment faire la demande ?", "demarche"),
    ("Qui peut en bénéficier ?", "conditions"),
    ("Pièces à fournir", "pieces"),
    ("Combien ça coûte ?", "cout"),
    ("Montant de l'aide", "montant"),
    ("Délai de fabrication", "delai"),
    ("Délai de recours", "recours"),
    ("Durée de validité", "duree-validite"),
    ("Où s'adresser ?", "ou-s-adresser"),
    ("Démarche en ligne", "service-en-ligne"),
    ("De quoi s'agit-il ?", None),
    ("Révision tarifaire", None),
])
def test_chapter_titles_map_to_section_keys(title, key):
    assert dila.section_key(title) == key


def test_long_introduction_is_cut_at_a_sentence_and_kept_in_full():
    sentence = "Cette phrase compte exactement dix mots pour ce petit test. "
    data = (SAMPLES / "F1001.xml").read_bytes().replace(
        b"La carte de biblioth\xc3\xa8que permet", (sentence * 15).encode() + b"La carte de biblioth\xc3\xa8que permet")
    fiche = parse_fiche(data, "F1001.xml")
    assert fiche["short_answer"] == (sentence * 12).strip()
    assert fiche["sections"]["other"].startswith("### Introduction\n\n" + sentence.strip())


# -- conditional content -----------------------------------------------------------------------------


def test_situations_and_nested_cases_are_labelled_in_order():
    fiche = parse_fiche(SAMPLES / "F1002.xml")
    assert_well_formed(fiche)
    other = fiche["sections"]["other"]
    assert labels(other) == [
        "Situation : Vous êtes locataire",
        "Cas : Vous avez moins de 25 ans",
        "Cas : Vous avez moins de 25 ans › Vous êtes étudiant",
        "Cas : Vous avez moins de 25 ans › Vous êtes salarié",
        "Cas : Vous avez moins de 25 ans (suite)",
        "Cas : Vous avez 25 ans ou plus",
        "Situation : Vous êtes propriétaire",
    ]
    # Each case's text sits right under its own label.
    assert "**Cas : Vous avez moins de 25 ans › Vous êtes étudiant**\n\nMajoration de 50 €." in other
    assert "**Cas : Vous avez moins de 25 ans (suite)**\n\nVersement en une fois." in other
    # Text after a BlocCas applies to every case, and says so.
    assert "**Dans tous les cas :**\n\nLa demande se fait dans les 6 mois." in other


def test_chapters_inside_a_situation_keep_its_label():
    sections = parse_fiche(SAMPLES / "F1002.xml")["sections"]
    assert sections["demarche"] == "**Situation : Vous êtes locataire**\n\nEnvoyez le formulaire à la caisse."
    assert sections["recours"] == "**Situation : Vous êtes propriétaire**\n\nVous pouvez contester la décision."


def test_boilerplate_sentence_is_not_read_aloud():
    assert parse_fiche(SAMPLES / "F1002.xml")["short_answer"] == "Une aide peut être versée lors d'un déménagement."


# -- errors -----------------------------------------------------------------------------------------


def test_malformed_file_names_file_element_and_line():
    with pytest.raises(DilaFormatError) as err:
        parse_fiche(SAMPLES / "bad_F1003.xml", "F1003.xml")
    message = str(err.value)
    assert message.startswith("F1003.xml, ligne 6")
    assert "XML mal formé dans l'élément <Paragraphe>" in message
    assert (err.value.filename, err.value.element, err.value.line) == ("F1003.xml", "Paragraphe", 6)


@pytest.mark.parametrize(("xml", "expected"), [
    (b"<Fiche/>", "F9.xml, ligne 1 : élément <Publication> manquant (racine trouvée : <Fiche>)"),
    (b"", "F9.xml, ligne 1, colonne 1 : XML mal formé (fichier vide ou tronqué)"),
    (b'<Publication ID="F9"/>', "F9.xml, ligne 1 : élément <dc:title> manquant dans <Publication>"),
    (b'<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F8"><dc:title>T</dc:title></Publication>',
     "F9.xml, ligne 1 : identifiant F8 différent du nom de fichier"),
    (b'<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F9"><dc:title>T</dc:title>\n'
     b"<ListeSituations>\n<Situation><Texte/></Situation></ListeSituations></Publication>",
     "F9.xml, ligne 3 : élément <Titre> manquant dans <Situation>"),
])
def test_invalid_files_get_a_clear_french_message(xml, expected):
    with pytest.raises(DilaFormatError) as err:
        parse_fiche(xml, "F9.xml")
    assert str(err.value) == expected


def test_entity_expansion_is_refused():
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i else b"&lol;") * 10)
                       for i in range(1, 10))
            + b']>\n<Publication ID="F9"><dc:title>&lol9;</dc:title></Publication>')
    with pytest.raises(DilaFormatError, match="DOCTYPE"):
        parse_fiche(bomb, "F9.xml")


def test_external_entity_is_refused():
    xxe = b'<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Publication ID="F9">&x;</Publication>'
    with pytest.raises(DilaFormatError, match="DOCTYPE"):
        parse_fiche(xxe, "F9.xml")


def test_table_cells_with_several_paragraphs_stay_on_their_row():
    data = (SAMPLES / "F1001.xml").read_bytes().replace(
        b"<Paragraphe>Gratuit</Paragraphe>",
        b"<Paragraphe>Gratuit</Paragraphe><Liste type='puce'><Item><Paragraphe>sur justificatif</Paragraphe>"
        b"</Item></Liste>")
    cout = parse_fiche(data, "F1001.xml")["sections"]["cout"]
    assert "- Moins de 18 ans — Prix annuel : Gratuit ; sur justificatif" in cout


def test_parser_does_not_need_django():
    code = "import sys, allo.kb.importers.dila_legacy; sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3]).returncode == 0


# -- N* files and archives ---------------------------------------------------------------------------


def test_node_file_is_navigation_info():
    node = parse_node(SAMPLES / "N1100.xml")
    assert node == {"id": "N1100", "type": "Dossier", "title": "Démarches en mairie",
                    "theme": "Papiers - Citoyenneté - Élections", "subtheme": "Mairie", "children": ["F1004"]}


def test_folder_archive_uses_nodes_for_themes_and_skips_them_as_fiches():
    fiches = parse_archive(SAMPLES)
    assert [f["id"] for f in fiches] == ["F1001", "F1002", "F1004"]  # no N1100, no bad_F1003.xml
    orphan = fiches[-1]
    assert (orphan["theme"], orphan["subtheme"], orphan["audience"]) == (
        "papiers-citoyennete", "Démarches en mairie", "association")
    # No introduction: the short answer comes from the body.
    assert orphan["short_answer"] == "Demandez-la à l'accueil de la mairie."
    for fiche in fiches:
        assert_well_formed(fiche)


def _zip(tmp_path: Path, names: dict[str, bytes]) -> Path:
    path = tmp_path / "vosdroits-latest.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in names.items():
            archive.writestr(name, data)
    return path


def test_zip_archive(tmp_path):
    members = {f"vosdroits/{p.name}": p.read_bytes() for p in SAMPLES.glob("[FN]*.xml")}
    members["vosdroits/R1234.xml"] = b"not a fiche, ignored"
    members["vosdroits/menu.xml"] = b"<Menu/>"
    fiches = parse_archive(_zip(tmp_path, members))
    assert sorted(f["id"] for f in fiches) == ["F1001", "F1002", "F1004"]
    assert parse_archive(_zip(tmp_path, members)) == fiches  # stable order


def test_archive_is_all_or_nothing_and_lists_every_bad_file(tmp_path):
    for sample in SAMPLES.glob("[FN]*.xml"):
        shutil.copy(sample, tmp_path / sample.name)
    shutil.copy(SAMPLES / "bad_F1003.xml", tmp_path / "F1003.xml")
    (tmp_path / "F1005.xml").write_bytes(b"<Publication ID='F1005'/>")
    with pytest.raises(DilaFormatError) as err:
        parse_archive(tmp_path)
    message = str(err.value)
    assert message.startswith("2 fichiers invalides, rien n'a été importé :")
    assert "F1003.xml, ligne 6" in message and "F1005.xml, ligne 1 : élément <dc:title> manquant" in message
    assert len(err.value.errors) == 2


def test_archive_rejects_duplicate_ids_empty_archives_and_other_files(tmp_path):
    data = (SAMPLES / "F1001.xml").read_bytes()
    with pytest.raises(DilaFormatError, match="identifiant F1001 déjà présent dans a/F1001.xml"):
        parse_archive(_zip(tmp_path, {"a/F1001.xml": data, "b/F1001.xml": data}))
    with pytest.raises(DilaFormatError, match="aucune fiche F\\*.xml trouvée"):
        parse_archive(_zip(tmp_path, {"N1100.xml": (SAMPLES / "N1100.xml").read_bytes()}))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DilaFormatError, match="ni dossier, ni archive .zip"):
        parse_archive(tmp_path / "notes.txt")


def test_oversized_member_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(dila, "MAX_FILE_BYTES", 100)
    with pytest.raises(DilaFormatError, match="trop volumineux"):
        parse_archive(_zip(tmp_path, {"F1001.xml": (SAMPLES / "F1001.xml").read_bytes()}))


# -- the two real fiches -----------------------------------------------------------------------------


@needs_real
def test_real_f862_question_reponse():
    fiche = parse_fiche(REAL / "F862.xml")
    assert_well_formed(fiche)
    assert fiche["id"] == "F862"
    assert fiche["title"] == "Quel est le délai de prescription en matière d'assurance habitation ?"
    assert fiche["audience"] == "particulier"
    assert (fiche["theme"], fiche["subtheme"]) == ("argent-impots-consommation", "Assurance habitation")
    assert fiche["short_answer"].startswith("Le délai de prescription correspond au temps")
    sections = fiche["sections"]
    assert "le délai de prescription est de **2 ans**" in sections["delai"]
    assert "**À savoir :** Ces règles s’appliquent" in sections["delai"]
    assert "1er juin 2025" in sections["delai"]  # Exposant kept as text
    assert "- Date du sinistre (accident, vol, vandalisme…)," in sections["delai"]
    assert "Info Banque - Assurance" in sections["ou-s-adresser"]
    assert "Saisir son assureur après refus d'indemnisation" in sections["service-en-ligne"]
    urls = {r["url"] for r in fiche["references"]}
    assert {"https://www.service-public.gouv.fr/particuliers/vosdroits/F862",
            "https://www.legifrance.gouv.fr/codes/id/LEGISCTA000006157215",
            "https://www.inc-conso.fr/content/lassurance-multirisques-habitation"} <= urls


@needs_real
def test_real_f2594_situations_and_nested_cases():
    fiche = parse_fiche(REAL / "F2594.xml")
    assert_well_formed(fiche)
    assert (fiche["id"], fiche["title"], fiche["audience"]) == (
        "F2594", "Modification du contrat d'assurance habitation", "particulier")
    other = fiche["sections"]["other"]
    maintien = "Cas : Maintien du contrat avec augmentation de la cotisation"
    assert labels(other) == [
        "Situation : À votre initiative",
        "Cas : L'assureur accepte la modification",
        "Cas : L'assureur refuse la modification",
        "Situation : Par l'assureur",
        "Cas : Résiliation du contrat",
        maintien,
        f"{maintien} › Vous acceptez la proposition de l'assureur",
        f"{maintien} › Vous refusez la proposition de l'assureur",
        "Cas : Maintien du contrat sans majoration de cotisation",
        "Situation : Par la loi ou le contrat",
    ]
    assert "**Dans tous les cas :**\n\n**À savoir :** Sans réponse de l'assureur" in other
    assert "Quelle que soit la situation" not in other  # the glossary after it belongs to no situation
    assert "### Aggravation du risque" in other and "**Nouvelle obligation légale**" in other
    # Links read as their text; glossary entries spelled out for the operator.
    assert "par lettre RAR ou par envoi" in other and "10 jours calendaires pour vous répondre" in other
    assert "- **Avenant** : Document complémentaire du contrat" in other
    assert {"RAR", "Avenant"} <= set(fiche["keywords"])
    services = fiche["sections"]["service-en-ligne"].splitlines()
    assert len(services) == 2 and "Déclarer une modification de risque à son assureur" in services[1]
    assert len(fiche["references"]) == len({r["url"] for r in fiche["references"]}) == 7


@needs_real
def test_real_fiches_as_a_zip(tmp_path):
    path = _zip(tmp_path, {p.name: p.read_bytes() for p in REAL.glob("F*.xml")})
    assert [f["id"] for f in parse_archive(path)] == ["F2594", "F862"]
