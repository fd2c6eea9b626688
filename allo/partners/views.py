"""Pages of the partners capability (French, DSFR):

- the desk's « fiche de liaison » (operators, experts): POST from the desk, htmx or plain form;
- « Fiches de liaison » of the 3939 (operators: theirs; supervisors: all): their status;
- the partner's space (role `partner`, scoped to its own administration by `PartnerAgent`): its
  figures for a month, its top themes and fiches, its fiches de liaison and the action to mark one
  handled, the month's CSV, ODS and PDF. An administrator sees any partner's space (`?partenaire=<code>`).

No page of the partner's space shows a caller's number: only the number a caller gave, with consent,
for the partner to call back, on that fiche's own page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from allo.accounts.access import roles
from allo.accounts.roles import Role
from allo.partners import liaisons, space
from allo.partners.models import Liaison, LiaisonAudit, Partner, PartnerAgent
from allo.reports import spreadsheets
from allo.reports.http import download, pdf_download

# ------------------------------------------------------------------------------------------ the desk


def desk_context(request, contact) -> dict:
    """What the desk's « fiche de liaison » section shows for the call: the form (a refused one with
    what was typed) and the fiches already sent for this call with their status."""
    form = getattr(request, "allo_liaison_form", None) or liaisons.LiaisonForm.initial(contact.partner_id)
    sent = list(Liaison.objects.filter(contact=contact).select_related("partner").order_by("created"))
    if sent:
        liaisons.audit(sent, request.user, LiaisonAudit.Action.VIEWED)
    return {"contact": contact, "values": form.values, "errors": form.errors, "focus": form.first_error,
            "partners": list(Partner.objects.filter(active=True).order_by("name").values("id", "name")),
            "sent": sent, "request": request, "created": getattr(request, "allo_liaison_created", None)}


@roles(Role.OPERATOR, Role.EXPERT)
@require_POST
def desk_liaison(request, call_id: str):
    """Send a fiche de liaison for the agent's current (or just ended) call."""
    from allo.contact_centre.desks.views import _space, desk
    from allo.contact_centre.models import Contact
    from allo.contact_centre.router import config as cfg

    user = request.user
    contact = Contact.objects.filter(pk=call_id, agent=user.username).first()
    if contact is None:
        messages.error(request, "Cet appel n'est pas (ou plus) le vôtre.")
        return redirect(_space(user))
    form = liaisons.LiaisonForm(request.POST)
    if form.is_valid():
        liaison = liaisons.create(form, contact=contact, user=user, base_url=request.build_absolute_uri("/"))
        if not request.htmx:
            messages.success(request, f"Fiche de liaison n° {liaison.pk} transmise à {liaison.partner.name}.")
            return redirect(_space(user))
        request.allo_liaison_created = liaison
    else:
        request.allo_liaison_form = form
    if request.htmx:  # the section alone: what the agent typed in the wrap-up stays as it is
        return render(request, "partners/_desk_liaison.html", desk_context(request, contact))
    profile = cfg.agent_profile(user)
    response = desk(request, profile["level"] if profile else 1)
    response.status_code = 400
    return response


@roles(Role.OPERATOR, Role.EXPERT, Role.SUPERVISOR)
@require_GET
def liaison_list(request):
    """The 3939's fiches de liaison and their status: an agent's own, every one for a supervisor."""
    rows = Liaison.objects.select_related("partner", "created_by").order_by("-created")
    if not request.user.has_role(Role.SUPERVISOR):
        rows = rows.filter(created_by=request.user)
    status = request.GET.get("etat", "")
    if status in Liaison.Status.values:
        rows = rows.filter(status=status)
    rows = list(rows[:200])
    liaisons.audit(rows, request.user, LiaisonAudit.Action.VIEWED)
    return render(request, "partners/liaison_list.html", {"rows": rows, "status": status,
                                                          "statuses": Liaison.Status.choices})


# ------------------------------------------------------------------------------------------ partner space


def partner_of(request) -> Partner:
    """The partner whose space this is: the account's own; for an administrator, `?partenaire=<code>`
    (by default the first one)."""
    agent = PartnerAgent.objects.filter(user=request.user).select_related("partner").first()
    if agent is not None:
        return agent.partner
    if Role.ADMINISTRATOR in request.user.roles:
        code = request.GET.get("partenaire", "")
        partner = Partner.objects.filter(code=code).first() if code else None
        partner = partner or Partner.objects.order_by("name").first()
        if partner is not None:
            return partner
        raise Http404("Aucun partenaire n'est enregistré.")
    raise PermissionDenied("Votre compte n'est rattaché à aucune administration partenaire.")


