"""The official layer in the database: import, daily re-import, withdrawals, redirections, sync.

Real fiches cut from the shared archives (tests/integration/conftest.py: DILA_SAMPLE)."""

from __future__ import annotations

import functools
import http.server
import io
import threading
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from allo.kb.models import Fiche, FicheNotes, ImportRun, OfficialText, Placement, Redirect, Resource, Theme
from allo.kb.official import condition_labels, render_official
from allo.kb.official_import import import_archives, load_demo_archives

pytestmark = pytest.mark.django_db


def rewrite(archive: Path, name: str, change=None, drop: bool = False, add: dict[str, bytes] | None = None) -> None:
    """Rewrite one member of a zip in place (as a new day's archive would have it)."""
    with zipfile.ZipFile(archive) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    if drop:
        members.pop(name)
    elif change is not None:
        members[name] = change(members[name])
    members.update(add or {})
    with zipfile.ZipFile(archive, "w") as out:
        for member, data in members.items():
            out.writestr(member, data)


@pytest.mark.any_db
def test_both_archives_import_into_one_knowledge_base_with_dila_dates_and_tree(dila_sample):
    assert sorted(dila_sample.created) == ["F1", "F10027", "F10041", "F10403", "F1420", "F34300"]
    shared = Fiche.objects.get(pk="F10403")
    assert shared.collection == "service-public" and shared.status == "published" and shared.version == 1
    assert shared.audiences == ["particulier", "professionnel"] and shared.theme_id == "travail-formation"
    assert [p["audience"] for p in shared.paths] == ["particulier", "professionnel"]
    assert set(Placement.objects.filter(fiche=shared).values_list("node__dila_id", flat=True)) >= {"N449", "N22781"}
    f1 = Fiche.objects.get(pk="F1")
    assert (f1.dila_status, str(f1.modified_on), f1.theme_id) == ("a-venir", "2024-01-01", "argent-impots-consommation")
    assert f1.official.document["warnings"] and "cotisations syndicales" in f1.official.text
    assert f1.history.latest().history_change_reason == "Mise à jour DILA du 06/03/2024 (service-public.fr)"
    dossier = Theme.objects.get(dila_id="N19785")
    assert (dossier.kind, dossier.parent.dila_id, dossier.parent.parent.slug) == (
        "dossier", "N20073", "argent-impots-consommation")
    assert Redirect.objects.filter(old_id="F10467", new_id="F10483").exists()
    run = ImportRun.last_done()
    assert str(run.archive_date) == "2024-03-06" and run.counts["created"] == 6
    assert {s["site"] for s in run.sources} == {"particulier", "professionnel"}
    # What pages need from the database: the situations' labels (read from every fiche's JSON) and links.
    labels = condition_labels()
    assert labels["T11713"][0] == "Vous touchez le RSA"
    html = render_official(Fiche.objects.get(pk="F10027"))
    assert "Si</span> Vous touchez le RSA" in html and html.startswith("<div class=\"fr-alert")


@pytest.mark.any_db
def test_a_reimport_with_no_change_writes_nothing(dila_sample, dila_archives):
    fiches = list(Fiche.objects.official().order_by("pk").values_list("pk", "version", "updated_at"))
    history = Fiche.history.count()
    texts = list(OfficialText.objects.order_by("pk").values_list("pk", "imported_at"))
    placements = list(Placement.objects.order_by("pk").values_list("pk", "node", "fiche", "position"))
    summary, _ = import_archives(dila_archives)
    assert (summary.created, summary.updated, summary.unchanged, summary.placements_changed) == ([], [], 6, 0)
    assert not summary.changed
    assert list(Fiche.objects.official().order_by("pk").values_list("pk", "version", "updated_at")) == fiches
    assert Fiche.history.count() == history
    assert list(OfficialText.objects.order_by("pk").values_list("pk", "imported_at")) == texts
    assert list(Placement.objects.order_by("pk").values_list("pk", "node", "fiche", "position")) == placements


