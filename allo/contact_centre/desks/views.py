"""Operator (N1) and expert (N2) desks: server-rendered pages, live offers pushed over ws/desk/.

Every action is a POST that writes one router input and comes back to the desk (works without
JavaScript; the script only reloads the desk when the router pushes an offer or a state change).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from allo.accounts.access import roles
from allo.accounts.roles import Role
from allo.contact_centre import services
from allo.contact_centre.models import AgentStatus, CallerCardView, Contact, OutcomeKind
from allo.contact_centre.router import config as cfg
from allo.routing import kpi

PAUSE_REASONS = ["Pause", "Repas", "Formation", "Réunion", "Problème technique"]


def _space(user) -> str:
    profile = cfg.agent_profile(user)
    return "space-expert" if profile and profile["level"] == 2 else "space-operator"


def _destinations():
    """N2 domains with their open/closed state, experts ready (a consult needs one) and current wait."""
    from allo.org.models import Centre

    waits = services.queue_waits()
    ready_queues = [set(q.split(",")) for q in AgentStatus.objects.filter(state="available", level=2)
                    .values_list("queues", flat=True)]
    out = []
    for domain, label in cfg.DOMAINS:
        centres = list(Centre.objects.filter(active=True, domain=domain).prefetch_related("opening_periods",
                                                                                             "closures"))
        is_open = any(cfg.always_open() or c.is_open() for c in centres)
        waiting = sum(waits.get(c.code, {}).get("waiting", 0) for c in centres)
        longest = max([waits.get(c.code, {}).get("longest_wait_s", 0) for c in centres] or [0])
        expected = [services.estimated_wait_seconds(c.code) for c in centres]
        expected = [e for e in expected if e is not None]
        codes = {cfg.queue_for_centre(c) for c in centres}
        ready = sum(1 for queues in ready_queues if queues & codes) if is_open else 0
        out.append({"domain": domain, "label": label, "open": is_open, "waiting": waiting, "longest_wait_s": longest,
                    "expected_wait_s": round(min(expected)) if expected else None, "centres": len(centres),
                    "ready": ready})
    return out


def desk(request, level: int, kb: dict | None = None, wrapup_form=None, searching: bool = False):
    """The desk page. `kb`: what its knowledge-base panel shows (allo/contact_centre/desks/fiche_panel.py);
    by default the hits of `?q=`. `wrapup_form`: a wrap-up form shown again (refused, or searching fiches)."""
    from allo.contact_centre.desks import fiche_panel, wrapup

    user = request.user
    profile = cfg.agent_profile(user)
    state = services.agent_state(user.username)
    contact = None
    history: list = []
    elapsed = None
    if state["state"] in ("on_call", "wrap_up") and state["contact"]:
        contact = Contact.objects.filter(pk=state["contact"]).first()
    if contact is None and state["state"] == "wrap_up":
        contact = Contact.objects.filter(agent=user.username).order_by("-created").first()
    if contact is not None:
        # personal data shown: the audit trail records who saw which caller's card
        CallerCardView.objects.create(user=user, contact=contact.pk, caller=contact.caller)
        history = services.earlier_contacts(contact.caller, exclude=contact.pk)
        if contact.offered_t is not None:
            elapsed = max(0, round(cfg.now_t() - contact.offered_t))
    context = {
        "level": level, "profile": profile, "state": state, "contact": contact, "history": history,
        "elapsed": elapsed, "target_s": round(kpi.N1_FAST_S), "pause_reasons": PAUSE_REASONS,
        "destinations": _destinations() if level == 1 else [],
        "ctx": (contact.context or {}) if contact else {},
        # the wait before this agent answered: at N2, the N2 wait (the N1 wait stays in waited_s)
        "waited_total": round((contact.waited_n2_s if level == 2 else contact.waited_s) or 0) if contact else None,
        "kb": kb if kb is not None else fiche_panel.search_context(request.GET.get("q", "")[:500]),
        "space_url": reverse("space-expert" if level == 2 else "space-operator"),
    }
    from allo.voice import credentials

    if credentials.voice_edge():  # « Mon téléphone »: the SIP account and the phone's registered state
        context["phone"] = credentials.phone_context(user)
    if contact is not None and level == 2 and contact.context:
        context["fiche_for_proposal"] = contact.context.get("fiche") or ""
    consult = _consult_context(contact, user.username) if contact is not None else None
    context["consult"] = consult
    consulted = consult is not None and consult["role"] == "expert"  # the caller is still the N1 agent's
    if contact is not None and state["state"] == "on_call" and not consulted:
        context["wrapup"] = wrapup.form_context(contact, level, wrapup_form, searching)
    if wrapup_form is not None:
        context["reload_url"] = context["space_url"]  # a POST's answer: the live feed reloads the desk's address
    return render(request, "contact_centre/desk.html", context)


@roles(Role.OPERATOR, Role.EXPERT)
@require_POST
def set_state(request):
    user = request.user
    profile = cfg.agent_profile(user)
    if profile is None:
        raise Http404
    action = request.POST.get("action")
    state = services.agent_state(user.username)["state"]
    if action == "ready":
        services.agent_action(user.username, "resume" if state == "paused" else "login", profile=profile)
        messages.success(request, "Vous êtes prêt à recevoir des appels.")
    elif action == "pause":
        reason = request.POST.get("reason", "Pause")
        if reason not in PAUSE_REASONS:
            reason = "Pause"
        if state == "offline":
            services.agent_action(user.username, "login", profile=profile)
        services.agent_action(user.username, "pause", reason=reason)
        messages.info(request, f"En pause : {reason}.")
    elif action == "logout":
        services.agent_action(user.username, "logout")
        messages.info(request, "Fin de service enregistrée.")
    else:
        messages.error(request, "Action inconnue.")
    _settle()
    return redirect(_space(user))


def _settle():
    """Embedded router: let it apply what was just written so the desk shows the new state."""
    from allo.contact_centre.router.service import current

    router = current()
    if router is not None and router.threaded:
        import time

        deadline = time.monotonic() + 1.0
        from allo.contact_centre.models import RouterInput

        while time.monotonic() < deadline and RouterInput.objects.filter(seq__isnull=True).exists():
            time.sleep(0.02)


@roles(Role.OPERATOR, Role.EXPERT)
@require_POST
def end_call(request, call_id: str):
    """End of the conversation with its wrap-up (allo/contact_centre/desks/wrapup.py). A refused form,
    or the wrap-up's own fiche search without JavaScript, shows the desk again with all that was typed."""
    from allo.contact_centre.desks.wrapup import WrapUpForm

    user = request.user
    contact = Contact.objects.filter(pk=call_id, agent=user.username).first()
    if contact is None:
        messages.error(request, "Cet appel n'est pas (ou plus) le vôtre.")
        return redirect(_space(user))
    profile = cfg.agent_profile(user)
    level = profile["level"] if profile else 1
    form = WrapUpForm(request.POST, level=level, caller=contact.caller)
    if "chercher_fiche" in request.POST:  # the wrap-up's fiche search, without JavaScript
        return desk(request, level, wrapup_form=form, searching=True)
    if not form.is_valid():
        response = desk(request, level, wrapup_form=form)
        response.status_code = 400
        return response
    data = form.cleaned
    outcome = data["outcome"]
    fiches = [f.id for f in data["fiches"]]
    services.record_wrap_up(contact, user, fiches=fiches, theme=data["theme"], top_theme=data["top_theme"],
                            outcome=outcome, reason=data["reason"], note=data["note"], level=level)
    # during a consult, a transfer to its destination hands the caller to the consulted expert; any other
    # end cancels the consult (the router decides, on its own state: no race with the desk's page)
    consulted = bool(contact.consult_agent and data["transfer"]
                     and data["transfer"] == (contact.context or {}).get("domain"))
    services.end_call(user.username, call_id, transfer=data["transfer"], question=data["question"],
                      fiche=fiches[0] if fiches else "", note=data["note"])
    if data["callback_at"] is not None:
        services.schedule_callback(contact.caller, data["callback_at"], note=data["note"], origin=f"appel {call_id}")
    services.end_wrap_up(user.username, key=f"wrapup:{call_id}:{user.username}")
    messages.success(request, "Appel transféré à l'expert consulté." if consulted else {
        OutcomeKind.TRANSFERRED: "Appel transféré avec son contexte.", OutcomeKind.CALLBACK: "Rappel programmé.",
    }.get(outcome.kind, "Appel clôturé."))
    _settle()
    return redirect(_space(user))


