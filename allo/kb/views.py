"""Knowledge-base pages for staff: search (operators), the fiche with Allô's notes above the
official text, corrections and their review, editing, versions, scheduled changes, reports to DILA.

The rules (who may act, second person, dates) live in allo/kb/workflow.py; these views ask it."""

from __future__ import annotations

import csv
import functools

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from allo.accounts.access import roles
from allo.accounts.roles import Role
from allo.kb import workflow
from allo.kb.diff import diff_revision, diff_text, diff_versions
from allo.kb.forms import (
    DilaReportForm,
    DilaStatusForm,
    FicheForm,
    NotesForm,
    ProposalForm,
    ReviewForm,
    RevisionDecisionForm,
    SynonymForm,
)
from allo.kb.models import CorrectionProposal, DilaReport, Fiche, FicheNotes, Revision, Synonym, Theme
from allo.kb.search_service import search_index

STAFF = (Role.OPERATOR, Role.EXPERT, Role.EDITOR, Role.SUPERVISOR)
REVIEWERS = (Role.EXPERT, Role.EDITOR)


MIN_TYPED = 3  # characters typed before the panel searches as the operator types


def _run_search(request):
    from allo.kb.search import QueryError

    query = request.GET.get("q", "")
    theme = request.GET.get("theme") or None
    try:
        return query, search_index().search(query, limit=10, theme=theme), None
    except QueryError as exc:
        return query, None, str(exc)


@roles(*STAFF)
def search_api(request):
    """JSON search for desks and connectors: hits with snippet, theme and confidence."""
    query, response, error = _run_search(request)
    if error:
        return JsonResponse({"error": error}, status=400)
    return JsonResponse(
        {
            "query": query,
            "low_confidence": response.low_confidence,
            "suggestion": response.suggestion,
            "hits": [
                {"id": h.id, "title": h.title, "theme": h.theme, "score": round(h.score, 4),
                 "confidence": round(h.confidence, 3), "snippet": h.snippet}
                for h in response.hits
            ],
        }
    )


@roles(*STAFF)
def search_panel(request):
    """The operator's search panel (full page, or the results partial when asked by htmx, as the
    operator types: from the third character, so the panel does not flicker on the first ones)."""
    if request.htmx and len(request.GET.get("q", "").strip()) < MIN_TYPED:
        return render(request, "kb/_search_results.html", {"query": request.GET.get("q", ""), "too_short": True})
    query, response, error = _run_search(request) if "q" in request.GET else ("", None, None)
    template = "kb/_search_results.html" if request.htmx else "kb/search.html"
    labels = dict(Theme.objects.values_list("slug", "label"))
    results = [(hit, labels.get(hit.theme, hit.theme)) for hit in response.hits] if response else []
    return render(request, template, {"query": query, "response": response, "error": error, "results": results})


def _visible_fiche(request, fiche_id: str) -> Fiche:
    fiche = get_object_or_404(Fiche.objects.select_related("theme"), pk=fiche_id)
    if fiche.status != Fiche.Status.PUBLISHED and not request.user.has_role(*REVIEWERS):
        raise Http404("Fiche non publiée")
    return fiche


