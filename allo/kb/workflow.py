"""The editorial workflow: who may act on a fiche, changes that wait for a second person or for a
date, restoring any version, and Allô's notes following a fiche DILA redirects.

Every change the staff pages make to a fiche's content or to its notes goes through
`propose_change` then `approve`, the one path that applies it; importers write only the official
layer and never call this module.

A change is a dict {target: value}. Targets name one piece of a fiche: a field of a local fiche
("title", "short_answer", "review_by"...), one of its sections ("section:conditions"), or a field of
Allô's notes ("notes:script"). Values are JSON (dates as ISO strings, the theme and the owner
centre as their keys), so a change waiting in the database is exactly what will be applied.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from allo.accounts.roles import Role
from allo.kb.models import CorrectionProposal, Fiche, FicheNotes, Revision
from allo.kb.sections import AUDIENCES, LEVEL2, SECTIONS

FICHE_FIELDS: dict[str, str] = {
    "title": "Titre", "short_answer": "Réponse courte", "theme": "Thème", "subtheme": "Sous-thème",
    "audience": "Public", "level2": "Destination de niveau 2", "keywords": "Mots-clés",
    "phrasings": "Formulations des usagers", "references": "Références", "review_by": "À revoir avant le",
    "popularity": "Popularité",
}
NOTES_FIELDS: dict[str, str] = {
    "script": "Ce qu'on peut dire au téléphone", "transfer_when": "Quand transférer",
    "transfer_to": "Transférer vers", "synonyms": "Termes des appelants", "owner": "Centre propriétaire des notes",
    "review_by": "Notes à revoir avant le",
}
# What a proposal may target in the notes: free text an operator or an expert can rewrite.
PROPOSABLE_NOTES = ("script", "transfer_when", "synonyms")
_DATES = {"review_by", "notes:review_by"}
_LISTS = {"keywords", "phrasings", "notes:synonyms"}


class WorkflowError(Exception):
    """A refusal, with its French message for the user."""


class NotAllowed(WorkflowError):
    """This person may not act on this fiche (answered with 403)."""


class SamePerson(WorkflowError):
    """The author of a change tried to approve it: a second person must."""


class NothingChanged(WorkflowError):
    pass


# --- targets ---------------------------------------------------------------------------------


def fiche_targets() -> list[str]:
    return [*FICHE_FIELDS, *(f"section:{key}" for key in SECTIONS)]


def notes_targets() -> list[str]:
    return [f"notes:{name}" for name in NOTES_FIELDS]


def target_label(target: str) -> str:
    if target == "status":
        return "Statut"
    kind, _, name = target.partition(":")
    if kind == "section" and name in SECTIONS:
        return f"Rubrique « {SECTIONS[name]} »"
    if kind == "notes" and name in NOTES_FIELDS:
        return f"Notes Allô : {NOTES_FIELDS[name].lower()}"
    return FICHE_FIELDS.get(target, target)


def proposal_targets(fiche: Fiche) -> list[tuple[str, str]]:
    """What a correction proposal on this fiche may rewrite: DILA's text is not ours to rewrite (an
    error there becomes a report to DILA), so an official fiche offers only Allô's notes."""
    targets = [] if fiche.is_official else ["short_answer", *(f"section:{key}" for key in SECTIONS)]
    targets += [f"notes:{name}" for name in PROPOSABLE_NOTES]
    return [(target, target_label(target)) for target in targets]


def notes_of(fiche: Fiche) -> FicheNotes | None:
    try:
        return fiche.notes
    except FicheNotes.DoesNotExist:
        return None


def read_from(obj, target: str):
    """A target's JSON value on a fiche, its notes, or a historical record of either (None: no notes)."""
    kind, _, name = target.partition(":")
    if kind == "section":
        return (obj.sections or {}).get(name, "") if obj is not None else ""
    if kind == "notes":
        target_name = name
    else:
        target_name = target
    if obj is None:
        return [] if target in _LISTS else None if target in _DATES or target_name == "owner" else ""
    if target_name in ("theme", "owner"):
        return getattr(obj, f"{target_name}_id")
    value = getattr(obj, target_name)
    if target in _DATES:
        return value.isoformat() if value else None
    return value


