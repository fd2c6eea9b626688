"""DILA's text laid out by a page of ours: the portal's fiche page and the operator's fiche panel.

The pure renderer (allo/kb/importers/dila/render.py) turns a fiche's document into parts (warnings,
introduction, questionnaire, body, services...). Here:
- a `Space` says how a page links another fiche or a node of the theme tree (the portal's pages,
  or the desk's panel, which must never leave the desk) and at which heading level the parts start;
- the caller's situation is read from the request: the questionnaire's answers (`q<i>=<j>`, a plain
  GET form) or the situation a guided search carried over (`?vrai=T1,T2&faux=T3`); only the
  variables this fiche's conditions read are kept, so a made-up address cannot create new pages;
- the parts are rendered once per KB version, space and situation (F2229, 1.2 MB of document,
  takes about 0.5 s to load and render; then it is a cache read);
- a guided search is walked one question at a time (`?chemin=0.2.1`), each answer with its way
  back, and its leaf leads to its fiche with the situation in the address.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from allo.kb import official
from allo.kb.importers.dila.document import runs_text
from allo.kb.importers.dila.render import (
    Renderer,
    answers_from_choices,
    answers_from_query,
    guided_step,
    situation_query,
)
from allo.kb.models import Fiche, OfficialText, Resource
from allo.portal.catalogue import KB_VERSION_KEY, cached, tree

MAX_PATH = 30  # steps of a guided search read from an address (DILA's deepest, F34708, has 10)


@dataclass(frozen=True)
class Space:
    """Where the text is shown: how it links fiches and tree nodes, its heading level, its ids' prefix."""

    name: str
    fiche_url: Callable[[str], str]
    node_url: Callable[[str], str]
    level: int = 2
    prefix: str = "dila"

    def linker(self) -> Callable[[str, str], str | None]:
        """The renderer's link function: old ids follow DILA's redirections; a fiche or a node of ours
        stays in this space; a resource (form, online service) is its own address elsewhere."""
        known = official.targets()  # once per rendering: it checks the database for changes

        def link(target: str, kind: str = "") -> str | None:
            hops = 0
            while target in known.redirects and hops < 5:
                target, hops = known.redirects[target], hops + 1
            if target in known.fiches:
                return self.fiche_url(target)
            if target in known.nodes:
                return self.node_url(known.nodes[target])
            return known.resources.get(target)
        return link


def _portal_node_url(slug: str) -> str:
    # a sous-dossier's address answers with its dossier's page, at its heading (see views.theme)
    return reverse("portal-theme", args=[slug])


PORTAL = Space("portal", official.public_fiche_url, _portal_node_url)


# -- what a request needs of a document, without loading it ------------------------------------------


@dataclass(frozen=True)
class Shape:
    questions: list  # the questionnaire's questions, as parsed
    guided: dict  # {"intro": runs, "items": branches}: a guided search's tree, or {}
    variables: frozenset[str]  # the situation variables the text's conditions read
    glossary: list = field(default_factory=list)


class Source:
    """A fiche's document, read from the database at most once per request, and only when a cached
    part is missing (F2229's is 1.2 MB of JSON: decoding it is most of a cold render)."""

    def __init__(self, fiche_id: str):
        self.fiche_id = fiche_id
        self._raw: str | None = None
        self._document: dict | None = None

    @property
    def raw(self) -> str | None:
        if self._raw is None:
            # the stored JSON text as is: decoded once here, and searched for variables without a walk
            self._raw = (OfficialText.objects.filter(fiche_id=self.fiche_id)
                         .annotate(raw=Cast("document", TextField())).values_list("raw", flat=True).first())
        return self._raw

    @property
    def document(self) -> dict | None:
        if self._document is None and self.raw is not None:
            self._document = json.loads(self.raw)
        return self._document


# A condition is ["vrai"|"faux"|"indefini", variable] (nested in "et"/"ou"): its variables read from the
# JSON text directly, 20x faster than walking F2229's decoded document.
_CONDITION = re.compile(r'"(?:vrai|faux|indefini)",\s*"([^"\\]{1,40})"')


def shape(fiche_id: str, source: Source | None = None) -> Shape | None:
    def load():
        src = source or Source(fiche_id)
        doc = src.document
        if doc is None:
            return False
        q = doc.get("questionnaire") or {}
        guided = doc.get("guided") or ({"intro": [], "items": q["branches"]} if q.get("branches") else {})
        variables = set(_CONDITION.findall(src.raw or ""))
        for question in q.get("questions") or []:
            for choice in question.get("choices", []):
                variables.update(choice.get("set") or {})
        return Shape(q.get("questions") or [], guided, frozenset(variables), doc.get("glossary") or [])
    found = cached("dila-shape", KB_VERSION_KEY, fiche_id, load)
    return found or None


# -- the caller's situation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Situation:
    answers: dict[str, bool]
    chosen: dict[int, int]  # questionnaire question -> choice (checked in the form)
    labels: tuple[str, ...]  # the situation in words (« Vous touchez le RSA »)

    @property
    def key(self) -> str:
        return situation_query(self.answers)

    def __bool__(self) -> bool:
        return bool(self.answers)


NO_SITUATION = Situation({}, {}, ())