def french_refusals(view):
    """A refusal of the workflow (an expert acting on another centre's fiche...) answered with 403
    and its French message, on a page of the site rather than a bare error."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except workflow.NotAllowed as exc:
            return render(request, "kb/forbidden.html", {"message": str(exc), "fiche_id": kwargs.get("fiche_id")},
                          status=403)

    return wrapped


def _outcome_message(request, revision: Revision) -> None:
    """Tell the author what became of their change."""
    if revision.status == Revision.Status.APPLIED:
        published = revision.fiche.status == Fiche.Status.PUBLISHED
        messages.success(request, "Modification publiée." if published else "Modification enregistrée.")
    elif revision.status == Revision.Status.SCHEDULED:
        messages.success(request, f"Modification programmée : elle s'appliquera le {revision.effective_on:%d/%m/%Y}.")
    else:
        messages.info(request, "La fiche est publiée : votre modification attend qu'une autre personne (rédacteur, ou "
                               "expert du centre propriétaire) la relise et la publie.")


@roles(*STAFF)
def fiche_detail(request, fiche_id: str):
    fiche = _visible_fiche(request, fiche_id)
    is_reviewer = request.user.has_role(*REVIEWERS)
    open_revisions = fiche.revisions.filter(status__in=[Revision.Status.PENDING, Revision.Status.SCHEDULED]) \
        .select_related("author").order_by("effective_on", "created_at")
    return render(request, "kb/fiche.html", {
        "fiche": fiche,
        "notes": workflow.notes_of(fiche),
        "is_editor": request.user.has_role(Role.EDITOR),
        "can_edit": request.user.has_role(Role.EDITOR) and not fiche.is_official,
        "can_act": is_reviewer and workflow.owns(request.user, fiche),
        "is_reviewer": is_reviewer,
        "scheduled": [r for r in open_revisions if r.status == Revision.Status.SCHEDULED],
        "pending": [r for r in open_revisions if r.status == Revision.Status.PENDING] if is_reviewer else [],
        "open_proposals": fiche.proposals.filter(status=CorrectionProposal.Status.OPEN).count(),
        "open_dila_reports": fiche.dila_reports.filter(status__in=[DilaReport.Status.TO_SEND,
                                                                   DilaReport.Status.SENT]).count(),
    })


@roles(Role.OPERATOR, Role.EXPERT, Role.EDITOR)
def propose_correction(request, fiche_id: str):
    """A proposal rewrites one piece of text (chosen with ?cible=, pre-filled with its current text),
    or is a general remark; an error in DILA's own text goes to a report to DILA instead."""
    fiche = _visible_fiche(request, fiche_id)
    targets = workflow.proposal_targets(fiche)
    target = request.GET.get("cible", "")
    if target and target not in dict(targets):
        messages.error(request, "Ce texte ne peut pas faire l'objet d'une proposition : choisissez dans la liste.")
        target = ""
    current = workflow.as_text(target, workflow.read(fiche, target)) if target else ""
    form = ProposalForm(request.POST or None, target=target, current_text=current)
    if request.method == "POST" and form.is_valid():
        proposal = form.save(commit=False)
        proposal.fiche, proposal.author = fiche, request.user
        proposal.target, proposal.base_text = target, current
        proposal.save()
        messages.success(request, "Merci : votre proposition de correction a été transmise aux relecteurs.")
        return redirect("kb-fiche", fiche_id=fiche.pk)
    return render(request, "kb/propose.html", {"fiche": fiche, "form": form, "targets": targets, "target": target})


@roles(*REVIEWERS)
@french_refusals
def review_proposal(request, pk: int):
    proposal = get_object_or_404(CorrectionProposal.objects.select_related("fiche", "author"), pk=pk)
    fiche = proposal.fiche
    workflow.check_owner(request.user, fiche)
    form = ReviewForm(request.POST or None, proposal=proposal)
    current = workflow.as_text(proposal.target, workflow.read(fiche, proposal.target)) if proposal.target else ""
    own = proposal.author_id == request.user.pk
    if request.method == "POST" and proposal.status != CorrectionProposal.Status.OPEN:
        messages.error(request, "Cette proposition a déjà été examinée.")
    elif request.method == "POST" and own:
        messages.error(request, "Vous êtes l'auteur de cette proposition : une autre personne doit l'examiner.")
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        accepted = data["decision"] == "accept"
        try:
            with transaction.atomic():
                proposal = CorrectionProposal.objects.select_for_update().get(pk=proposal.pk)
                if accepted and proposal.target:
                    text = data.get("text", "")
                    workflow.propose_change(
                        fiche, {proposal.target: workflow.from_text(proposal.target, text)},
                        author=proposal.author, approver=request.user, kind=Revision.Kind.PROPOSAL,
                        reason=f"Correction proposée : {proposal.reason[:200]}", effective_on=data.get("effective_on"),
                        proposal=proposal)
                proposal.status = CorrectionProposal.Status.ACCEPTED if accepted else CorrectionProposal.Status.REJECTED
                proposal.reviewer, proposal.reviewed_at = request.user, timezone.now()
                proposal.review_note = data["note"]
                proposal.save()
        except workflow.NothingChanged:
            form.add_error("text", "Ce texte est déjà celui de la fiche : refusez la proposition, ou modifiez le texte.")
        else:
            scheduled = accepted and data.get("effective_on") and data["effective_on"] > timezone.localdate()
            messages.success(request, "Proposition refusée." if not accepted else
                             f"Proposition acceptée : elle s'appliquera le {data['effective_on']:%d/%m/%Y}." if scheduled
                             else "Proposition acceptée et publiée.")
            return redirect("space-editor")
    diff = diff_text(proposal.base_text, proposal.proposed_text) if proposal.target else None
    return render(request, "kb/review.html", {
        "proposal": proposal, "fiche": fiche, "form": form, "diff": diff, "own": own,
        "changed_since": bool(proposal.target) and current.strip() != proposal.base_text.strip(),
        "current_diff": diff_text(current, proposal.proposed_text) if proposal.target else None,
    })


