"""Several DILA archives -> one corpus: merging sites, the theme tree, resources, digests, errors."""

from __future__ import annotations

import zipfile
from functools import cache
from pathlib import Path

import pytest

from allo.kb.importers.dila import DilaFormatError, read_corpus, safexml

REAL = Path(__file__).resolve().parents[4] / "shared" / "kb" / "service-public-real"
SAMPLES = Path(__file__).parent / "samples"
needs_real = pytest.mark.skipif(not (REAL / "part.zip").exists(),
                                reason=f"the real DILA archives are not at {REAL} (the project's ../shared)")


@cache
def real(name: str, site: str) -> bytes:
    with zipfile.ZipFile(REAL / f"{site}.zip") as archive:
        return archive.read(name)


def cut(tmp_path: Path, site: str, names: list[str], extra: dict[str, bytes] | None = None) -> Path:
    """A small archive of real files (same bytes), as DILA names them."""
    path = tmp_path / f"{site}.zip"
    with zipfile.ZipFile(path, "w") as out:
        for name in names:
            out.writestr(f"{name}.xml", real(f"{name}.xml", site))
        for name, data in (extra or {}).items():
            out.writestr(name, data)
    return path


@needs_real
def test_a_fiche_on_both_sites_is_one_fiche_with_both_audiences_whatever_the_order(tmp_path):
    part = cut(tmp_path, "part", ["F10403", "N449", "menu"])
    pro = cut(tmp_path, "pro", ["F10403", "N22781", "menu"])
    one, other = read_corpus([pro, part]), read_corpus([part, pro])
    fiche = one.fiches["F10403"]
    assert fiche == other.fiches["F10403"]
    assert fiche["audiences"] == ["particulier", "professionnel"]
    assert [p["audience"] for p in fiche["paths"]] == ["particulier", "professionnel"]
    assert fiche["paths"][0]["crumbs"][0] == ["N19806", "Travail - Formation"]
    assert [a.site for a in one.archives] == ["particulier", "professionnel"]
    assert one.archives[0].date == "2024-03-06"


@needs_real
def test_unchanged_fiches_are_not_parsed_again_and_a_changed_one_is(tmp_path):
    part = cut(tmp_path, "part", ["F1", "F2", "N19785", "menu"])
    first = read_corpus([part])
    assert set(first.fiches) == {"F1", "F2"} and not first.unchanged
    again = read_corpus([part], known=first.digests)
    assert not again.fiches and again.unchanged == {"F1", "F2"}
    assert again.tree.placements == first.tree.placements  # the tree is read every time
    changed = real("F2.xml", "part").replace(b"Pension alimentaire", b"Pension alimentaire (modifi\xc3\xa9e)", 1)
    edited = cut(tmp_path / "..", "part", ["F1", "N19785", "menu"], {"F2.xml": changed})
    third = read_corpus([edited], known=first.digests)
    assert set(third.fiches) == {"F2"} and third.unchanged == {"F1"}
    assert third.digests["F2"] != first.digests["F2"]


@needs_real
def test_the_theme_tree_keeps_dila_order_with_subdossiers_and_questions_after_fiches(tmp_path):
    corpus = read_corpus([cut(tmp_path, "part", ["F1", "N19785", "N19803", "menu"])])
    nodes = corpus.tree.nodes
    assert nodes["N19785"]["kind"] == "dossier" and nodes["N19785"]["parent"] == "N20073"
    assert nodes["N20073"] == {**nodes["N20073"], "kind": "sous-theme", "parent": "N19803"}
    subs = sorted((n for n in nodes.values() if n["parent"] == "N19785"), key=lambda n: n["position"])
    assert [n["title"] for n in subs[:2]] == ["Aides fiscales liées à la famille",
                                              "Aides fiscales liées aux dons, cotisations et souscriptions"]
    placed = {fiche: (node, pos) for (node, fiche), pos in corpus.tree.placements.items()}
    assert placed["F1"] == ("N19785-2", 2)  # third of its sous-dossier, as on service-public.fr
    assert any(node == "N19785" and pos >= 10_000 for node, pos in placed.values())  # the dossier's Q/R


@needs_real
def test_resources_give_forms_their_cerfa_and_notices_and_index_files_are_read(tmp_path):
    part = cut(tmp_path, "part", ["F1", "N19785", "R10103", "menu", "redirections", "centresDeContact", "accueil"])
    corpus = read_corpus([part])
    form = corpus.resources["R10103"]
    assert (form["kind"], form["cerfa"]) == ("formulaire", "13974*02")
    assert form["url"].startswith("https://www.formulaires.service-public.fr/")
    assert corpus.resources["R49205"]["kind"] == "contact"  # from centresDeContact.xml
    assert {"old": "F10467", "new": "F10483", "kind": "Fiche d'information conditionnée",
            "date": "2022-05-16"} in corpus.redirects
    most_read = corpus.lists["particulier"]["accueil"]["fichesPratiques"]
    assert most_read[0]["id"].startswith("F") and most_read[0]["title"]


