"""Authorisation matrix: every URL the project defines × every role.

The URL list is walked from the resolver, so a new URL is covered the moment it exists; a URL whose
view declares no access rule, or whose parameters have no sample value here, fails the test.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from report_files import pdf_text, read_ods, read_xlsx

from allo.accounts.access import AUTHENTICATED, DELEGATED_NAMESPACES, PUBLIC, ApiAccess, view_access
from allo.accounts.demo import DEMO_USERS
from allo.accounts.models import User
from allo.accounts.roles import Role
from allo.partners.demo import PARTNERS as DEMO_PARTNERS

# One demo account per role, plus the anonymous citizen; a partner's accounts are the partners' demo's.
PARTNER_ACCOUNTS = {spec["code"]: spec["account"][0] for spec in DEMO_PARTNERS}
ACTORS = {"anonymous": None} | {role.value: next(u[0] for u in DEMO_USERS if u[3] == role) for role in Role
                                if role != Role.PARTNER} | {Role.PARTNER.value: PARTNER_ACCOUNTS["mairie-rouen"]}

# Sample values for URL parameters: by parameter name, or by URL name for ambiguous ones.
SAMPLE_KWARGS: dict[str, str] = {"action": "submit", "call_id": "appel-inconnu", "agent": "agent-inconnu",
                                 "name": "accueil"}

# URLs that only answer another method than GET: an allowed POST answers with a redirect.
METHODS = {"logout": "post", "kb-transition": "post", "kb-synonym-toggle": "post", "portal-feedback": "post",
           "kb-restore": "post", "kb-dila-status": "post", "kb-dila-mark-sent": "post",
           "desk-state": "post", "desk-end-call": "post", "desk-consult": "post", "desk-consult-end": "post",
           "api-telephony-calls": "post",
           "api-telephony-hangup": "post", "api-telephony-callback-answer": "post",
           "supervision-floor-action": "post", "desk-liaison": "post"}
# Public URLs that only send the visitor elsewhere.
REDIRECTS = {"portal-browse", "portal-browse-fiches",
             "proconnect-start", "proconnect-callback"}  # to ProConnect, or back to the sign-in when not configured
# API views (token or session) answer in JSON: 401 anonymous, 403 wrong role; an allowed call with
# the matrix's empty or unknown payload gets its own 4xx, which only has to differ from 401/403.
API_ALLOWED_STATUSES = {200, 400, 404, 405}


@pytest.fixture
def samples(demo):
    """Per-URL parameters and query strings that need objects of their own. The sample fiche is one
    the matrix's expert (expert-impots) owns: experts act only on their centre's fiches, which
    test_kb_workflow.py checks; here each role's access to each URL."""
    from allo.kb.models import CorrectionProposal, DilaReport, Fiche, Revision, Synonym

    fiche = Fiche.objects.published().local().filter(level2="impots").order_by("id").first()
    editor = User.objects.get(username="redacteur")
    proposal = CorrectionProposal.objects.create(
        fiche=fiche, author=User.objects.get(username="operateur"), reason="Le tarif a changé."
    )
    fiche.publish(None, "second version for the matrix")
    first, second = fiche.history.order_by("history_id")[:2]
    revision = Revision.objects.create(fiche=fiche, changes={"title": "Autre titre"}, base={"title": fiche.title},
                                       reason="Pour la matrice", author=editor)
    official = Fiche.objects.create(id="F99999", theme=fiche.theme, title="Fiche officielle", short_answer="Texte.",
                                    collection=Fiche.Collection.OFFICIAL, status=Fiche.Status.PUBLISHED)
    report = DilaReport.objects.create(fiche=official, author=editor, passage="Un passage", problem="Faux.")
    from allo.partners.models import Liaison, Partner

    liaison = Liaison.objects.create(partner=Partner.objects.get(code="mairie-rouen"), caller_name="Jeanne Dupont",
                                     request="Un rendez-vous pour un passeport.")  # the matrix's partner's
    return {
        "fiche_id": fiche.pk,
        "kwargs": {"kb-review": {"pk": proposal.pk}, "kb-synonym-toggle": {"pk": Synonym.objects.first().pk},
                   "kb-revision": {"pk": revision.pk}, "kb-dila-status": {"pk": report.pk},
                   "partner-liaison": {"pk": liaison.pk},
                   "kb-dila-report": {"fiche_id": official.pk},
                   "portal-theme": {"theme_slug": fiche.theme_id}, "desk-node": {"slug": fiche.theme_id},
                   "portal-subtheme": {"theme_slug": fiche.theme_id, "subtheme_slug": fiche.subtheme_slug or "autres"}},
        "query": {"kb-compare": f"?a={first.history_id}&b={second.history_id}", "kb-search-api": "?q=carte",
                  "portal-search": "?q=carte", "portal-statistics": "?jours=7", "desk-kb-search": "?q=carte grise"},
    }