@roles(Role.EDITOR)
@french_refusals
def fiche_edit(request, fiche_id: str | None = None):
    """A new local fiche (a draft), or a change to one: on a published fiche, the change waits for a
    second person; with a date, it is scheduled."""
    fiche = get_object_or_404(Fiche, pk=fiche_id) if fiche_id else Fiche(status=Fiche.Status.DRAFT)
    if fiche.is_official:
        raise workflow.NotAllowed("Le texte d'une fiche service-public.fr vient de la DILA et n'est jamais modifié "
                                  "dans Allô : modifiez ses notes Allô, ou signalez l'erreur à la DILA.")
    form = FicheForm(request.POST or None, instance=fiche)
    if request.method == "POST" and form.is_valid():
        if not fiche_id:
            fiche = form.save(commit=False)
            fiche.save_with_reason(request.user, form.cleaned_data["reason"])
            messages.success(request, "Fiche créée (brouillon).")
            return redirect("kb-fiche", fiche_id=fiche.pk)
        try:
            revision = workflow.propose_change(
                Fiche.objects.get(pk=fiche.pk), form.changes(), author=request.user,
                reason=form.cleaned_data["reason"], effective_on=form.cleaned_data.get("effective_on"))
        except workflow.NothingChanged as exc:
            form.add_error(None, str(exc))
        else:
            _outcome_message(request, revision)
            return redirect("kb-fiche", fiche_id=fiche.pk)
    pending = fiche.revisions.filter(status=Revision.Status.PENDING).count() if fiche_id else 0
    return render(request, "kb/edit.html", {"fiche": fiche, "form": form, "pending": pending})


@roles(*REVIEWERS)
@french_refusals
def notes_edit(request, fiche_id: str):
    """Allô's notes on a fiche, edited by editors and the experts of the centre that owns it."""
    fiche = get_object_or_404(Fiche.objects.select_related("theme"), pk=fiche_id)
    workflow.check_owner(request.user, fiche)
    notes = workflow.notes_of(fiche) or FicheNotes(fiche=fiche)
    form = NotesForm(request.POST or None, instance=notes)
    if request.method == "POST" and form.is_valid():
        try:
            revision = workflow.propose_change(
                Fiche.objects.get(pk=fiche.pk), form.changes(), author=request.user,
                reason=form.cleaned_data["reason"], effective_on=form.cleaned_data.get("effective_on"))
        except workflow.NothingChanged as exc:
            form.add_error(None, str(exc))
        else:
            _outcome_message(request, revision)
            return redirect("kb-fiche", fiche_id=fiche.pk)
    pending = fiche.revisions.filter(status=Revision.Status.PENDING).count()
    return render(request, "kb/notes_edit.html", {"fiche": fiche, "form": form, "pending": pending})


@roles(*REVIEWERS)
@french_refusals
def revision_detail(request, pk: int):
    """A change waiting for a second person (or for its date): its diff against the fiche as it is
    now, and the decision; its author may withdraw it."""
    revision = get_object_or_404(Revision.objects.select_related("fiche", "author", "approved_by"), pk=pk)
    fiche = revision.fiche
    own = revision.author_id == request.user.pk
    if not own:
        workflow.check_owner(request.user, fiche)
    form = RevisionDecisionForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "cancel" and own:
                workflow.reject(revision, request.user)
                messages.success(request, "Modification annulée.")
                return redirect("kb-fiche", fiche_id=fiche.pk)
            if form.is_valid():
                if form.cleaned_data["decision"] == "approve":
                    revision = workflow.approve(revision, request.user, form.cleaned_data["note"])
                    _outcome_message(request, revision)
                else:
                    workflow.reject(revision, request.user, form.cleaned_data["note"])
                    messages.success(request, "Modification refusée.")
                return redirect("kb-fiche", fiche_id=fiche.pk)
        except workflow.SamePerson as exc:
            messages.error(request, str(exc))
        except workflow.NotAllowed:
            raise
        except workflow.WorkflowError as exc:
            messages.error(request, str(exc))
    return render(request, "kb/revision.html", {
        "revision": revision, "fiche": fiche, "form": form, "own": own,
        "diffs": diff_revision(fiche, revision),
    })


