"""The wrap-up form of the desks: the source of every report, so each field is checked against what
exists (the outcome and reason lists the administrator edits, the theme tree, the fiches) and the
callback date against the caller's own clock.

A refused form is shown again with everything the agent typed and each error beside its field
(the caller may still be on the line): `WrapUpForm.values` is what the template puts back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.utils import timezone

from allo.contact_centre.caller_zone import CallerZone, caller_zone
from allo.contact_centre.models import OutcomeKind, WrapUpOutcome, WrapUpReason
from allo.contact_centre.router import config as cfg
from allo.kb.models import Fiche, Redirect, Theme
from allo.kb.sections import AUDIENCES
from allo.portal import catalogue

MAX_FICHES = 10
CALLBACK_MIN_AHEAD = dt.timedelta(minutes=5)
CALLBACK_MAX_AHEAD = dt.timedelta(days=30)
CALLBACK_HOURS = (8, 20)  # a callback is made between 8:00 and 20:00, the caller's time
# the fields in the page's order: the first one in error gets the focus
FIELDS = ("outcome", "reason", "fiches", "theme", "question", "transfer", "callback_at", "note")


def fiche_ids(values: list[str]) -> list[str]:
    """The ids posted (checkboxes, or one field of ids separated by commas), in order, once each."""
    out: list[str] = []
    for value in values:
        for part in value.replace(";", ",").split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def hour_text(when: dt.datetime) -> str:
    return f"{when.hour} h {when.minute:02d}" if when.minute else f"{when.hour} h"


def local_now(zone: CallerZone) -> dt.datetime:
    return timezone.now().astimezone(zone.tz)


@dataclass
class WrapUpForm:
    data: dict  # request.POST
    level: int
    caller: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    cleaned: dict = field(default_factory=dict)

    def __post_init__(self):
        post = self.data
        self.zone = caller_zone(self.caller)
        self.values = {
            "outcome": post.get("outcome", ""),
            "reason": post.get("reason", ""),
            "fiches": fiche_ids(post.getlist("fiches") if hasattr(post, "getlist") else [post.get("fiches", "")]),
            "fiche_q": post.get("fiche_q", "")[:200],
            "theme": post.get("theme", ""),
            "question": post.get("question", "")[:500],
            "transfer": post.get("transfer", ""),
            "callback_at": post.get("callback_at", "")[:20],
            "note": post.get("note", "")[:2000],
        }

    # ------------------------------------------------------------------ checking

    def is_valid(self) -> bool:
        self.errors, self.cleaned = {}, {"question": self.values["question"], "note": self.values["note"]}
        outcome = self._outcome()
        self._reason(outcome)
        fiches = self._fiches()
        self._theme(outcome, fiches)
        kind = outcome.kind if outcome else ""
        self.cleaned["transfer"] = self._transfer() if kind == OutcomeKind.TRANSFERRED else None
        self.cleaned["callback_at"] = self._callback_at() if kind == OutcomeKind.CALLBACK else None
        return not self.errors

    @property
    def first_error(self) -> str:
        return next((name for name in FIELDS if name in self.errors), "")

    def _outcome(self) -> WrapUpOutcome | None:
        code = self.values["outcome"]
        outcome = offered_outcomes(self.level).filter(code=code).first() if code else None
        if outcome is None:
            self.errors["outcome"] = "Choisissez l'issue de l'appel."
        self.cleaned["outcome"] = outcome
        return outcome

    def _reason(self, outcome: WrapUpOutcome | None) -> None:
        code = self.values["reason"]
        reason = None
        if code:
            reason = WrapUpReason.objects.filter(code=code, active=True).prefetch_related("outcomes").first()
            if reason is None:
                self.errors["reason"] = "Ce motif n'est plus proposé : choisissez-en un dans la liste."
            elif outcome is not None and reason.outcomes.all() and outcome not in reason.outcomes.all():
                self.errors["reason"] = (f"Le motif « {reason.label} » ne s'applique pas à l'issue « {outcome.label} » : "
                                         "choisissez un autre motif ou une autre issue.")
        elif outcome is not None and outcome.reason_required:
            self.errors["reason"] = f"Indiquez le motif : il est obligatoire pour l'issue « {outcome.label} »."
        self.cleaned["reason"] = reason

    def _fiches(self) -> list[Fiche]:
        ids = self.values["fiches"]
        if len(ids) > MAX_FICHES:
            self.errors["fiches"] = f"Notez au plus {MAX_FICHES} fiches."
            ids = ids[:MAX_FICHES]
        redirects = dict(Redirect.objects.filter(old_id__in=ids).values_list("old_id", "new_id"))
        wanted = [redirects.get(i, i) for i in ids]
        found = Fiche.objects.exclude(status=Fiche.Status.ARCHIVED).in_bulk(wanted)
        missing = [old for old, new in zip(ids, wanted, strict=True) if new not in found]
        fiches = list(dict.fromkeys(found[new] for new in wanted if new in found))
        if missing:
            names = ", ".join(f"« {i} »" for i in missing)
            subject = "La fiche" if len(missing) == 1 else "Les fiches"
            verb = "n'existe pas" if len(missing) == 1 else "n'existent pas"
            self.errors["fiches"] = (f"{subject} {names} {verb} dans la base de connaissances : cherchez la bonne "
                                     "fiche ci-dessous et cochez-la.")
            # what was typed is not lost: the unknown ids go back into the search field
            self.values["fiche_q"] = self.values["fiche_q"] or " ".join(missing)
        self.values["fiches"] = [f.id for f in fiches]  # redirected ids shown under their new id
        self.cleaned["fiches"] = fiches
        return fiches

    def _theme(self, outcome: WrapUpOutcome | None, fiches: list[Fiche]) -> None:
        slug = self.values["theme"]
        node = Theme.objects.filter(slug=slug).first() if slug else None
        if slug and node is None:
            self.errors["theme"] = "Ce thème n'existe pas : choisissez-le dans la liste."
        if node is None and not slug and fiches:
            node = fiches[0].theme  # no theme chosen: the first fiche's
        kind = outcome.kind if outcome else ""
        if node is None and "theme" not in self.errors and kind not in (OutcomeKind.OUT_OF_SCOPE,
                                                                      OutcomeKind.NO_ANSWER):
            self.errors["theme"] = "Choisissez le thème de la question (ou notez la fiche utilisée)."
        self.cleaned["theme"] = node
        self.cleaned["top_theme"] = top_of(node)

    def _transfer(self) -> str | None:
        transfer = self.values["transfer"]
        if self.level != 1 or transfer not in dict(cfg.DOMAINS):
            self.errors["transfer"] = "Choisissez la destination du transfert."
            return None
        return transfer

    def _callback_at(self) -> dt.datetime | None:
        raw = self.values["callback_at"].strip()
        place = self.zone.place
        try:
            naive = dt.datetime.fromisoformat(raw)
        except ValueError:
            self.errors["callback_at"] = (f"Indiquez la date et l'heure du rappel, à l'heure de l'appelant ({place}) : "
                                          "jj/mm/aaaa hh:mm.")
            return None
        # the date typed is the caller's: 10:00 agreed with a caller in Martinique is 10:00 there
        when = naive.replace(tzinfo=None).replace(tzinfo=self.zone.tz, second=0, microsecond=0)
        now = timezone.now()
        if when < now + CALLBACK_MIN_AHEAD:
            self.errors["callback_at"] = (
                f"Le rappel doit être dans le futur : il est {hour_text(local_now(self.zone))} le "
                f"{local_now(self.zone):%d/%m/%Y} chez l'appelant ({place}).")
            return None
        if when > now + CALLBACK_MAX_AHEAD:
            self.errors["callback_at"] = f"Le rappel doit avoir lieu dans les {CALLBACK_MAX_AHEAD.days} jours."
            return None
        start, end = CALLBACK_HOURS
        if not start <= when.hour < end:
            self.errors["callback_at"] = (
                f"L'appelant serait rappelé à {hour_text(when)}, heure de {place} : choisissez un horaire "
                f"entre {start} h et {end} h pour lui.")
            return None
        return when


def offered_outcomes(level: int):
    """The outcomes an agent may pick: the active ones; a transfer is for N1 only."""
    outcomes = WrapUpOutcome.objects.filter(active=True)
    return outcomes if level == 1 else outcomes.exclude(kind=OutcomeKind.TRANSFERRED)


def top_of(node: Theme | None) -> Theme | None:
    """The top-level theme above a node of the tree (the node itself at the top)."""
    seen = 0
    while node is not None and node.parent_id and seen < 10:
        node = node.parent
        seen += 1
    return node


# ---------------------------------------------------------------------- what the template shows

PROPOSED = 8  # search hits offered under the ticked fiches


def fiche_choices(chosen: list[str], query: str, searched: bool) -> dict:
    """The ticked fiches (id, title) and, for a search, the hits not ticked yet (an exact id first)."""
    titles = dict(Fiche.objects.filter(pk__in=chosen).values_list("id", "title"))
    ticked = [(i, titles[i]) for i in chosen if i in titles]
    proposed: list[tuple[str, str]] = []
    query = query.strip()
    if searched and query:
        exact = Fiche.objects.published().filter(pk=query.split()[0]).values_list("id", "title").first()
        if exact:
            proposed.append(exact)
        if len(query) >= 3:
            from allo.kb.search import QueryError
            from allo.kb.search_service import search_index

            try:
                hits = search_index().search(query, limit=PROPOSED).hits
            except QueryError:
                hits = []
            proposed += [(h.id, h.title) for h in hits]
        proposed = list(dict.fromkeys(p for p in proposed if p[0] not in titles))[:PROPOSED]
    return {"ticked": ticked, "proposed": proposed, "query": query, "searched": searched and bool(query),
            "too_short": searched and 0 < len(query) < 3 and not proposed}


def theme_groups() -> list[dict]:
    """The top-level themes, each with its sous-thèmes, in the tree's order (dossiers are too many to list:
    a fiche's theme stands for them)."""
    tree = catalogue.tree()
    roots = tree.kids("") or [tree.nodes[s] for s in tree.children.get("", ())]
    groups = []
    for root in roots:
        subs = [n for n in tree.kids(root.slug) if n.kind == Theme.Kind.SUBTHEME]
        audience = AUDIENCES.get(root.audience, "")
        groups.append({"slug": root.slug, "label": f"{root.label} ({audience})" if audience else root.label,
                       "short": root.label, "children": subs})
    return groups