def _admin_query(request, partner: Partner) -> str:
    """The partner chosen by an administrator, carried from page to page."""
    if Role.ADMINISTRATOR in request.user.roles and not PartnerAgent.objects.filter(user=request.user).exists():
        return f"&partenaire={partner.code}"
    return ""


@roles(Role.PARTNER)
@require_GET
def partner_space(request):
    partner = partner_of(request)
    first, error = space.month_of(request.GET.get("mois", ""))
    data = space.report(partner, first)
    cases = list(partner.liaisons.order_by("status", "-created")[:100])
    liaisons.audit(cases, request.user, LiaisonAudit.Action.VIEWED)
    months = [first.replace(day=1)]
    for _ in range(11):
        prev = months[-1] - space.dt.timedelta(days=1)
        months.append(prev.replace(day=1))
    return render(request, "partners/space.html", {
        "partner": partner, "data": data, "error": error, "month": first, "columns": space.COLUMNS,
        "months": [(m, space.month_label(m)) for m in sorted(set(months) | {space.month_of("")[0]}, reverse=True)],
        "top": space.top_questions(partner, first), "cases": cases,
        "open_cases": sum(1 for c in cases if c.status == Liaison.Status.SENT),
        "is_admin": Role.ADMINISTRATOR in request.user.roles and not hasattr(request.user, "partner_agent"),
        "partners": Partner.objects.order_by("name"), "admin_query": _admin_query(request, partner),
    })


@roles(Role.PARTNER)
@require_GET
def partner_report(request, fmt: str):
    """The month's report as CSV, ODS or XLSX (its tables: per day, per hour) or PDF (with its chart)."""
    partner = partner_of(request)
    first, _ = space.month_of(request.GET.get("mois", ""))
    data = space.report(partner, first)
    tables = space.report_tables(partner, data)
    name = f"appels-{partner.code}-{first:%Y-%m}.{fmt}"
    if fmt == "pdf":
        from allo.partners.pdf import report_pdf

        return pdf_download(lambda: report_pdf(partner.name, data, space.top_questions(partner, first), tables), name)
    return download(*spreadsheets.render(tables, fmt), name)


@roles(Role.PARTNER)
@require_http_methods(["GET", "POST"])
def partner_liaison(request, pk: int):
    """One fiche de liaison of the partner's own, and the action to mark it handled."""
    agent = PartnerAgent.objects.filter(user=request.user).select_related("partner").first()
    if agent is None and Role.ADMINISTRATOR not in request.user.roles:
        raise PermissionDenied("Votre compte n'est rattaché à aucune administration partenaire.")
    rows = Liaison.objects.select_related("partner", "created_by", "handled_by")
    if agent is not None:
        rows = rows.filter(partner=agent.partner)
    liaison = rows.filter(pk=pk).first()
    if liaison is None:  # another partner's fiche is as unknown as a missing one
        raise Http404("Fiche de liaison inconnue.")
    partner = liaison.partner
    error, answer = "", ""
    if request.method == "POST":
        answer = request.POST.get("answer", "")
        if liaison.status == Liaison.Status.HANDLED:
            messages.info(request, "Cette fiche était déjà marquée comme traitée.")
            return redirect(reverse("partner-liaison", args=[pk]) + _admin_query(request, partner).replace("&", "?"))
        error = liaisons.mark_handled(liaison, request.user, answer)
        if not error:
            messages.success(request, f"Fiche de liaison n° {liaison.pk} marquée comme traitée.")
            return redirect(reverse("partner-space") + _admin_query(request, partner).replace("&", "?", 1))
    else:
        liaisons.audit([liaison], request.user, LiaisonAudit.Action.VIEWED)
    response = render(request, "partners/liaison_detail.html", {
        "partner": partner, "l": liaison, "error": error, "answer": answer, "answer_max": liaisons.ANSWER_MAX,
        "admin_query": _admin_query(request, partner)})
    if error:
        response.status_code = 400
    return response