@roles(*REVIEWERS)
@french_refusals
@require_POST
def fiche_transition(request, fiche_id: str, action: str):
    """draft -> review (submit), review or archived -> published (publish, by someone other than
    whoever made the last change), any -> archived (archive). An official fiche is only archived
    or published again (the import keeps that decision)."""
    fiche = get_object_or_404(Fiche, pk=fiche_id)
    allowed = {
        "submit": {Fiche.Status.DRAFT},
        "publish": {Fiche.Status.IN_REVIEW, Fiche.Status.ARCHIVED},
        "archive": {Fiche.Status.DRAFT, Fiche.Status.IN_REVIEW, Fiche.Status.PUBLISHED},
    }
    if action not in allowed:
        raise Http404("Action inconnue")
    workflow.check_owner(request.user, fiche)
    if fiche.is_official and action == "submit":
        # DILA's fiches are published by the import; Allô may only withdraw one and bring it back.
        raise workflow.NotAllowed("Une fiche service-public.fr n'a pas de brouillon dans Allô : elle peut seulement "
                                  "être archivée, puis publiée à nouveau.")
    reason = request.POST.get("reason", "").strip()
    if fiche.status not in allowed[action]:
        messages.error(request, f"Action impossible : la fiche est « {fiche.get_status_display()} ».")
        return redirect("kb-fiche", fiche_id=fiche.pk)
    if action == "publish":
        last = fiche.history.order_by("-history_date", "-history_id").first()
        if last is not None and last.history_user_id == request.user.pk:
            messages.error(request, "Vous avez fait la dernière modification de cette fiche : une autre personne "
                                    "(rédacteur, ou expert du centre propriétaire) doit la relire et la publier.")
            return redirect("kb-fiche", fiche_id=fiche.pk)
        fiche.publish(request.user, reason or "Publication après relecture")
    else:
        fiche.status = Fiche.Status.IN_REVIEW if action == "submit" else Fiche.Status.ARCHIVED
        fiche.save_with_reason(request.user, reason or {"submit": "Soumise à relecture", "archive": "Archivée"}[action])
    messages.success(request, f"Fiche « {fiche.title} » : {fiche.get_status_display().lower()}.")
    return redirect("kb-fiche", fiche_id=fiche.pk)


def _notes_history(fiche: Fiche):
    """The versions of this fiche's notes, those written before they followed it from a fiche DILA
    redirected included (same row, another fiche id then)."""
    notes = workflow.notes_of(fiche)
    return FicheNotes.history.filter(Q(fiche_id=fiche.pk) | Q(id=notes.pk) if notes else Q(fiche_id=fiche.pk))


@roles(*STAFF)
def fiche_history(request, fiche_id: str):
    fiche = _visible_fiche(request, fiche_id)
    versions = fiche.history.select_related("history_user").order_by("-history_date", "-history_id")
    notes_versions = _notes_history(fiche).select_related("history_user", "owner") \
        .order_by("-history_date", "-history_id")
    return render(request, "kb/history.html", {
        "fiche": fiche, "versions": versions, "notes_versions": notes_versions,
        "can_restore": request.user.has_role(*REVIEWERS) and workflow.owns(request.user, fiche),
        "revisions": fiche.revisions.select_related("author", "approved_by")[:50]
        if request.user.has_role(*REVIEWERS) else [],
    })


@roles(*STAFF)
def fiche_compare(request, fiche_id: str):
    fiche = _visible_fiche(request, fiche_id)
    notes = request.GET.get("couche") == "notes"
    history = _notes_history(fiche) if notes else fiche.history
    try:
        old = history.get(history_id=int(request.GET.get("a", "")))
        new = history.get(history_id=int(request.GET.get("b", "")))
    except (ValueError, history.model.DoesNotExist):
        messages.error(request, "Choisissez deux versions de cette fiche à comparer.")
        return redirect("kb-history", fiche_id=fiche.pk)
    if old.history_date > new.history_date:
        old, new = new, old
    return render(request, "kb/compare.html", {"fiche": fiche, "old": old, "new": new, "notes": notes,
                                                "diffs": diff_versions(old, new, notes=notes)})