def read(fiche: Fiche, target: str):
    return read_from(notes_of(fiche) if target.startswith("notes:") else fiche, target)


def as_text(target: str, value) -> str:
    """A value as the text shown in a diff or a textarea (lists one item per line)."""
    if value in (None, ""):
        return ""
    if target in _LISTS:
        return "\n".join(str(item) for item in value)
    if target == "references":
        return "\n".join(f"{item.get('title', '')} | {item.get('url', '')}" for item in value)
    if target in _DATES:
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
    if target in ("level2", "notes:transfer_to"):
        return LEVEL2.get(value, value)
    if target == "audience":
        return AUDIENCES.get(value, value)
    if target == "status":
        return Fiche.Status(value).label if value in Fiche.Status.values else str(value)
    if target == "notes:owner":
        from allo.org.models import Centre

        centre = Centre.objects.filter(pk=value).first()
        return str(centre) if centre else str(value)
    if target == "theme":
        from allo.kb.models import Theme

        theme = Theme.objects.filter(pk=value).first()
        return theme.label if theme else str(value)
    return str(value)


def to_value(target: str, value):
    """A form's cleaned value (date, Theme, Centre...) as the target's JSON value."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if target in ("theme", "notes:owner"):
        return value.pk if hasattr(value, "pk") else value
    if target in _LISTS:
        return list(value or [])
    return "" if value is None and target not in _DATES else value


def from_text(target: str, text: str):
    """A proposal's text as the target's value (the inverse of as_text for text and list targets)."""
    text = (text or "").strip()
    if target in _LISTS:
        return [line.strip() for line in text.splitlines() if line.strip()]
    return text


# --- who may act ----------------------------------------------------------------------------


def owner_centre(fiche: Fiche):
    """The centre whose experts own this fiche's notes, or None (then the domain rule applies)."""
    notes = notes_of(fiche)
    return notes.owner if notes and notes.owner_id else None


def owns(user, fiche: Fiche) -> bool:
    """Editors act on every fiche; an expert acts on the fiches of their centre: those whose notes
    name it as owner, or, without an owner, whose level-2 destination is the centre's domain."""
    if user.has_role(Role.EDITOR):
        return True
    if not user.has_role(Role.EXPERT) or not user.centre_id:
        return False
    notes = notes_of(fiche)
    if notes and notes.owner_id:
        return notes.owner_id == user.centre_id
    return bool(fiche.level2) and user.centre.domain == fiche.level2


def check_owner(user, fiche: Fiche) -> None:
    if owns(user, fiche):
        return
    centre = owner_centre(fiche)
    if centre is not None:
        raise NotAllowed(f"Cette fiche relève du centre « {centre.name} » : seuls ses experts et les rédacteurs "
                         "peuvent agir sur elle. Vous pouvez proposer une correction.")
    if fiche.level2:
        raise NotAllowed(f"Cette fiche relève du domaine « {fiche.get_level2_display()} » : seuls les experts de ce "
                         "domaine et les rédacteurs peuvent agir sur elle. Vous pouvez proposer une correction.")
    raise NotAllowed("Aucun centre n'est propriétaire de cette fiche : seuls les rédacteurs peuvent agir sur elle. "
                     "Vous pouvez proposer une correction.")


def owned_by(user) -> Q:
    """Fiches this person acts on, as a filter (everything for an editor)."""
    if user.has_role(Role.EDITOR):
        return Q()
    if not user.has_role(Role.EXPERT) or not user.centre_id:
        return Q(pk__in=[])
    by_domain = Q(notes__owner__isnull=True, level2=user.centre.domain) if user.centre.domain in LEVEL2 else Q(pk__in=[])
    return Q(notes__owner=user.centre_id) | by_domain


# --- changes --------------------------------------------------------------------------------


def needs_second_person(fiche: Fiche) -> bool:
    """What operators read (a published fiche and its notes) changes only after a second person."""
    return fiche.status == Fiche.Status.PUBLISHED