def situation(params, fiche_shape: Shape | None) -> Situation:
    """The situation a request describes, on this fiche's variables only."""
    if fiche_shape is None:
        return NO_SITUATION
    questions = fiche_shape.questions
    answers = {var: value for var, value in answers_from_query(params.get("vrai", ""), params.get("faux", "")).items()
               if var in fiche_shape.variables}
    chosen: dict[int, int] = {}
    for qi, question in enumerate(questions):
        raw = params.get(f"q{qi}", "")
        if raw.isdigit() and int(raw) < len(question.get("choices", [])):
            chosen[qi] = int(raw)
    answers.update(answers_from_choices({"questionnaire": {"questions": questions}}, chosen))
    # a situation carried from elsewhere checks the answers it amounts to
    for qi, question in enumerate(questions):
        if qi in chosen:
            continue
        for ci, choice in enumerate(question.get("choices", [])):
            assigned = choice.get("set") or {}
            if assigned and all(answers.get(var) == value for var, value in assigned.items()):
                chosen[qi] = ci
                break
    labels = tuple(questions[qi]["choices"][ci].get("label") or runs_text(questions[qi]["choices"][ci]["title"])
                   for qi, ci in sorted(chosen.items()))
    if not chosen and answers:
        defined = official.condition_labels()
        labels = tuple(label for var, value in sorted(answers.items())
                       if (label := (defined.get(var) or ["", ""])[0 if value else 1]))
    return Situation(answers, chosen, labels)


# -- the parts ------------------------------------------------------------------------------------------


def parts(fiche_id: str, space: Space, where: Situation = NO_SITUATION,
          source: Source | None = None) -> dict[str, SafeString]:
    """The fiche's parts for this space and situation (every string escaped by the renderer)."""
    def load():
        doc = (source or Source(fiche_id)).document
        if doc is None:
            return {}
        renderer = Renderer(doc, space.linker(), official.condition_labels(), where.answers or None, space.prefix)
        out = renderer.parts(level=space.level)
        out["questionnaire"] = renderer.questionnaire_fields(where.chosen) if (doc.get("questionnaire") or {}).get(
            "questions") else ""
        return out
    rendered = cached("dila-parts", KB_VERSION_KEY, f"{space.name}:{fiche_id}:{where.key}", load)
    return {key: mark_safe(value) for key, value in rendered.items()}


# -- a guided search, one question at a time -----------------------------------------------------------


@dataclass(frozen=True)
class Option:
    label: SafeString
    help: SafeString
    url: str


@dataclass(frozen=True)
class Leaf:
    title: str
    url: str
    external: bool
    note: SafeString


@dataclass(frozen=True)
class Walk:
    intro: SafeString
    steps: tuple[tuple[SafeString, str], ...]  # each answer given, and the address that asks it again
    options: tuple[Option, ...]  # the question asked now (empty at a leaf)
    leaf: Leaf | None
    restart_url: str
    path: tuple[int, ...]


def parse_path(raw: str) -> list[int]:
    return [int(p) for p in raw.split(".") if p.isdigit()][:MAX_PATH] if raw else []


def walk(fiche_id: str, fiche_shape: Shape, raw_path: str, space: Space, base_url: str,
         extra: dict[str, str] | None = None, anchor: str = "#parcours") -> Walk:
    """Where a guided search stands after the answers in `raw_path` (indices, "0.2.1")."""
    doc = {"guided": fiche_shape.guided, "glossary": fiche_shape.glossary}
    path = parse_path(raw_path)
    chosen, options, answers = guided_step(doc, path)
    path = path[:len(chosen)]  # an index that matches nothing ends the walk there
    renderer = Renderer(doc, space.linker(), {}, None, space.prefix)  # no condition in a walk: no labels

    def url(steps: list[int]) -> str:
        # "chemin" even when empty: the page then knows the visitor is walking (focus on the question)
        return base_url + "?" + urlencode({**(extra or {}), "chemin": ".".join(map(str, steps))}) + anchor

    steps = tuple((mark_safe(renderer.runs(node.get("ask") or node.get("title", []))), url(path[:i]))
                  for i, node in enumerate(chosen))
    shown = tuple(Option(mark_safe(renderer.runs(node.get("title", []))),
                         mark_safe(renderer.blocks(node.get("help") or [], space.level + 1)),
                         url([*path, i])) for i, node in enumerate(options))
    leaf = None
    if chosen and not options and chosen[-1].get("target"):
        leaf = _leaf(chosen[-1]["target"], answers, space, renderer)
    return Walk(mark_safe(renderer.runs(fiche_shape.guided.get("intro") or [])), steps, shown, leaf, url([]),
                tuple(path))


def _leaf(target: dict, answers: dict[str, bool], space: Space, renderer: Renderer) -> Leaf | None:
    known = official.targets()
    target_id, hops = target.get("id", ""), 0
    while target_id in known.redirects and hops < 5:
        target_id, hops = known.redirects[target_id], hops + 1
    note = mark_safe(renderer.runs(target.get("c") or []))
    if target_id in known.fiches:
        title = Fiche.objects.filter(pk=target_id).values_list("title", flat=True).first() or target_id
        query = situation_query(answers)
        return Leaf(title, space.fiche_url(target_id) + (f"?{query}" if query else ""), False, note)
    if target_id in known.nodes:
        node = tree().nodes.get(known.nodes[target_id])
        return Leaf(node.label if node else target_id, space.node_url(known.nodes[target_id]), False, note)
    resource = Resource.objects.filter(pk=target_id, active=True).exclude(url="").values_list("title", "url").first()
    if resource:
        return Leaf(resource[0], resource[1], True, note)
    return None