@roles(*REVIEWERS)
@french_refusals
@require_POST
def fiche_restore(request, fiche_id: str):
    """Bring back a past version of the fiche or of its notes: a change like any other (a second
    person publishes it when the fiche is published)."""
    fiche = get_object_or_404(Fiche, pk=fiche_id)
    workflow.check_owner(request.user, fiche)
    notes = request.POST.get("couche") == "notes"
    history = _notes_history(fiche) if notes else fiche.history
    try:
        record = history.get(history_id=int(request.POST.get("version", "")))
    except (ValueError, history.model.DoesNotExist):
        messages.error(request, "Choisissez la version à restaurer dans la liste.")
        return redirect("kb-history", fiche_id=fiche.pk)
    label = "des notes Allô" if notes else "de la fiche"
    try:
        revision = workflow.propose_change(
            fiche, workflow.restore_changes(fiche, record), author=request.user, kind=Revision.Kind.RESTORE,
            reason=f"Restauration de la version {label} du {timezone.localtime(record.history_date):%d/%m/%Y %H:%M}")
    except workflow.NothingChanged:
        messages.error(request, "Cette version a le même contenu que la version actuelle : rien à restaurer.")
        return redirect("kb-history", fiche_id=fiche.pk)
    _outcome_message(request, revision)
    return redirect("kb-fiche", fiche_id=fiche.pk)


# --- reports to DILA ---------------------------------------------------------------------


@roles(Role.OPERATOR, Role.EXPERT, Role.EDITOR)
@french_refusals
def dila_report_new(request, fiche_id: str):
    """Report an error in DILA's official text (from the fiche, or from a proposal a reviewer
    finds is about DILA's text rather than Allô's notes)."""
    fiche = _visible_fiche(request, fiche_id)
    if not fiche.is_official:
        messages.info(request, "Cette fiche est une fiche du 3939 : proposez directement la correction.")
        return redirect("kb-propose", fiche_id=fiche.pk)
    proposal = None
    if request.GET.get("proposition"):
        proposal = get_object_or_404(CorrectionProposal, pk=request.GET["proposition"], fiche=fiche,
                                     status=CorrectionProposal.Status.OPEN)
        if not request.user.has_role(*REVIEWERS):
            raise workflow.NotAllowed("Seuls les relecteurs transforment une proposition en signalement à la DILA.")
        workflow.check_owner(request.user, proposal.fiche)
    initial = {"problem": proposal.reason, "passage": proposal.base_text} if proposal else {}
    form = DilaReportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            report = form.save(commit=False)
            report.fiche, report.author, report.proposal = fiche, request.user, proposal
            report._history_user, report._change_reason = request.user, "Signalement créé"
            report.save()
            if proposal is not None:
                proposal.status, proposal.reviewer, proposal.reviewed_at = (
                    CorrectionProposal.Status.TO_DILA, request.user, timezone.now())
                proposal.review_note = "Le texte officiel est en cause : signalé à la DILA."
                proposal.save()
        messages.success(request, "Merci : l'erreur est enregistrée ; les rédacteurs la transmettront à la DILA.")
        return redirect("kb-fiche", fiche_id=fiche.pk)
    return render(request, "kb/dila_report_form.html", {"fiche": fiche, "form": form, "proposal": proposal})


def _dila_filter(request):
    status = request.GET.get("etat", DilaReport.Status.TO_SEND)
    reports = DilaReport.objects.select_related("fiche", "author").order_by("-created_at")
    if status in DilaReport.Status.values:
        reports = reports.filter(status=status)
    else:
        status = ""
    return status, reports


