"""Import and export: the project's JSON round-trips; service-public.fr archives import all-or-nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from allo.kb.models import Fiche
from allo.kb.services import export_json, import_json

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "unit" / "kb_import" / "samples"


@pytest.mark.any_db
def test_demo_kb_is_loaded_once_and_json_round_trips_without_loss(demo, tmp_path):
    published = Fiche.objects.published().count()
    assert published >= 1 and Fiche.objects.filter(is_demo=True).count() == published
    first = export_json()
    versions = dict(Fiche.objects.values_list("id", "version"))
    call_command("init", "--demo", verbosity=0)  # unchanged content: no new version
    assert dict(Fiche.objects.values_list("id", "version")) == versions
    Fiche.objects.all().delete()
    path = tmp_path / "kb.json"
    path.write_text(first, encoding="utf-8")
    call_command("kb", "import", str(path))
    assert export_json() == first


def test_malformed_json_is_refused_with_a_clear_message(demo):
    from allo.kb.services import ImportFailed

    with pytest.raises(ImportFailed, match="JSON invalide, ligne 1"):
        import_json("{nope", "kb.json")
    payload = json.loads(export_json())
    payload["fiches"][0]["sections"] = {"inconnue": "x"}
    before = export_json()
    with pytest.raises(ImportFailed, match="rubrique\\(s\\) inconnue\\(s\\) : inconnue"):
        import_json(json.dumps(payload), "kb.json")
    assert export_json() == before  # all or nothing


def test_service_public_archive_imports_fiches_keeping_official_ids(demo, tmp_path):
    archive = tmp_path / "dila"
    archive.mkdir()
    for sample in SAMPLES.glob("F*.xml"):
        shutil.copy(sample, archive / sample.name)
    call_command("kb", "import", str(archive))
    imported = Fiche.objects.filter(source="service-public.fr")
    assert imported.exists()
    assert all(f.id.startswith("F") and f.status == "published" for f in imported)
    assert all("<" not in f.short_answer for f in imported)


def test_a_malformed_file_aborts_the_whole_import(demo, tmp_path):
    archive = tmp_path / "dila"
    archive.mkdir()
    for sample in SAMPLES.glob("*.xml"):
        name = sample.name.removeprefix("bad_")
        shutil.copy(sample, archive / name)
    before = Fiche.objects.count()
    with pytest.raises(CommandError) as excinfo:
        call_command("kb", "import", str(archive))
    assert "F1003.xml" in str(excinfo.value)
    assert Fiche.objects.count() == before


def test_missing_path_is_named(demo):
    with pytest.raises(CommandError, match="introuvable"):
        call_command("kb", "import", "/nonexistent/archive.zip")