def propose_change(fiche: Fiche, changes: dict, *, author, reason: str, kind: str = Revision.Kind.EDIT,
                   effective_on: dt.date | None = None, approver=None, proposal: CorrectionProposal | None = None,
                   today: dt.date | None = None) -> Revision:
    """Record a change and apply it when nobody else has to see it first.

    On a published fiche it waits for a second person (PENDING), unless `approver` is that second
    person already (a reviewer accepting someone else's proposal). Approved, it is applied now,
    or on `effective_on` when that date is still to come. Targets whose value does not change are
    dropped; NothingChanged when none is left.
    """
    unknown = set(changes) - set(fiche_targets()) - set(notes_targets())
    if unknown:
        raise ValueError(f"unknown targets {sorted(unknown)}")
    if fiche.is_official and any(not target.startswith("notes:") for target in changes):
        raise NotAllowed("Le texte d'une fiche service-public.fr vient de la DILA et n'est jamais modifié dans Allô : "
                         "modifiez les notes Allô, ou signalez l'erreur à la DILA.")
    base = {target: read(fiche, target) for target in changes}
    changes = {target: value for target, value in changes.items() if value != base[target]}
    if not changes:
        raise NothingChanged("Aucune modification : le texte est identique à la version actuelle.")
    if approver is not None and approver == author:
        raise SamePerson("Vous ne pouvez pas valider votre propre modification.")
    revision = Revision.objects.create(
        fiche=fiche, kind=kind, changes=changes, base={t: base[t] for t in changes}, reason=reason, author=author,
        effective_on=effective_on, proposal=proposal,
    )
    if approver is not None or not needs_second_person(fiche):
        return _approve(revision, approver or author, today=today)
    return revision


def approve(revision: Revision, user, note: str = "", today: dt.date | None = None) -> Revision:
    """A second person publishes a pending change: applied now, or scheduled for its date."""
    if revision.status != Revision.Status.PENDING:
        raise WorkflowError(f"Cette modification est déjà « {revision.get_status_display().lower()} ».")
    if revision.author_id == user.pk:
        raise SamePerson("Vous êtes l'auteur de cette modification : une autre personne (rédacteur, ou expert du "
                         "centre propriétaire) doit la relire et la publier. C'est la règle des quatre yeux.")
    check_owner(user, revision.fiche)
    revision.decision_note = note
    return _approve(revision, user, today=today)


def _approve(revision: Revision, user, today: dt.date | None = None) -> Revision:
    revision.approved_by, revision.decided_at = user, timezone.now()
    today = today or timezone.localdate()
    if revision.effective_on and revision.effective_on > today:
        revision.status = Revision.Status.SCHEDULED
    revision.save()
    if revision.status == Revision.Status.SCHEDULED:
        return revision
    return _apply(revision)


def reject(revision: Revision, user, note: str = "") -> Revision:
    """Refused by a second person, or withdrawn by its author (pending or scheduled)."""
    if not revision.is_open:
        raise WorkflowError(f"Cette modification est déjà « {revision.get_status_display().lower()} ».")
    if revision.author_id != user.pk:
        check_owner(user, revision.fiche)
    revision.status = Revision.Status.CANCELLED if revision.author_id == user.pk else Revision.Status.REJECTED
    revision.decided_at, revision.decision_note = timezone.now(), note
    if revision.status == Revision.Status.REJECTED:
        revision.approved_by = user  # who decided
    revision.save()
    return revision


def _history_reason(revision: Revision) -> str:
    author = revision.author.get_full_name() or revision.author.username
    approver = revision.approved_by.get_full_name() or revision.approved_by.username if revision.approved_by else ""
    who = f"par {author}" if not approver or approver == author else f"par {author}, validée par {approver}"
    when = f", en vigueur le {revision.effective_on:%d/%m/%Y}" if revision.effective_on else ""
    return f"{revision.reason} ({revision.get_kind_display().lower()} {who}{when})"