@roles(Role.EDITOR)
def dila_reports(request):
    status, reports = _dila_filter(request)
    counts = {s: 0 for s in DilaReport.Status.values} | dict(
        DilaReport.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return render(request, "kb/dila_reports.html", {
        "reports": reports[:500], "status": status, "status_choices": DilaReport.Status.choices,
        "statuses": [(value, label, counts[value]) for value, label in DilaReport.Status.choices],
    })


@roles(Role.EDITOR)
@require_POST
def dila_report_status(request, pk: int):
    report = get_object_or_404(DilaReport, pk=pk)
    form = DilaStatusForm(request.POST)
    if form.is_valid():
        report.set_status(form.cleaned_data["status"], request.user, form.cleaned_data["note"] or None)
        messages.success(request, f"Signalement sur {report.fiche_id} : {report.get_status_display().lower()}.")
    else:
        messages.error(request, "Choisissez un état dans la liste.")
    back = request.POST.get("retour", "")  # the list with the filter the editor was looking at
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("kb-dila-reports")
    return redirect(back)


@roles(Role.EDITOR)
@require_POST
def dila_reports_mark_sent(request):
    """The reports just exported and sent to DILA, marked as sent in one go."""
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    reports = DilaReport.objects.filter(pk__in=ids, status=DilaReport.Status.TO_SEND)
    if not ids:
        messages.error(request, "Aucun signalement choisi.")
        return redirect("kb-dila-reports")
    count = 0
    for report in reports:
        report.set_status(DilaReport.Status.SENT, request.user)
        count += 1
    messages.success(request, f"{count} signalement(s) marqué(s) comme transmis à la DILA.")
    return redirect("kb-dila-reports")


@roles(Role.EDITOR)
def dila_reports_export(request):
    """The reports of one status (by default those to send) as CSV, to send to DILA."""
    status, reports = _dila_filter(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="signalements-dila-{status or "tous"}-' \
                                      f'{timezone.localdate():%Y-%m-%d}.csv"'
    response.write("\ufeff")  # the BOM makes spreadsheet software read the accents right
    writer = csv.writer(response, delimiter=";")
    writer.writerow(["numéro", "fiche", "titre", "adresse", "passage concerné", "ce qui est faux", "source",
                     "signalé le", "état", "suivi"])
    for report in reports:
        writer.writerow([report.pk, report.fiche_id, report.fiche.title, service_public_url(report.fiche),
                         report.passage, report.problem, report.source,
                         timezone.localtime(report.created_at).strftime("%d/%m/%Y"), report.get_status_display(),
                         report.note])
    return response


def service_public_url(fiche: Fiche) -> str:
    space = {"professionnel": "professionnels-entreprises", "association": "associations"}.get(
        fiche.audience, "particuliers")
    return f"https://www.service-public.gouv.fr/{space}/vosdroits/{fiche.pk}"


@roles(Role.EDITOR)
def synonyms(request):
    form = SynonymForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Synonymes ajoutés : la recherche en tient compte dès maintenant.")
        return redirect("kb-synonyms")
    return render(request, "kb/synonyms.html", {"form": form, "synonyms": Synonym.objects.all()})


@roles(Role.EDITOR)
@require_POST
def synonym_toggle(request, pk: int):
    synonym = get_object_or_404(Synonym, pk=pk)
    synonym.active = not synonym.active
    synonym.save()
    return redirect("kb-synonyms")


def editor_dashboard_context(user=None) -> dict:
    """The editors' desk; an expert sees the proposals and changes of the fiches their centre owns."""
    today = timezone.localdate()
    mine = workflow.owned_by(user) if user is not None else Q()
    fiches = Fiche.objects.filter(mine)
    open_revisions = Revision.objects.filter(fiche__in=fiches) if user is not None and not user.has_role(
        Role.EDITOR) else Revision.objects.all()
    return {
        "due": fiches.due_for_review(today).select_related("theme").order_by("review_by")[:50],
        "due_count": fiches.due_for_review(today).count(),
        "notes_due": FicheNotes.objects.filter(review_by__lt=today, fiche__in=fiches).select_related("fiche")
        .order_by("review_by")[:50],
        "proposals": CorrectionProposal.objects.filter(status=CorrectionProposal.Status.OPEN, fiche__in=fiches)
        .select_related("fiche", "author")[:50],
        "pending": open_revisions.filter(status=Revision.Status.PENDING).select_related("fiche", "author")[:50],
        "scheduled": open_revisions.filter(status=Revision.Status.SCHEDULED).select_related("fiche", "author")
        .order_by("effective_on")[:50],
        "dila_to_send": DilaReport.objects.filter(status=DilaReport.Status.TO_SEND).count(),
        "in_review": fiches.filter(status__in=[Fiche.Status.DRAFT, Fiche.Status.IN_REVIEW]).order_by("-updated_at"),
        "counts": {status.label: Fiche.objects.filter(status=status).count() for status in Fiche.Status},
    }
