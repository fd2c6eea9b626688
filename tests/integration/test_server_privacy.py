"""What a full run of `allo serve` logs keeps no secret and no personal data (issue 14, operations):
a real server with its embedded router and call generator; telephony calls posted with callers'
numbers (and refused ones carrying a note and a number); an operator who signs in with a wrong then
the right password, takes a call and wraps it up with a note; a citizen's search. Then everything the
server wrote, stdout and stderr, is searched for the telephony token, every caller number in every
spelling, the notes' words and the passwords: none may be there."""

from __future__ import annotations

import json
import re
import time
import urllib.parse

import pytest
import requests
from loopback import allo, allo_env, allo_serve

PASSWORD = "Quetzal-Brume-4471"  # the operator's, set for this run
WRONG_PASSWORD = "Mauvais-Passe-9023"
# national significant numbers (without the 0 or +33) of the callers this run uses
NUMBERS = {
    "api": "612345678",  # a call posted as +33612345678
    "api_national": "698761234",  # posted as 0698761234
    "refused": "655443322",  # in a refused call's payload
    "note": "745129863",  # written in the wrap-up's note and in a search
    "callback": "611223355",  # a citizen's callback request on the portal, typed 06 11 22 33 55
}
NOTE = "Madame Quéré-Lambertin veut son avis d'imposition 2025, rappeler au 07 45 12 98 63 après 17h"
QUESTION = "Déclaration de revenus de son fils Anatole Quéré-Lambertin étudiant à Brest"
SEARCH = "avis imposition Quéré-Lambertin 0745129863"
REFUSED_NOTE = "Appelant très agité, dossier contentieux Vercingétorix-Pommier"
SUBJECT = "Succession de ma tante Ermengarde Froissart-Delaunay, notaire injoignable"


def spellings(nsn: str) -> list[str]:
    """Every way a French number may be written: +33..., 0033..., 0..., in pairs with spaces, dots or
    dashes, and the 9 digits alone (what all of them contain once their separators are dropped)."""
    national = "0" + nsn
    pairs = [national[i:i + 2] for i in range(0, 10, 2)]
    return [f"+33{nsn}", f"0033{nsn}", f"33{nsn}", national, " ".join(pairs), ".".join(pairs), "-".join(pairs),
            f"+33 {nsn[0]} " + " ".join(pairs[1:]), nsn]


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    env = allo_env(tmp_path_factory.mktemp("serve-privacy"), ALLO_LOG_LEVEL="INFO", ALLO_LOG_FORMAT="json",
                   ALLO_CC_HOURS="always")
    allo(env, "init", "--demo")
    allo(env, "shell", "-c", "from allo.accounts.models import User; u = User.objects.get("
                             f"username='operateur'); u.set_password('{PASSWORD}'); u.save()")
    token = allo(env, "token", "create", "--role", "telephony").split()[-1]
    # the embedded router and the built-in call generator, as `make run` serves
    with allo_serve(env, "--callgen-rate", "0.5") as server:
        seen = _run(server.base, token)
    logs = server.log.read_text(encoding="utf-8", errors="replace")  # stdout and stderr, once stopped
    return type("Run", (), {"logs": logs, "token": token, "seen": seen})



