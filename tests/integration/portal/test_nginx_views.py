"""The pages nginx served, counted from its views log (allo portal_nginx_views, docs/deploy.md):
each line once, across runs, a line nginx is still writing and a rotation by logrotate (the file
moved to .1 and a new one opened, as Debian's logrotate configuration for nginx does)."""

from __future__ import annotations

import json
import os

import pytest
from django.core.management import call_command
from django.db.models import Sum

from allo.kb.models import Fiche
from allo.portal.models import FicheViewDaily, SearchLog

pytestmark = pytest.mark.django_db


def _line(fiche_id: str | None = None, search: str | None = None, when: str = "2026-03-02T10:00:00+01:00") -> str:
    event = {"view": fiche_id} if fiche_id else {"search": {"q": search, "theme": "", "n": 3, "top": "",
                                                              "low": False}}
    return f"{when} {json.dumps(event, separators=(',', ':'))}\n"


def _views(fiche_id: str) -> int:
    return FicheViewDaily.objects.filter(fiche_id=fiche_id).aggregate(n=Sum("views"))["n"] or 0


def test_each_logged_view_and_search_is_counted_once_across_runs_and_a_rotation(demo, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    fiche = Fiche.objects.published().order_by("pk").values_list("pk", flat=True).first()
    log = tmp_path / "allo.views.log"
    log.write_text(_line(fiche) * 3 + _line(search="carte grise") + "not json at all\n"
                   + _line(fiche).rstrip("\n")[:30])  # the last line is still being written
    call_command("portal_nginx_views", str(log))
    assert _views(fiche) == 3
    assert SearchLog.objects.filter(query="carte grise").aggregate(n=Sum("searches"))["n"] == 1
    assert FicheViewDaily.objects.get(fiche_id=fiche).day.isoformat() == "2026-03-02"

    call_command("portal_nginx_views", str(log))  # nothing new: nothing counted again
    assert _views(fiche) == 3

    # the line finished, two more, then logrotate moves the file and nginx opens a new one
    with open(log, "a") as f:
        f.write(_line(fiche)[30:] + _line(fiche) * 2)
    os.rename(log, tmp_path / "allo.views.log.1")
    log.write_text(_line(fiche, when="2026-03-03T00:10:00+01:00"))
    call_command("portal_nginx_views", str(log))
    assert _views(fiche) == 3 + 3 + 1
    assert FicheViewDaily.objects.filter(fiche_id=fiche, day="2026-03-03").get().views == 1
