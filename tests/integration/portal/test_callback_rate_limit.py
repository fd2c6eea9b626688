"""The callback form's rate limit (issue 14, finding 2): keyed by the client's address as the trusted
proxies report it (the rightmost hop they did not add), counting only valid requests, per address and
number with a looser cap per address (France Services desks file requests for many citizens from one
address)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse
from test_portal_callbacks import valid

from allo.portal.models import CallbackRequest
from allo.web.client import client_ip

pytestmark = pytest.mark.django_db


def post(client, data, **meta):
    return client.post(reverse("portal-contact"), data, **meta)


def phone(i: int) -> str:
    return f"06 12 34 {i // 100 % 100:02d} {i % 100:02d}"


def test_invalid_attempts_are_not_counted(client, demo, open_line, settings):
    settings.CALLBACK_RATE_LIMIT = 3
    for _ in range(6):
        assert post(client, valid(client, phone="06 00")).status_code == 200  # a typo, shown again
    assert post(client, valid(client)).status_code == 302
    assert CallbackRequest.objects.count() == 1


def test_a_desk_behind_one_address_files_for_many_callers_up_to_the_address_cap(client, demo, open_line, settings):
    settings.CALLBACK_SLOT_CAPACITY = 100
    settings.CALLBACK_RATE_LIMIT = 5
    settings.CALLBACK_RATE_LIMIT_PER_ADDRESS = 12
    desk = {"REMOTE_ADDR": "192.0.2.50"}
    for i in range(12):
        assert post(client, valid(client, phone=phone(i)), **desk).status_code == 302, i
    refused = post(client, valid(client, phone=phone(99)), **desk)
    assert refused.status_code == 429 and "trop de demandes de rappel" in refused.content.decode()
    assert CallbackRequest.objects.count() == 12
    assert post(client, valid(client, phone=phone(99)), REMOTE_ADDR="192.0.2.51").status_code == 302


def test_one_number_from_one_address_is_limited_first(client, demo, open_line, settings):
    settings.CALLBACK_RATE_LIMIT = 3
    for _ in range(3):  # booked, then "already requested" twice: valid requests, counted
        assert post(client, valid(client)).status_code in (200, 302)
    assert post(client, valid(client)).status_code == 429
    assert post(client, valid(client, phone="06 12 34 56 79")).status_code == 302  # another caller


def test_the_client_is_the_rightmost_address_the_trusted_proxies_did_not_add(settings):
    settings.ALLO_TRUSTED_PROXIES = ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
    rf = RequestFactory()

    def ip(remote, forwarded=None):
        meta = {"REMOTE_ADDR": remote} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {})
        return client_ip(rf.get("/", **meta))

    assert ip("203.0.113.5") == "203.0.113.5"
    assert ip("203.0.113.5", "198.51.100.1") == "203.0.113.5"  # not a proxy of ours: its header is ignored
    assert ip("127.0.0.1", "198.51.100.1") == "198.51.100.1"
    assert ip("127.0.0.1", "6.6.6.6, 198.51.100.1") == "198.51.100.1"  # forged left part ignored
    assert ip("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3") == "198.51.100.1"  # two proxies of ours
    assert ip("127.0.0.1", "not-an-address") == "127.0.0.1"  # garbage: the proxy itself
    assert ip("127.0.0.1", "198.51.100.1, garbage") == "127.0.0.1"
    assert ip("::1", "2001:db8::7") == "2001:db8::7"
    assert ip("127.0.0.1", "") == "127.0.0.1"


def test_a_forged_forwarded_for_through_the_proxy_gets_no_fresh_allowance(client, demo, open_line, settings):
    settings.CALLBACK_SLOT_CAPACITY = 100
    settings.CALLBACK_RATE_LIMIT = 5
    settings.CALLBACK_RATE_LIMIT_PER_ADDRESS = 4
    # the proxy (loopback) appends the address it saw to what the client sent
    for i in range(4):
        via = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": f"198.18.0.{i}, 203.0.113.7"}
        assert post(client, valid(client, phone=phone(i)), **via).status_code == 302
    via = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.18.0.200, 203.0.113.7"}
    assert post(client, valid(client, phone=phone(50)), **via).status_code == 429
    # another citizen behind the same proxy is not blocked by that one
    other = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.8"}
    assert post(client, valid(client, phone=phone(50)), **other).status_code == 302