def test_a_newer_importer_reads_the_same_files_again_without_saying_dila_changed_them(dila_sample, dila_archives,
                                                                                      monkeypatch):
    from allo.kb.importers.dila import archives

    before = dict(Fiche.objects.official().values_list("pk", "version"))
    history = Fiche.history.count()
    parse = archives.parse_fiche

    def newer_reading(data, name, *args, **kwargs):  # a newer importer that titles F1 differently
        record = parse(data, name, *args, **kwargs)
        if record["id"] == "F1":
            record["title"] += " (relu)"
        return record

    monkeypatch.setattr(archives, "PARSER_VERSION", archives.PARSER_VERSION + 1)
    monkeypatch.setattr(archives, "parse_fiche", newer_reading)
    summary, _ = import_archives(dila_archives)
    assert (summary.created, summary.updated, sorted(summary.reread)) == ([], [], sorted(before))
    assert "6 relue(s) par un importeur plus récent" in str(summary)
    after = dict(Fiche.objects.official().values_list("pk", "version"))
    assert after == before | {"F1": before["F1"] + 1}  # only the fiche whose reading shows differently
    assert Fiche.history.count() == history + 1
    f1 = Fiche.objects.get(pk="F1")
    assert f1.title.endswith(" (relu)")
    assert f1.history.latest().history_change_reason.startswith("Nouvelle lecture du texte DILA par Allô")
    again, _ = import_archives(dila_archives)  # and read once only
    assert (again.updated, again.reread, again.unchanged) == ([], [], 6)


def test_a_changed_fiche_gets_a_new_version_and_allo_notes_survive(dila_sample, dila_archives):
    notes = FicheNotes.objects.create(fiche_id="F1", script="Dire que les formulaires arrivent en avril.")
    part, pro = dila_archives
    rewrite(part, "F1.xml", lambda data: data.replace(b"statut=\"miseAJourAVenir\"", b"").replace(
        b"Cette page est \xc3\xa0 jour", b"Cette page est d\xc3\xa9sormais \xc3\xa0 jour"))
    summary, _ = import_archives([part, pro])
    assert summary.updated == ["F1"] and summary.unchanged == 5
    f1 = Fiche.objects.get(pk="F1")
    assert (f1.version, f1.dila_status) == (2, "")
    assert "désormais à jour" in f1.official.text
    assert FicheNotes.objects.get(pk=notes.pk).script == notes.script  # Allô's layer untouched


@pytest.mark.any_db
def test_a_withdrawn_fiche_is_archived_its_notes_follow_the_redirection_and_it_can_come_back(dila_sample, dila_archives):
    FicheNotes.objects.create(fiche_id="F1420", script="Rappeler que le bulletin n°3 est gratuit.",
                              synonyms=["casier"])
    part, pro = dila_archives
    redirections = (b'<Redirections><Redirection from="F1420" to="F10041" date="2026-11-30" '
                    b'type="Fiche d\'information conditionn\xc3\xa9e" audience="Particuliers"/></Redirections>')
    original = zipfile.ZipFile(part).read("F1420.xml")
    rewrite(part, "F1420.xml", drop=True)
    rewrite(part, "redirections.xml", lambda data: redirections)
    summary, _ = import_archives([part, pro])
    assert summary.withdrawn == ["F1420"]
    gone = Fiche.objects.get(pk="F1420")
    assert (gone.status, gone.dila_status) == ("archived", "retiree")
    assert "Retirée de service-public.fr" in gone.history.latest().history_change_reason
    assert FicheNotes.objects.get(fiche_id="F10041").synonyms == ["casier"]
    assert not FicheNotes.objects.filter(fiche_id="F1420").exists()
    rewrite(part, "F1420.xml", add={"F1420.xml": original})
    back, _ = import_archives([part, pro])
    assert back.restored == ["F1420"]
    assert Fiche.objects.get(pk="F1420").status == "published"


def test_importing_one_site_alone_keeps_what_the_other_site_said(dila_sample, dila_archives):
    part, pro = dila_archives
    summary, _ = import_archives([pro])
    assert not summary.withdrawn  # Particuliers' fiches did not leave Particuliers
    shared = Fiche.objects.get(pk="F10403")
    assert shared.audiences == ["particulier", "professionnel"] and shared.theme_id == "travail-formation"
    assert Fiche.objects.official().filter(status="published").count() == 6
    assert Placement.objects.filter(fiche_id="F1", node__dila_id="N19785-2").exists()
    again, _ = import_archives([part, pro])  # back to both: the same fiche, nothing flipped
    assert Fiche.objects.get(pk="F10403").theme_id == "travail-formation"
    assert "F10403" not in again.updated or Fiche.objects.get(pk="F10403").audiences[0] == "particulier"