CONSULT_ENDINGS = {
    "unavailable": ("warning", "Aucun expert n'est prêt pour cette destination : transférez l'appel en file "
                               "d'attente (issue « transfert ») ou proposez un rappel."),
    "closed": ("warning", "Cette destination est fermée : proposez un rappel à l'appelant."),
    "declined": ("warning", "L'expert a mis fin à la consultation : l'appelant est de nouveau en ligne avec vous."),
    "no_answer": ("warning", "Le poste de l'expert n'a pas répondu : l'appelant est de nouveau en ligne avec vous."),
    "cancelled": ("info", "Consultation terminée : l'appelant est de nouveau en ligne avec vous."),
}


def _person(username: str) -> str:
    """How a colleague is named on a desk: « Camille Martin (operateur) », the username alone if no name."""
    from allo.accounts.models import User

    user = User.objects.filter(username=username).first()
    name = user.get_full_name() if user else ""
    return f"{name} ({username})" if name else username


def _consult_context(contact: Contact, username: str) -> dict | None:
    """The consult as this desk shows it: the N1 agent's (expert, or how it ended) or the expert's."""
    ctx = contact.context or {}
    label = dict(cfg.DOMAINS).get(ctx.get("domain") or "", ctx.get("domain") or "")
    if contact.consult_agent and contact.consult_agent == username and contact.agent != username:
        return {"role": "expert", "operator": _person(contact.agent), "domain": label}
    if contact.agent != username or contact.state != "connected":
        return None
    if contact.consult_agent:
        return {"role": "operator", "expert": _person(contact.consult_agent), "domain": label,
                "domain_code": ctx.get("domain")}
    ending = CONSULT_ENDINGS.get(contact.consult_outcome)
    if ending:
        return {"role": "ended", "level": ending[0], "message": ending[1], "domain": label}
    return None


