"""Knowledge-base pages for staff: search (operators), fiche view, corrections, editing, versions."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from allo.accounts.access import roles
from allo.accounts.roles import Role
from allo.kb.diff import diff_versions
from allo.kb.forms import FicheForm, ProposalForm, ReviewForm, SynonymForm
from allo.kb.models import CorrectionProposal, Fiche, Synonym, Theme
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


@roles(*STAFF)
def fiche_detail(request, fiche_id: str):
    fiche = _visible_fiche(request, fiche_id)
    return render(request, "kb/fiche.html", {
        "fiche": fiche,
        "can_edit": request.user.has_role(Role.EDITOR),
        "open_proposals": fiche.proposals.filter(status=CorrectionProposal.Status.OPEN).count(),
    })


@roles(Role.OPERATOR, Role.EXPERT, Role.EDITOR)
def propose_correction(request, fiche_id: str):
    fiche = _visible_fiche(request, fiche_id)
    form = ProposalForm(request.POST or None, initial={"section": request.GET.get("section", "")})
    if request.method == "POST" and form.is_valid():
        proposal = form.save(commit=False)
        proposal.fiche, proposal.author = fiche, request.user
        proposal.save()
        messages.success(request, "Merci : votre proposition de correction a été transmise aux relecteurs.")
        return redirect("kb-fiche", fiche_id=fiche.pk)
    return render(request, "kb/propose.html", {"fiche": fiche, "form": form})


@roles(*REVIEWERS)
def review_proposal(request, pk: int):
    proposal = get_object_or_404(CorrectionProposal.objects.select_related("fiche", "author"), pk=pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and proposal.status != CorrectionProposal.Status.OPEN:
        messages.error(request, "Cette proposition a déjà été examinée.")
    elif request.method == "POST" and form.is_valid():
        with transaction.atomic():
            fiche = Fiche.objects.select_for_update().get(pk=proposal.fiche_id)
            accepted = form.cleaned_data["decision"] == "accept"
            proposal.status = CorrectionProposal.Status.ACCEPTED if accepted else CorrectionProposal.Status.REJECTED
            proposal.reviewer, proposal.reviewed_at = request.user, timezone.now()
            proposal.review_note = form.cleaned_data["note"]
            proposal.save()
            if accepted and proposal.section and proposal.proposed_text.strip():
                fiche.sections = {**fiche.sections, proposal.section: proposal.proposed_text.strip()}
                author = proposal.author.get_full_name() or proposal.author
                fiche.save_revision(request.user, f"Correction proposée par {author} : {proposal.reason[:200]}")
        messages.success(request, "Proposition acceptée." if accepted else "Proposition refusée.")
        return redirect("space-editor")
    return render(request, "kb/review.html", {"proposal": proposal, "fiche": proposal.fiche, "form": form})


@roles(Role.EDITOR)
def fiche_edit(request, fiche_id: str | None = None):
    fiche = get_object_or_404(Fiche, pk=fiche_id) if fiche_id else Fiche(status=Fiche.Status.DRAFT)
    form = FicheForm(request.POST or None, instance=fiche)
    if request.method == "POST" and form.is_valid():
        fiche = form.save(commit=False)
        fiche.save_revision(request.user, form.cleaned_data["reason"])
        messages.success(request, "Fiche enregistrée.")
        return redirect("kb-fiche", fiche_id=fiche.pk)
    return render(request, "kb/edit.html", {"fiche": fiche, "form": form})


@roles(*REVIEWERS)
@require_POST
def fiche_transition(request, fiche_id: str, action: str):
    """draft -> review (submit), review -> published (publish), any -> archived (archive)."""
    fiche = get_object_or_404(Fiche, pk=fiche_id)
    reason = request.POST.get("reason", "").strip()
    allowed = {
        "submit": {Fiche.Status.DRAFT},
        "publish": {Fiche.Status.IN_REVIEW, Fiche.Status.ARCHIVED},
        "archive": {Fiche.Status.DRAFT, Fiche.Status.IN_REVIEW, Fiche.Status.PUBLISHED},
    }
    if action not in allowed:
        raise Http404("Action inconnue")
    if fiche.status not in allowed[action]:
        messages.error(request, f"Action impossible : la fiche est « {fiche.get_status_display()} ».")
        return redirect("kb-fiche", fiche_id=fiche.pk)
    if action == "publish":
        fiche.publish(request.user, reason or "Publication après relecture")
    else:
        fiche.status = Fiche.Status.IN_REVIEW if action == "submit" else Fiche.Status.ARCHIVED
        fiche.save_with_reason(request.user, reason or {"submit": "Soumise à relecture", "archive": "Archivée"}[action])
    messages.success(request, f"Fiche « {fiche.title} » : {fiche.get_status_display().lower()}.")
    return redirect("kb-fiche", fiche_id=fiche.pk)


@roles(*STAFF)
def fiche_history(request, fiche_id: str):
    fiche = _visible_fiche(request, fiche_id)
    versions = fiche.history.select_related("history_user").order_by("-history_date", "-history_id")
    return render(request, "kb/history.html", {"fiche": fiche, "versions": versions})


@roles(*STAFF)
def fiche_compare(request, fiche_id: str):
    fiche = _visible_fiche(request, fiche_id)
    try:
        old = fiche.history.get(history_id=int(request.GET.get("a", "")))
        new = fiche.history.get(history_id=int(request.GET.get("b", "")))
    except (ValueError, fiche.history.model.DoesNotExist):
        messages.error(request, "Choisissez deux versions de cette fiche à comparer.")
        return redirect("kb-history", fiche_id=fiche.pk)
    if old.history_date > new.history_date:
        old, new = new, old
    return render(request, "kb/compare.html", {"fiche": fiche, "old": old, "new": new,
                                                "diffs": diff_versions(old, new)})


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


def editor_dashboard_context() -> dict:
    today = timezone.localdate()
    return {
        "due": Fiche.objects.due_for_review(today).select_related("theme").order_by("review_by")[:50],
        "due_count": Fiche.objects.due_for_review(today).count(),
        "proposals": CorrectionProposal.objects.filter(status=CorrectionProposal.Status.OPEN)
        .select_related("fiche", "author")[:50],
        "in_review": Fiche.objects.filter(status__in=[Fiche.Status.DRAFT, Fiche.Status.IN_REVIEW]).order_by("-updated_at"),
        "counts": {status.label: Fiche.objects.filter(status=status).count() for status in Fiche.Status},
    }