@transaction.atomic
def _apply(revision: Revision) -> Revision:
    # Locked and re-read: with several web processes, each one's periodic job may try the same change.
    revision = Revision.objects.select_for_update().get(pk=revision.pk)  # no select_related: PostgreSQL cannot lock the nullable side of an outer join
    if revision.status == Revision.Status.APPLIED:
        return revision
    fiche = Fiche.objects.select_for_update().get(pk=revision.fiche_id)
    notes = FicheNotes.objects.filter(fiche=fiche).first() or FicheNotes(fiche=fiche)
    fiche_changed = notes_changed = False
    for target, value in revision.changes.items():
        kind, _, name = target.partition(":")
        if kind == "section":
            fiche.sections = {**(fiche.sections or {}), name: value}
            fiche_changed = True
        elif kind == "notes":
            if name == "owner":
                notes.owner_id = value
            else:
                setattr(notes, name, dt.date.fromisoformat(value) if value and target in _DATES else value)
            notes_changed = True
        else:
            if target == "theme":
                fiche.theme_id = value
            else:
                setattr(fiche, target, dt.date.fromisoformat(value) if value and target in _DATES else value)
            fiche_changed = True
    reason = _history_reason(revision)
    if fiche_changed:
        fiche.save_revision(revision.approved_by, reason)
    if notes_changed:
        notes.save_with_reason(revision.approved_by, reason)
    revision.status, revision.applied_at = Revision.Status.APPLIED, timezone.now()
    revision.save()
    return revision


def apply_due(today: dt.date | None = None) -> list[Revision]:
    """Apply the approved changes whose date has come (cron: `allo kb apply-scheduled`; the server
    also runs it every minute). Safe to run from several processes at once."""
    today = today or timezone.localdate()
    due = Revision.objects.filter(status=Revision.Status.SCHEDULED, effective_on__lte=today).order_by("effective_on",
                                                                                                       "created_at")
    return [_apply(revision) for revision in due]


def restore_changes(fiche: Fiche, record) -> dict:
    """The change that brings a fiche (HistoricalFiche) or its notes (HistoricalFicheNotes) back to
    a past version; restoring is a change like any other, through propose_change."""
    if record._meta.model_name == "historicalfichenotes":
        targets = notes_targets()
    else:
        if fiche.is_official:
            raise NotAllowed("Le texte d'une fiche service-public.fr vient de la DILA : seules les notes Allô "
                             "peuvent être restaurées.")
        targets = fiche_targets()
    return {target: read_from(record, target) for target in targets}


# --- DILA redirections ----------------------------------------------------------------------


@transaction.atomic
def move_notes(old_id: str, new_id: str, user=None) -> FicheNotes | None:
    """Allô's notes of fiche `old_id`, which DILA redirected to `new_id`, follow it there, with the
    open proposals and changes on those notes. If `new_id` already has notes, its own values are
    kept and the old ones added: text after it, synonyms merged, empty fields filled, the earlier
    review date. Returns the notes of `new_id` (None when `old_id` had none)."""
    old = FicheNotes.objects.select_for_update().filter(fiche_id=old_id).first()
    if old is None or old_id == new_id:
        return old
    Fiche.objects.get(pk=new_id)  # the importer creates the new fiche first
    reason = f"Notes reprises de la fiche {old_id}, que la DILA redirige vers {new_id}"
    notes = FicheNotes.objects.select_for_update().filter(fiche_id=new_id).first()
    if notes is None:
        old.fiche_id = new_id
        old.save_with_reason(user, reason)
        notes = old
    else:
        for name in ("script", "transfer_when"):
            mine, theirs = getattr(notes, name), getattr(old, name)
            if theirs and theirs not in mine:
                setattr(notes, name, f"{mine}\n\n*Repris de {old_id} :*\n\n{theirs}" if mine else theirs)
        notes.synonyms = list(dict.fromkeys([*notes.synonyms, *old.synonyms]))
        notes.transfer_to = notes.transfer_to or old.transfer_to
        notes.owner_id = notes.owner_id or old.owner_id
        dates = [d for d in (notes.review_by, old.review_by) if d]
        notes.review_by = min(dates) if dates else None
        notes.save_with_reason(user, reason)
        old._history_user, old._change_reason = user, reason
        old.delete()
    CorrectionProposal.objects.filter(fiche_id=old_id, status=CorrectionProposal.Status.OPEN,
                                      target__startswith="notes:").update(fiche_id=new_id)
    for revision in Revision.objects.filter(fiche_id=old_id, status__in=[Revision.Status.PENDING,
                                                                         Revision.Status.SCHEDULED]):
        if all(target.startswith("notes:") for target in revision.changes):
            revision.fiche_id = new_id
            revision.save(update_fields=["fiche"])
    return notes