def form_context(contact, level: int, form: WrapUpForm | None, searching: bool) -> dict:
    """Everything the wrap-up form shows: the lists, the values (typed, or first guesses), the errors."""
    ctx = contact.context or {}
    if form is None:
        form = WrapUpForm({}, level=level, caller=contact.caller)
        outcomes = list(offered_outcomes(level))
        form.values["outcome"] = outcomes[0].code if outcomes else ""
        if ctx.get("fiche"):
            form.values["fiches"] = [ctx["fiche"]]
        earlier = contact.wrapups.exclude(theme=None).order_by("-created").first()  # at N2: the N1's theme
        topic = ctx.get("topic") or ""
        form.values["theme"] = earlier.theme_id if earlier else (topic if Theme.objects.filter(slug=topic).exists()
                                                                    else "")
        if level == 1 and contact.consult_agent:  # a consult under way: what it carried is not typed again
            transferred = [o for o in outcomes if o.kind == OutcomeKind.TRANSFERRED]
            form.values.update(outcome=transferred[0].code if transferred else form.values["outcome"],
                               transfer=ctx.get("domain") or "", question=ctx.get("question") or "",
                               note=ctx.get("note") or "")
    groups = theme_groups()
    listed = {g["slug"] for g in groups} | {c.slug for g in groups for c in g["children"]}
    chosen_theme = form.values["theme"]
    extra_theme = None
    if chosen_theme and chosen_theme not in listed:  # a dossier (or an inactive node) chosen before
        extra_theme = Theme.objects.filter(slug=chosen_theme).first()
    reasons = list(WrapUpReason.objects.filter(active=True).prefetch_related("outcomes"))
    zone = form.zone
    now_there = local_now(zone)
    offset = now_there.utcoffset() - timezone.now().astimezone(ZoneInfo("Europe/Paris")).utcoffset()
    hours = round(offset.total_seconds() / 3600)
    return {
        "values": form.values, "errors": form.errors, "focus": form.first_error,
        "outcomes": list(offered_outcomes(level)), "reasons": reasons, "themes": groups, "extra_theme": extra_theme,
        "fiches": fiche_choices(form.values["fiches"], form.values["fiche_q"],
                                searched=searching or "fiches" in form.errors),
        "zone": zone, "zone_is_paris": zone.key == "Europe/Paris",
        "zone_now": f"{hour_text(now_there)} le {now_there:%d/%m}",
        "zone_offset": "" if not hours else f"{hours:+d} h par rapport à Paris",
        "callback_min": now_there.strftime("%Y-%m-%dT%H:%M"),
    }
