"""The citizen portal: home, themes, fiches, search, feedback, contact and callback; editors' statistics."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import nh3
from django.conf import settings
from django.core import signing
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from allo.accounts.access import public, roles
from allo.accounts.roles import Role
from allo.kb.importers.dila.render import SECTION_TITLES
from allo.kb.models import Fiche, Theme
from allo.org.hours import local_now
from allo.org.models import Closure
from allo.portal import analytics, callbacks, catalogue, charts, official_text, ratelimit
from allo.portal.forms import CallbackForm, FeedbackForm
from allo.portal.live import estimated_wait_seconds
from allo.portal.models import Feedback
from allo.routing.hours import next_holidays
from allo.web.pagecache import replay_on_hit, shared_cache, views_logged_by_proxy

logger = logging.getLogger(__name__)

SEARCH_LIMIT = 50  # hits fetched once; theme facets are counted on them
PAGE_HITS = 20
RELEVANT_SHARE = 0.2  # beyond the first ALWAYS_SHOWN, hits scoring under this share of the best one are not shown
# The re-ranked scores fall steeply below a confident first hit (exp of the difference): cut at a share
# alone, 18 of the 160 answerable questions of the real dev set showed a single result, and 16 had
# their answer in the first ten yet hidden. A first page is always shown; the cut trims the tail.
ALWAYS_SHOWN = 10
FEEDBACK_LIMIT = (20, 3600)  # feedback per client per hour
CALLBACK_SALT = "allo.portal.callback"
# Public pages are the same for every anonymous visitor: the shared page cache (allo.web.pagecache)
# serves them again for this long; a change in the knowledge base clears it at once in this process.
PAGE_SECONDS = 10
PAGE_STALE_SECONDS = 20  # after that, while one request renders the page again, others get the last copy


def _counted(request, response, event: dict):
    """A cacheable page's analytics event: counted now, and again on each hit of its cached copy
    (nginx in front, which logs every page it serves, counts them all: docs/deploy.md)."""
    if not views_logged_by_proxy(request):
        analytics.record(event)
    replay_on_hit(response, event)
    return response


def _line_context() -> dict:
    line, status = catalogue.line_status()
    return {"line": line, "line_status": status}


@public
@shared_cache(PAGE_SECONDS, stale=PAGE_STALE_SECONDS)
def home(request):
    return render(request, "portal/home.html", _line_context() | {
        "audiences": catalogue.audiences(), "popular": catalogue.popular_fiches(),
        "howto": catalogue.dila_lists().get("particulier", {}).get("howto", [])[:8],
    })


@public
def browse(request):
    """/themes/ or /fiches/ (an address shortened by hand): every theme, on the home page."""
    return redirect(reverse("home") + "#themes")


@public
@shared_cache(PAGE_SECONDS, stale=PAGE_STALE_SECONDS)
def theme(request, theme_slug: str):
    """Any node of the theme tree: a theme, a sous-thème or a dossier (a sous-dossier is a part of
    its dossier's page)."""
    tree = catalogue.tree()
    node = tree.nodes.get(theme_slug) or tree.nodes.get(tree.by_dila.get(theme_slug.upper(), ""))
    if node is None or node.slug not in tree.populated:
        raise Http404("Thème inconnu.")
    if node.kind == Theme.Kind.SUBDOSSIER or node.slug != theme_slug:
        return HttpResponsePermanentRedirect(node.url)
    crumbs = tree.crumbs(node.slug)
    crumbs[-1] = (node.label, None)
    context = {"node": node, "crumbs": crumbs, **_line_context()}
    if node.kind == Theme.Kind.THEME:
        return render(request, "portal/theme.html", context | {
            "sections": catalogue.theme_sections(node.slug), "local": catalogue.local_fiches(node.slug)})
    if node.kind == Theme.Kind.SUBTHEME:
        return render(request, "portal/subtheme_node.html", context | {"dossiers": tree.kids(node.slug)})
    return render(request, "portal/dossier.html", context | {"groups": catalogue.dossier_groups(node.slug)})


@public
@shared_cache(PAGE_SECONDS, stale=PAGE_STALE_SECONDS)
def subtheme(request, theme_slug: str, subtheme_slug: str):
    """A sub-theme of the line's own fiches (« Fiches du 3939 »)."""
    node = catalogue.tree().nodes.get(theme_slug)
    found = catalogue.local_subtheme(theme_slug, subtheme_slug) if node else None
    if found is None:
        raise Http404("Sous-thème inconnu.")
    label, fiches = found
    return render(request, "portal/subtheme.html", _line_context() | {
        "theme": node, "subtheme_label": label, "fiches": fiches,
        "crumbs": [(node.label, node.url), (f"Fiches du 3939 : {label}", None)]})


def fiche_body_html(fiche: catalogue.PublicFiche) -> str:
    """A local fiche's content (no form, nothing per request), rendered once per KB version."""
    return catalogue.cached("fiche-html", catalogue.KB_VERSION_KEY, fiche.id,
                            lambda: mark_safe(render_to_string("portal/_fiche_body.html", {"fiche": fiche})))


def _crumbs(fiche: catalogue.PublicFiche) -> list[tuple[str, str | None]]:
    tree = catalogue.tree()
    if fiche.official and fiche.node in tree.nodes:
        crumbs = tree.crumbs(fiche.node)
    else:
        crumbs = [(fiche.theme_label, reverse("portal-theme", args=[fiche.theme]))]
        if fiche.subtheme:
            crumbs.append((f"Fiches du 3939 : {fiche.subtheme}",
                           reverse("portal-subtheme", args=[fiche.theme, fiche.subtheme_slug])))
    return crumbs + [(fiche.title, None)]


def _official_context(request, fiche: catalogue.PublicFiche) -> dict:
    """DILA's text for the page: its parts for the visitor's situation, the guided-search walk."""
    source = official_text.Source(fiche.id)
    shape = official_text.shape(fiche.id, source)
    where = official_text.situation(request.GET, shape)
    context = {"parts": official_text.parts(fiche.id, official_text.PORTAL, where, source), "situation": where,
               "fiche_url": reverse("portal-fiche", args=[fiche.id])}
    if shape and shape.guided.get("items"):
        context["walk"] = official_text.walk(fiche.id, shape, request.GET.get("chemin", ""), official_text.PORTAL,
                                             context["fiche_url"])
        context["walking"] = "chemin" in request.GET
    parts = context["parts"]
    context["sections"] = [(key, title, parts[key]) for key, title in SECTION_TITLES if parts.get(key)]
    context["summary"] = ([("parcours", "Quelle est votre situation ?")] if "walk" in context else []) + (
        [("votre-situation", "Votre situation")] if parts.get("questionnaire") else []) + [
        (f"partie-{key}", title) for key, title, _ in context["sections"]]
    return context


def _fiche_context(request, fiche: catalogue.PublicFiche, form: FeedbackForm | None = None, thanks: str = "") -> dict:
    """`form` None: the page asks "did it help?" with two links (cacheable: no form, no token);
    the form itself comes with the visitor's answer (GET .../avis), in place with htmx."""
    context = {"fiche": fiche, "form": form, "thanks": thanks, "crumbs": _crumbs(fiche),
               "related": catalogue.related_fiches(fiche, 8 if fiche.official else 5), **_line_context()}
    if fiche.official:
        return context | _official_context(request, fiche)
    return context | {"fiche_body": fiche_body_html(fiche)}


@public
@shared_cache(PAGE_SECONDS, stale=PAGE_STALE_SECONDS)
def fiche(request, fiche_id: str):
    try:
        public_fiche = catalogue.published_fiche(fiche_id)
    except Http404:
        # an old DILA id (a fiche merged into another, or replaced by a dossier) leads to its successor
        target = catalogue.redirect_url(fiche_id)
        if target is None:
            raise
        return HttpResponsePermanentRedirect(target)
    thanks = {"merci": "sent", "deja": "already"}.get(request.GET.get("avis", ""), "")
    template = "portal/_fiche_main.html" if request.htmx and request.htmx.target == "fiche-principale" else \
        "portal/fiche.html"
    response = render(request, template, _fiche_context(request, public_fiche, thanks=thanks))
    return _counted(request, response, analytics.view_event(public_fiche.id))


@public
@require_http_methods(["GET", "POST"])
def feedback(request, fiche_id: str):
    """Anonymous yes/no + comment: nothing about the client is stored; the cache rate-limits.

    GET (a click on "Oui" or "Non" under the fiche): the form with that answer chosen, as a
    fragment for htmx or in the fiche page without JavaScript. POST: the vote."""
    public_fiche = catalogue.published_fiche(fiche_id)
    template = "portal/_feedback.html" if request.htmx else "portal/fiche.html"
    if request.method == "GET":
        answer = request.GET.get("utile", "")
        form = FeedbackForm(initial={"helpful": answer} if answer in {"oui", "non"} else None)
        return render(request, template, _fiche_context(request, public_fiche, form))
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return render(request, template, _fiche_context(request, public_fiche, form))
    once = ratelimit.check(request, f"feedback:{public_fiche.id}", 1, 24 * 3600, count=False)
    overall = ratelimit.check(request, "feedback", *FEEDBACK_LIMIT, count=False)
    if not overall.allowed:
        form.add_error(None, "Vous avez envoyé beaucoup d'avis en peu de temps. Merci de réessayer dans "
                             f"{overall.retry_minutes} minute(s).")
        response = render(request, template, _fiche_context(request, public_fiche, form))
        response.status_code = 429
        return response
    state = "deja"
    if once.allowed:
        ratelimit.check(request, f"feedback:{public_fiche.id}", 1, 24 * 3600)
        ratelimit.check(request, "feedback", *FEEDBACK_LIMIT)
        Feedback.objects.create(fiche_id=public_fiche.id, fiche_version=public_fiche.version,
                                helpful=form.cleaned_data["helpful"] == "oui",
                                comment=form.cleaned_data["comment"].strip())
        state = "merci"
    if request.htmx:
        thanks = "sent" if state == "merci" else "already"
        return render(request, template, _fiche_context(request, public_fiche, thanks=thanks))
    return redirect(reverse("portal-fiche", args=[public_fiche.id]) + f"?avis={state}#avis")


@public
@shared_cache(PAGE_SECONDS, stale=PAGE_STALE_SECONDS)
def search(request):
    query = request.GET.get("q", "")
    theme_filter = request.GET.get("theme", "")
    labels = catalogue.theme_labels()
    context = {"query": query, "theme_filter": theme_filter if theme_filter in labels else "",
               "themes": labels, "searched": "q" in request.GET, "crumbs": [("Recherche", None)], **_line_context()}
    context["theme_filter_label"] = labels.get(context["theme_filter"], "")
    event = None
    if "q" in request.GET:
        from allo.kb.search import QueryError
        from allo.kb.search_service import search_index

        try:
            # all hits count in the theme facets; only a page of them is shown, with its snippets
            # (a theme filter may show hits from further down: then every hit gets one)
            shown = None if context["theme_filter"] else PAGE_HITS
            response = catalogue.cached(
                "search", catalogue.KB_VERSION_KEY,
                hashlib.sha256(f"{query.strip().lower()}|{shown}".encode()).hexdigest(),
                lambda: search_index().search(query, limit=SEARCH_LIMIT, snippets=shown),
                keep=lambda r: not r.provisional)
        except QueryError as exc:
            context["error"] = str(exc)
        else:
            relevant = relevant_hits(response.hits)
            facets: dict[str, int] = {}
            for hit in relevant:
                facets[hit.theme] = facets.get(hit.theme, 0) + 1
            hits = [h for h in relevant if not context["theme_filter"] or h.theme == context["theme_filter"]]
            # a guided search or a question-réponse may bear the title of the fiche it leads to: say which it is
            kinds = {link.id: link.kind_label for link in catalogue.fiche_links([h.id for h in hits[:PAGE_HITS]])
                     if link.kind != Fiche.Kind.INFORMATION}
            context |= {
                "response": response,
                "hits": [{"id": h.id, "title": h.title, "theme": labels.get(h.theme, ""), "kind": kinds.get(h.id, ""),
                          "snippet": nh3.clean(h.snippet, tags={"mark"}, attributes={})} for h in hits[:PAGE_HITS]],
                "total": len(hits),
                "facets": [(slug, labels[slug], facets[slug]) for slug in labels if slug in facets],
                "suggestion_url": (reverse("portal-search") + "?" + urlencode({"q": response.suggestion})
                                   if response.suggestion else ""),
            }
            event = analytics.search_event(query, context["theme_filter"], response)
    page = render(request, "portal/search.html", context)
    if context.get("response") is not None and context["response"].provisional:
        page.shared = False  # ranked while the encoder loads: the next visitor gets the full ranking
    return page if event is None else _counted(request, page, event)


def relevant_hits(hits: list) -> list:
    """The hits a citizen is shown: a first page whatever their scores, then only those within reach of
    the best one (the long tail of weak matches is noise)."""
    top = hits[0].score if hits else 0.0
    return [h for rank, h in enumerate(hits) if rank < ALWAYS_SHOWN or h.score >= RELEVANT_SHARE * top]


def _next_holidays(line, count: int = 6) -> list[tuple[dt.date, str]]:
    if line is None or not line.platform.closed_on_public_holidays:
        return []
    return next_holidays(local_now().date(), count, line.platform.holiday_subdivision or None)


def _contact_context(form: CallbackForm, line) -> dict:
    today = local_now().date()
    status = catalogue.line_status()[1] if line else None
    closures = []
    if line is not None:
        closures = list(Closure.objects.filter(end__gte=today).filter(
            centre__isnull=True) | Closure.objects.filter(end__gte=today, centre=line.platform))
    return {
        "form": form, "line": line, "line_status": status,
        "weekly": [tuple(row.split(" : ", 1)) for row in status.weekly] if status else [],
        "wait_seconds": estimated_wait_seconds(),
        "holidays": [(callbacks.french_day(day), name) for day, name in _next_holidays(line)],
        "closures": sorted(closures, key=lambda c: c.start),
        "retention_days": settings.RETENTION_DAYS, "crumbs": [("Nous contacter", None)],
    }


def _callback_form(request, line, data=None) -> CallbackForm:
    slots = callbacks.upcoming_slots(line=line)
    return CallbackForm(data, slots=slots, load=callbacks.slot_load(slots), capacity=callbacks.slot_capacity(),
                        themes=catalogue.theme_labels())


@public
def contact(request):
    line = catalogue.line_status()[0]
    confirmed = None
    if request.method == "POST":
        form = _callback_form(request, line, request.POST)
        # Only valid requests count (a typo shown again costs nothing), per address and number (a
        # France Services desk files for many citizens from one address), within a looser cap per address.
        per_number = callbacks.setting("CALLBACK_RATE_LIMIT", 5)
        per_address = callbacks.setting("CALLBACK_RATE_LIMIT_PER_ADDRESS", 30)
        valid = form.is_valid()
        number = form.cleaned_data.get("phone", "") if valid else ""
        verdict = ratelimit.peek(request, "callback", per_address, 3600)
        if verdict.allowed and valid:
            verdict = ratelimit.peek(request, "callback-number", per_number, 3600, per=number)
        if not verdict.allowed:
            form.add_error(None, "Vous avez fait trop de demandes de rappel en peu de temps. Pour éviter les abus, "
                                 f"une nouvelle demande sera possible dans {verdict.retry_minutes} minute(s). "
                                 f"Vous pouvez aussi nous appeler au {line.phone_number if line else '39 39'}.")
            response = render(request, "portal/contact.html", _contact_context(form, line))
            response.status_code = 429
            return response
        if valid:
            ratelimit.check(request, "callback", per_address, 3600)
            ratelimit.check(request, "callback-number", per_number, 3600, per=number)
            data = form.cleaned_data
            try:
                booked = callbacks.book(data["phone"], data["slot"], data["subject"], data.get("theme", ""))
            except callbacks.SlotFull:
                form.add_error("slot", "Ce créneau est complet : choisissez-en un autre, ou appelez-nous aux "
                                       "heures d'ouverture.")
            except callbacks.AlreadyRequested:
                form.add_error("phone", "Une demande de rappel est déjà enregistrée pour ce numéro : nous vous "
                                        "rappellerons au créneau choisi.")
            else:
                token = signing.dumps(data["slot"].key, salt=CALLBACK_SALT)
                logger.info("callback requested", extra={"callback_id": booked.pk})
                return redirect(reverse("portal-contact") + "?" + urlencode({"demande": token}) + "#confirmation")
    else:
        form = _callback_form(request, line)
        token = request.GET.get("demande")
        if token:
            try:
                key = signing.loads(token, salt=CALLBACK_SALT, max_age=24 * 3600)
                start = dt.datetime.strptime(key, "%Y-%m-%dT%H:%M")
                confirmed = callbacks.Slot(start, start + dt.timedelta(minutes=callbacks.slot_minutes()))
            except (signing.BadSignature, ValueError):
                confirmed = None
    return render(request, "portal/contact.html", _contact_context(form, line) | {"confirmed": confirmed})


PERIODS = {7: "7 derniers jours", 30: "30 derniers jours", 90: "90 derniers jours"}


@roles(Role.EDITOR)
def statistics(request):
    try:
        days = int(request.GET.get("jours", 30))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    stats = analytics.editor_stats(days)
    stats["chart_queries"] = charts.hbar_chart(
        [(row["query"], row["n"]) for row in stats["top_queries"][:10]],
        f"Recherches les plus fréquentes, {PERIODS[days]}", "graphique-recherches")
    stats["chart_gaps"] = charts.hbar_chart(
        [(row["query"], row["n"]) for row in stats["gaps"][:10]],
        f"Recherches sans bonne réponse, {PERIODS[days]}", "graphique-lacunes")
    stats["chart_viewed"] = charts.hbar_chart(
        [(row["fiche__title"], row["n"]) for row in stats["viewed"][:10]],
        f"Fiches les plus consultées, {PERIODS[days]}", "graphique-consultations")
    stats["chart_daily"] = charts.line_chart(
        [(f"{day:%d/%m}", s, v) for day, s, v in stats["daily"]],
        f"Recherches et consultations par jour, {PERIODS[days]}", "graphique-jours")
    return render(request, "portal/statistics.html", stats | {"periods": PERIODS, "period_label": PERIODS[days]})