def test_an_archive_is_all_or_nothing_and_names_every_bad_file(tmp_path):
    path = tmp_path / "part.zip"
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("F1001.xml", (SAMPLES / "F1001.xml").read_bytes())
        out.writestr("F1003.xml", (SAMPLES / "bad_F1003.xml").read_bytes())
        out.writestr("F1005.xml", b"<Publication ID='F1005'/>")
    with pytest.raises(DilaFormatError) as err:
        read_corpus([path])
    message = str(err.value)
    assert message.startswith("2 fichiers invalides, rien n'a été importé :")
    assert "F1003.xml, ligne 6" in message and "F1005.xml, ligne 1 : élément <dc:title> manquant" in message
    assert len(err.value.errors) == 2


def test_missing_paths_other_files_and_empty_archives_get_a_clear_message(tmp_path):
    with pytest.raises(DilaFormatError, match="introuvable"):
        read_corpus([tmp_path / "absent.zip"])
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DilaFormatError, match="ni dossier, ni archive .zip lisible"):
        read_corpus([tmp_path / "notes.txt"])
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as out:
        out.writestr("N1100.xml", (SAMPLES / "N1100.xml").read_bytes())
    with pytest.raises(DilaFormatError, match="aucune fiche F\\*.xml trouvée"):
        read_corpus([empty])


def test_an_oversized_member_is_refused_whatever_its_header_says(tmp_path, monkeypatch):
    monkeypatch.setattr(safexml, "MAX_FILE_BYTES", 100)
    from allo.kb.importers.dila import archives

    monkeypatch.setattr(archives, "MAX_FILE_BYTES", 100)
    path = tmp_path / "part.zip"
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("F1001.xml", (SAMPLES / "F1001.xml").read_bytes())
    with pytest.raises(DilaFormatError, match="trop volumineux"):
        read_corpus([path])


def test_an_archive_that_inflates_far_beyond_dilas_is_refused_before_it_is_read(tmp_path):
    # 120 members of 5 MB each in a 3 MB zip: 600 MB once inflated (DILA's part.zip: 81 MB)
    bomb = tmp_path / "part.zip"
    data = b"<x>" + b" " * (5 * 2**20) + b"</x>"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for i in range(120):
            out.writestr(f"F{1000 + i}.xml", data)
    with pytest.raises(DilaFormatError, match="part.zip : archive refusée, plus de 512 Mo une fois décompressée"):
        read_corpus([bomb])


def test_an_archive_of_too_many_members_is_refused(tmp_path, monkeypatch):
    from allo.kb.importers.dila import archives

    monkeypatch.setattr(archives, "MAX_MEMBERS", 3)
    path = tmp_path / "part.zip"
    with zipfile.ZipFile(path, "w") as out:
        for i in range(4):
            out.writestr(f"F{1000 + i}.xml", b"<x/>")
    with pytest.raises(DilaFormatError, match="archive refusée, plus de 3 fichiers"):
        read_corpus([path])


def test_the_bytes_actually_read_count_against_the_archive_limit_whatever_the_headers_say(tmp_path, monkeypatch):
    from allo.kb.importers.dila import archives

    monkeypatch.setattr(archives, "_check_limits", lambda *args: None)  # as if the headers lied
    monkeypatch.setattr(archives, "MAX_ARCHIVE_BYTES", 2 * len((SAMPLES / "F1001.xml").read_bytes()))
    path = tmp_path / "part.zip"
    with zipfile.ZipFile(path, "w") as out:
        for name in ("F1001", "F1002", "F1004"):
            out.writestr(f"{name}.xml", (SAMPLES / "F1001.xml").read_bytes())
    with pytest.raises(DilaFormatError, match="archive refusée"):
        read_corpus([path])


def test_a_folder_of_files_is_an_archive_too():
    corpus = read_corpus([SAMPLES])  # bad_F1003.xml is not named like a DILA file: ignored
    assert set(corpus.fiches) == {"F1001", "F1002", "F1004"}
    assert ("N1100-A", "F1004") in corpus.tree.placements


@needs_real
def test_sous_themes_come_in_their_theme_page_order_even_when_a_dossier_page_names_them_first(tmp_path):
    # N19785 (a dossier) names its sous-thème N20073 before N19803 (the theme page) lists them all.
    corpus = read_corpus([cut(tmp_path, "part", ["F1", "N19785", "N19803"])])
    subs = sorted((n for n in corpus.tree.nodes.values() if n["parent"] == "N19803"), key=lambda n: n["position"])
    assert [n["title"] for n in subs] == ["Assurance", "Banque", "Consommation", "Crédit et surendettement",
                                          "Épargne", "Impôts, taxes et douane"]