def _run(base: str, token: str) -> dict:
    """What the run does; returns what it saw (for the checks that it really happened)."""
    api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    seen: dict = {"calls": []}
    for caller in ("+33612345678", "0698761234"):
        r = requests.post(base + "/api/telephony/calls", data=json.dumps({"caller": caller, "dialed": "3939"}),
                          headers=api, timeout=10)
        assert r.status_code == 201, r.text
        seen["calls"].append(r.json()["call_id"])
    # refused: an unknown field carrying a note, a caller that is no number, a body that is no JSON
    nsn = NUMBERS["refused"]
    for body in (json.dumps({"caller": f"0{nsn}", "dialed": "3939", "note": REFUSED_NOTE}),
                 json.dumps({"caller": f"+33{nsn}<b>{REFUSED_NOTE}</b>", "dialed": "3939"}),
                 f'{{"caller": "+33{nsn}", "dialed": "3939", "note": "{REFUSED_NOTE}"'):
        r = requests.post(base + "/api/telephony/calls", data=body.encode(), headers=api, timeout=10)
        assert r.status_code == 400, r.text
    # a call the connector asks about with the token in the address (a mistake, still not to be kept)
    requests.get(f"{base}/api/telephony/calls/{seen['calls'][0]}?token={token}", timeout=10)

    # the operator: a wrong password, then the right one
    op = requests.Session()
    page = op.get(base + "/connexion/", timeout=10).text
    r = op.post(base + "/connexion/", data={"username": "operateur", "password": WRONG_PASSWORD,
                                           "csrfmiddlewaretoken": _csrf(page)}, timeout=10, allow_redirects=False)
    assert r.status_code == 200  # the form again, with its error
    r = op.post(base + "/connexion/", data={"username": "operateur", "password": PASSWORD,
                                           "csrfmiddlewaretoken": _csrf(r.text)}, timeout=10, allow_redirects=False)
    assert r.status_code == 302, r.text[-500:]
    desk = op.get(base + "/operateur/", timeout=10).text
    r = op.post(base + "/poste/etat/", data={"action": "ready", "csrfmiddlewaretoken": _csrf(desk)}, timeout=10)
    assert r.status_code == 200
    deadline = time.monotonic() + 30
    while not (found := re.search(r'action="/poste/appels/([^/"]+)/fin/"', desk)):
        assert time.monotonic() < deadline, "no call reached the operator's desk"
        time.sleep(0.3)
        desk = op.get(base + "/operateur/", timeout=10).text
    call_id = found.group(1)
    r = op.post(base + f"/poste/appels/{call_id}/fin/", timeout=15, allow_redirects=False,
                data={"csrfmiddlewaretoken": _csrf(desk), "outcome": "reponse-apportee",
                      "fiches": "impot-revenu-declaration", "question": QUESTION, "note": NOTE})
    assert r.status_code == 302, r.text[-1000:]
    seen["wrapped_up"] = call_id

    # a citizen's search (with words a caller should not have typed there)
    r = requests.get(base + "/recherche?" + urllib.parse.urlencode({"q": SEARCH}), timeout=30)
    assert r.status_code == 200
    # a citizen asks to be called back (the portal's contact form): a number and what it is about
    citizen = requests.Session()
    page = citizen.get(base + "/contact/", timeout=10).text
    slots = page.split('name="slot"', 1)[1].split("</select>", 1)[0]
    slot = re.search(r'<option value="([^"]+)"(?! disabled)', slots)
    assert slot, "no callback slot offered"
    r = citizen.post(base + "/contact/", timeout=15, allow_redirects=False, data={
        "csrfmiddlewaretoken": _csrf(page), "phone": "06 11 22 33 55", "slot": slot.group(1),
        "subject": SUBJECT, "consent": "on"})
    assert r.status_code == 302, re.findall(r'class="fr-error-text"[^>]*>([^<]+)', r.text) or r.status_code
    seen["callback"] = True
    time.sleep(3)  # the call generator goes on; analytics are written every 2 s
    return seen


def test_the_run_happened_and_was_logged(full_run):
    """The checks below read real logs: requests, the wrap-up, the search were logged (paths only)."""
    lines = [json.loads(line) for line in full_run.logs.splitlines() if line.startswith("{")]
    paths = {line.get("path") for line in lines if line.get("message") == "request"}
    assert "/recherche" in paths and "/connexion/" in paths and "/api/telephony/calls" in paths
    assert f"/poste/appels/{full_run.seen['wrapped_up']}/fin/" in paths
    assert len(lines) > 20


def test_no_token_password_number_or_note_in_the_logs(full_run):
    logs = full_run.logs
    assert full_run.token not in logs and full_run.token[-16:] not in logs
    for password in (PASSWORD, WRONG_PASSWORD):
        assert password not in logs
    for name, nsn in NUMBERS.items():
        for spelling in spellings(nsn):
            assert spelling not in logs, f"the {name} caller's number is in the logs as {spelling!r}"
    for text in (NOTE, QUESTION, REFUSED_NOTE, SEARCH, SUBJECT):
        # as typed, as a JSON line escapes it (\u00e9), as an address quotes it
        for written in (text, json.dumps(text)[1:-1], urllib.parse.quote(text), urllib.parse.quote_plus(text)):
            assert written not in logs
    # any piece of them: the names
    for name in ("Quéré-Lambertin", "Lambertin", "Vercingétorix", "Pommier", "Anatole", "Ermengarde", "Froissart"):
        assert name not in logs and json.dumps(name)[1:-1] not in logs, f"{name!r} is in the logs"


def test_an_error_logged_with_its_request_keeps_its_path_not_its_query_string():
    """Django's error log adds the request, whose text was its full address (a 500 on a search would
    have logged what the citizen typed): the console handler's filter keeps the method and the path."""
    import logging

    from django.test import RequestFactory

    request = RequestFactory().get("/recherche", {"q": SEARCH})
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    record = logging.getLogger("django.request").makeRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", (request.path,), None,
        extra={"status_code": 500, "request": request})
    assert handler.filter(record)
    text = handler.format(record)
    line = json.loads(text)
    assert line["request"] == "GET /recherche" and line["status_code"] == 500
    assert "Lambertin" not in text and NUMBERS["note"] not in text