def walk(patterns, prefix_ns=()):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = (*prefix_ns, entry.namespace) if entry.namespace else prefix_ns
            yield from walk(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern):
            yield prefix_ns, entry


def project_urls():
    """(url name, view, namespace) of every routed view outside the delegated namespaces."""
    found = []
    for namespaces, pattern in walk(get_resolver().url_patterns):
        if namespaces and namespaces[0] in DELEGATED_NAMESPACES:
            continue
        found.append((":".join((*namespaces, pattern.name or "")), pattern))
    return found


def expected_status(access, actor: str, method: str) -> int:
    if isinstance(access, ApiAccess):
        if actor == "anonymous":
            return 401
        return 200 if actor == Role.ADMINISTRATOR or actor in access else 403
    if access == PUBLIC:
        return 200
    if actor == "anonymous":
        return 302
    allowed = access == AUTHENTICATED or actor == Role.ADMINISTRATOR or actor in access
    if not allowed:
        return 403
    return 302 if method == "post" else 200


def test_every_url_is_named_and_declares_its_access():
    missing = []
    for name, pattern in project_urls():
        if not pattern.name:
            missing.append(f"{pattern.pattern}: unnamed URL")
        elif view_access(pattern.callback) is None:
            missing.append(f"{name}: no @public / @roles(...) rule on its view")
    assert not missing, "\n".join(missing)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", list(ACTORS))
def test_matrix(actor, samples, router_beating):  # a router runs: /healthz answers 200
    failures = []
    for name, pattern in project_urls():
        params = list(pattern.pattern.converters)
        known = SAMPLE_KWARGS | {"fiche_id": samples["fiche_id"]}
        kwargs = {p: known[p] for p in params if p in known} | samples["kwargs"].get(name, {})
        unknown = [p for p in params if p not in kwargs]
        assert not unknown, f"{name}: add a sample value for {unknown} in SAMPLE_KWARGS or samples()"
        url = reverse(name, kwargs=kwargs) + samples["query"].get(name, "")
        client = Client()
        if ACTORS[actor]:
            client.force_login(User.objects.get(username=ACTORS[actor]))
        method = METHODS.get(name, "get")
        response = getattr(client, method)(url)
        want = expected_status(view_access(pattern.callback), actor, method)
        if name in REDIRECTS:
            want = 302
        if want == 200 and isinstance(view_access(pattern.callback), ApiAccess):
            if response.status_code not in API_ALLOWED_STATUSES:
                failures.append(f"{method.upper()} {url} as {actor}: {response.status_code}, expected a JSON answer")
            continue
        if response.status_code != want:
            failures.append(f"{method.upper()} {url} as {actor}: {response.status_code}, expected {want}")
        if want == 302 and actor == "anonymous" and method == "get" and name not in REDIRECTS:
            assert response["Location"].startswith(reverse("login")), url
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", list(ACTORS))
def test_admin_is_for_administrators_only(actor, demo):
    client = Client()
    if ACTORS[actor]:
        client.force_login(User.objects.get(username=ACTORS[actor]))
    response = client.get(reverse("admin:index"))
    assert response.status_code == (200 if actor == Role.ADMINISTRATOR else 302)


def test_a_view_without_rule_is_refused(rf, settings):
    """Deny by default: the middleware refuses a routed view that declares nothing."""
    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponse

    from allo.accounts.access import AccessPolicyMiddleware

    def undeclared(request):
        return HttpResponse("secret")

    request = rf.get("/anything")
    request.resolver_match = None
    middleware = AccessPolicyMiddleware(lambda r: HttpResponse())
    with pytest.raises(PermissionDenied):
        middleware.process_view(request, undeclared, (), {})


