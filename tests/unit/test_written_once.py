"""The project's vocabulary is written once (issue 14): section order, Markdown to text, the
organisation's hours, French public holidays, the telephony API's phone-number pattern. Each is
defined in one module the others use; these tests pin that and what the shared pieces do."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

from allo.kb.search.document import SECTION_ORDER, doc_from_mapping
from allo.kb.sections import SECTIONS
from allo.kb.text import markdown_to_text
from allo.routing.hours import OpeningHours, french_holidays, next_holidays

PACKAGE = Path(__file__).resolve().parents[2] / "allo"


def _sources():
    for path in PACKAGE.rglob("*.py"):
        if "migrations" not in path.parts:
            yield path, path.read_text(encoding="utf-8")


def test_the_search_reads_sections_in_the_order_the_fiche_shows_them():
    assert SECTION_ORDER == tuple(SECTIONS)
    doc = doc_from_mapping({"id": "x", "title": "T", "sections": {"recours": "Dernier", "conditions": "Premier"}})
    assert doc.body.index("Premier") < doc.body.index("Dernier")


def test_markdown_to_text_drops_markup_and_tags_but_not_a_sentences_signs():
    text = "## Titre\n**Gras** <strong>fort</strong>\n1. un\n- deux\n| --- | --- |\nsi a < b > c"
    assert markdown_to_text(text) == "Titre\nGras  fort \nun\ndeux\n\nsi a < b > c"
    from allo.kb.content import word_count

    assert word_count("**Un** <em>deux</em> trois") == 3


def test_public_holidays_come_from_one_calendar():
    assert next_holidays(dt.date(2026, 12, 1), 2) == [(dt.date(2026, 12, 25), "Noël"),
                                                      (dt.date(2027, 1, 1), "Jour de l'an")]
    # Alsace-Moselle keeps Saint Stephen's Day
    assert (dt.date(2026, 12, 26), "Saint-Étienne") in next_holidays(dt.date(2026, 12, 1), 3, "57")
    assert dt.date(2027, 5, 6) in french_holidays(2027)  # Ascension
    importing = sorted(str(path.relative_to(PACKAGE)) for path, text in _sources()
                       if re.search(r"^\s*(import holidays|from holidays )", text, re.MULTILINE))
    assert importing == ["routing/hours.py"]


def test_weekly_hours_read_back_as_written():
    hours = OpeningHours.from_dict({"mon": [["13:30", "17:30"], ["09:00", "12:30"]], "sat": [["09:00", "12:00"]]})
    assert hours.weekly_dict() == {"mon": [["09:00", "12:30"], ["13:30", "17:30"]], "sat": [["09:00", "12:00"]]}
    assert OpeningHours.from_dict(hours.weekly_dict()).weekly == hours.weekly


def test_the_phone_number_pattern_is_written_once():
    from allo.contact_centre.telephony import schemas
    from allo.contact_centre.telephony.openapi import SCHEMA

    fields = SCHEMA["components"]["schemas"]["NouvelAppel"]["properties"]
    assert fields["caller"]["pattern"] == fields["dialed"]["pattern"] == schemas.PHONE_PATTERN
    literal = re.escape(r"[0-9]{2,15}")
    holders = sorted(str(path.relative_to(PACKAGE)) for path, text in _sources() if re.search(literal, text))
    assert holders == ["contact_centre/telephony/schemas.py"]


def _calls(tree: ast.AST, names: set[str]):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in names:
                yield name, node.lineno


def test_no_import_is_guarded_inside_the_package():
    """Every module of the package is there: a capability needing another gets it from the composition
    root (allo.bootstrap) or imports it plainly, never behind `except ImportError`."""
    guarded = []
    for path, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
                if any(isinstance(c, ast.Name) and c.id in {"ImportError", "ModuleNotFoundError"} for c in caught):
                    guarded.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert guarded == []


def test_the_process_services_are_built_and_installed_by_the_composition_root_only():
    """The router, the notifier, the analytics batcher, the portal's wait provider and the search
    indexes of a process are made in allo/bootstrap.py; a module elsewhere that built or installed one
    would be a second root. The one exception is the search indexes' default, searched by a process
    that never ran bootstrap() (a management command, a test without the router's fixture)."""
    names = {"Router", "Notifier", "Batcher", "SearchIndexes", "install", "register_wait_provider"}
    builders = sorted({(str(path.relative_to(PACKAGE)), name) for path, text in _sources()
                       for name, _ in _calls(ast.parse(text), names)})
    assert builders == [("bootstrap.py", name) for name in sorted(names)] + [("kb/search_service.py", "SearchIndexes")]


def test_the_search_index_state_lives_in_its_object_not_in_the_module():
    """allo/kb/search_service.py keeps no index, lock or dictionary at module level: its state is a
    SearchIndexes' (the installed one, or the default); the rest are constants."""
    tree = ast.parse((PACKAGE / "kb" / "search_service.py").read_text(encoding="utf-8"))
    held = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                held[target.id] = node.value
    state = {name: ast.unparse(value) for name, value in held.items() if not isinstance(value, ast.Constant)}
    assert state == {"logger": "logging.getLogger(__name__)", "_default": "SearchIndexes()"}