def test_a_bad_archive_changes_nothing_and_its_run_says_why(dila_sample, dila_archives):
    part, pro = dila_archives
    rewrite(part, "F1.xml", lambda data: data.replace(b"</Publication>", b""))
    before = list(Fiche.objects.order_by("pk").values_list("pk", "version"))
    with pytest.raises(CommandError, match="F1.xml, ligne 1, colonne .* XML mal formé"):
        call_command("kb", "import", str(part), str(pro))
    assert list(Fiche.objects.order_by("pk").values_list("pk", "version")) == before
    failed = ImportRun.objects.order_by("-pk").first()
    assert failed.status == "failed" and "F1.xml" in failed.message


def test_the_report_lists_every_element_kind_with_its_role_and_rendering(dila_sample, dila_archives):
    out = io.StringIO()
    call_command("kb", "import", *map(str, dila_archives), "--report", stdout=out)
    report = out.getvalue()
    assert "Import terminé : 0 fiche(s) créée(s), 0 mise(s) à jour, 6 inchangée(s)" in report
    lines = {line.split()[0]: line for line in report.splitlines()[2:] if line.startswith("  ")}
    assert "contenu" in lines["Avertissement"] and "alerte en tête de fiche" in lines["Avertissement"]
    assert "100.00 %" in lines["Paragraphe"] and "navigation" in lines["FilDAriane"]
    assert "logique" in lines["Condition"] and "INCONNU" not in report


@contextmanager
def serving(folder: Path):
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_sync_downloads_dila_archives_from_a_url_and_asks_again_conditionally(demo, dila_archives, tmp_path,
                                                                             settings):
    settings.DATA_DIR = tmp_path / "data"
    served = tmp_path / "www"
    for site in ("part", "pro"):
        (served / site / "zip").mkdir(parents=True)
    part, pro = dila_archives
    part.rename(served / "part" / "zip" / "vosdroits-latest.zip")
    pro.rename(served / "pro" / "zip" / "vosdroits-latest.zip")
    with serving(served) as base:
        urls = [f"{base}/part/zip/vosdroits-latest.zip", f"{base}/pro/zip/vosdroits-latest.zip"]
        out, err = io.StringIO(), io.StringIO()
        call_command("kb", "sync", *urls, stdout=out, stderr=err)
        assert "6 fiche(s) créée(s)" in out.getvalue() and "nouvelle archive" in err.getvalue()
        assert (settings.DATA_DIR / "dila" / "part-vosdroits-latest.zip").exists()
        err = io.StringIO()
        call_command("kb", "sync", *urls, stdout=io.StringIO(), stderr=err)
        assert err.getvalue().count("inchangée depuis la dernière fois") == 2
        with pytest.raises(CommandError, match="le serveur a répondu 404"):
            call_command("kb", "sync", f"{base}/absent.zip", stdout=io.StringIO(), stderr=io.StringIO())
    assert Fiche.objects.official().count() == 6


def test_sync_refuses_what_is_not_an_archive_and_keeps_the_last_good_copy(demo, tmp_path, settings):
    settings.DATA_DIR = tmp_path / "data"
    served = tmp_path / "www" / "part" / "zip"
    served.mkdir(parents=True)
    (served / "vosdroits-latest.zip").write_text("<html>maintenance</html>")
    with serving(tmp_path / "www") as base:
        with pytest.raises(CommandError, match="n'est pas une archive zip"):
            call_command("kb", "sync", f"{base}/part/zip/vosdroits-latest.zip", stdout=io.StringIO(),
                         stderr=io.StringIO())
    assert not list((settings.DATA_DIR / "dila").glob("*.zip")) and not Fiche.objects.official().exists()


def test_the_demo_imports_its_archives_once(demo, dila_archives, monkeypatch):
    monkeypatch.setenv("ALLO_DEMO_ARCHIVES", ",".join(map(str, dila_archives)))
    assert "6 fiche(s) créée(s)" in load_demo_archives()
    runs = ImportRun.objects.count()
    assert load_demo_archives().startswith("déjà importées le ")
    assert ImportRun.objects.count() == runs
    # a newer importer reads the same archives again (its fiches may differ): only what changed is applied
    from allo.kb import official_import

    monkeypatch.setattr(official_import, "PARSER_VERSION", official_import.PARSER_VERSION + 1)
    assert "0 fiche(s) créée(s)" in load_demo_archives()
    assert ImportRun.objects.count() == runs + 1


def test_resources_and_glossary_come_with_the_fiches(dila_sample):
    assert Resource.objects.filter(kind="contact").exists()
    definition = Resource.objects.filter(kind="definition").first()
    assert definition is not None and definition.description