@pytest.mark.django_db
@pytest.mark.parametrize("actor", list(ACTORS))
def test_partner_administration_pages_are_for_administrators_only(actor, demo):
    """Partners (allo/partners) are edited in the admin: their numbers, rules and contacts are for
    administrators; operators see a partner only as the card of the call it sent (desk tests)."""
    from allo.partners.models import Partner

    partner = Partner.objects.order_by("pk").first()
    client = Client()
    if ACTORS[actor]:
        client.force_login(User.objects.get(username=ACTORS[actor]))
    for url in [reverse("admin:partners_partner_changelist"), reverse("admin:partners_partner_add"),
                reverse("admin:partners_partner_change", args=[partner.pk])]:
        response = client.get(url)
        assert response.status_code == (200 if actor == Role.ADMINISTRATOR else 302), (url, actor)
        if actor != Role.ADMINISTRATOR:
            assert response["Location"].startswith(reverse("admin:login")), url


@pytest.mark.django_db
def test_a_partner_sees_its_own_figures_and_fiches_never_another_partners_nor_a_callers_number(demo):
    """Each demo partner account walks every page its role opens (the partner space, its CSV, each
    fiche de liaison of every partner, for this month): its own calls and fiches are there, another
    partner's never, and no caller's number in any spelling. A fiche's callback number, given by the
    caller with consent for that purpose, shows on that fiche's own page only."""
    from allo.contact_centre.models import Contact, WrapUp
    from allo.partners.models import Liaison, Partner

    partners = {p.code: p for p in Partner.objects.all()}
    callers, names, files = {}, {}, {}
    for i, (code, partner) in enumerate(sorted(partners.items())):
        callers[code] = f"+3361234{i:04d}"
        for j in range(3 + i):  # a different count each: the figures are the partner's own
            contact = Contact.objects.create(call_id=f"{code}-{j}", caller=callers[code], dialed="+33261910001",
                                             partner=partner, state="ended", answered=True, waited_s=4,
                                             level=1, outcome="ended")
            WrapUp.objects.create(contact=contact, fiches=[f"fiche-{code}"], outcome="answered")
        names[code], files[code] = f"Appelant {code.title()}", f"DOS-{i}-777"
        Liaison.objects.create(partner=partner, contact=contact, caller_name=names[code], request="Une pièce.",
                               file_number=files[code])
    consented = Liaison.objects.create(partner=partners["mairie-rouen"], caller_name="Rappel Consenti",
                                       request="Un rappel.", callback_consent=True, callback_number="+33698765432")

    spellings = {code: {n, "0" + n[3:], " ".join(("0" + n[3:])[k:k + 2] for k in range(0, 10, 2))}
                 for code, n in callers.items()}
    all_fiches = list(Liaison.objects.values_list("pk", "partner__code"))
    partner_urls = [name for name, pattern in project_urls()
                    if isinstance(view_access(pattern.callback), frozenset)
                    and Role.PARTNER in view_access(pattern.callback)]
    assert set(partner_urls) == {"partner-space", "partner-report-csv", "partner-report-ods", "partner-report-xlsx",
                                 "partner-report-pdf",
                                 "partner-liaison"}
    for code, username in PARTNER_ACCOUNTS.items():
        client = Client()
        client.force_login(User.objects.get(username=username))
        pages = {url: client.get(url) for url in (reverse("partner-space"), reverse("partner-report-csv"),
                                                  reverse("partner-report-ods"), reverse("partner-report-xlsx"),
                                                  reverse("partner-report-pdf"))}
        for pk, owner in all_fiches:
            url = reverse("partner-liaison", args=[pk])
            pages[url] = client.get(url)
            assert pages[url].status_code == (200 if owner == code else 404), (username, url)
        space = pages[reverse("partner-space")].content.decode()
        assert partners[code].name in space and files[code] in space
        offered = space[space.index('id="synthese"'):]
        assert f"Appels reçus : {3 + sorted(partners).index(code)}" in offered, (username, offered[:300])
        csv = pages[reverse("partner-report-csv")].content.decode()
        assert partners[code].name in csv
        for url, response in pages.items():
            if url in (reverse("partner-report-ods"), reverse("partner-report-xlsx")):  # cells read back
                sheets = (read_ods if url.endswith(".ods") else read_xlsx)(response.content)
                assert sheets
                text = "\n".join(str(v) for rows in sheets.values() for row in rows for v in row)
            elif url == reverse("partner-report-pdf"):
                text = pdf_text(response.content)
                assert partners[code].name in text
            else:
                text = response.content.decode()
            for number in (n for spelled in spellings.values() for n in spelled):
                assert number not in text, (username, url, number)
            for other in set(partners) - {code}:
                assert partners[other].name not in text and names[other] not in text and files[other] not in text, \
                    (username, url, other)
            if "+33698765432" in text:
                assert code == "mairie-rouen" and url == reverse("partner-liaison", args=[consented.pk])