@roles(Role.OPERATOR, Role.EXPERT)
@require_POST
def consult(request, call_id: str):
    """« Consulter un expert » (N1): the wrap-up form's destination, question, first fiche and note go to
    the expert the router reserves; the caller holds. The rest of the form is filled at the end."""
    user = request.user
    contact = Contact.objects.filter(pk=call_id, agent=user.username, state="connected").first()
    if contact is None:
        messages.error(request, "Cet appel n'est pas (ou plus) le vôtre.")
        return redirect(_space(user))
    domain = request.POST.get("transfer", "")
    if domain not in dict(cfg.DOMAINS):
        messages.error(request, "Choisissez la destination à consulter (« Transfert vers »).")
        return redirect(_space(user))
    from allo.contact_centre.desks.wrapup import fiche_ids

    fiches = fiche_ids(request.POST.getlist("fiches"))
    services.consult(user.username, call_id, domain, question=request.POST.get("question", "")[:500],
                     fiche=fiches[0] if fiches else "", note=request.POST.get("note", "")[:2000])
    messages.info(request, f"Consultation demandée ({dict(cfg.DOMAINS)[domain]}) : l'appelant est mis en attente.")
    _settle()
    return redirect(_space(user))


@roles(Role.OPERATOR, Role.EXPERT)
@require_POST
def consult_end(request, call_id: str):
    """« Reprendre l'appelant » (N1) or « Décliner » (the expert). Completing is the wrap-up's transfer."""
    user = request.user
    contact = Contact.objects.filter(pk=call_id).exclude(consult_agent="").first()
    if contact is None or user.username not in (contact.agent, contact.consult_agent):
        messages.error(request, "Aucune consultation en cours sur cet appel.")
        return redirect(_space(user))
    services.consult_end(user.username, call_id)
    if user.username == contact.consult_agent:
        messages.info(request, "Consultation déclinée : l'opérateur reprend l'appelant.")
    _settle()
    return redirect(_space(user))


@roles(Role.OPERATOR, Role.EXPERT)
def wrapup_fiches(request):
    """The wrap-up's fiches (htmx): those ticked stay ticked, the search's hits come below them."""
    from allo.contact_centre.desks import wrapup

    chosen = wrapup.fiche_ids(request.GET.getlist("fiches"))[:wrapup.MAX_FICHES]
    query = request.GET.get("fiche_q", "")[:200]
    return render(request, "contact_centre/_wrapup_fiches.html",
                  {"fiches": wrapup.fiche_choices(chosen, query, searched=True)})
