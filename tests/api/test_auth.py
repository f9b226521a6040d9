"""Tokens: hashed at rest, last use recorded, revocable, scoped like a person; rate limits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apiauth.models import ApiToken
from apiauth.services import hash_key, token_create, token_revoke
from centers.services import DomainError
from tests.api.conftest import token_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_token_is_stored_only_as_a_hash_and_its_last_use_is_recorded(api):
    row = ApiToken.objects.get(pk=api.token_a.pk)
    assert api.key_a not in (row.key_hash, row.prefix, row.name)
    assert row.key_hash == hash_key(api.key_a) and len(row.key_hash) == 64
    assert row.last_used_at is None

    r = api.a.get("/api/v1/cases/")
    assert r.status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None and row.last_used_ip == "127.0.0.1"


def test_missing_or_wrong_token_gets_401_with_the_error_shape(api):
    from rest_framework.test import APIClient

    r = APIClient().get("/api/v1/cases/")
    assert r.status_code == 401
    assert r["WWW-Authenticate"].startswith("Token")
    assert set(r.json()) >= {"code", "detail", "errors"}

    r = token_client(api.key_a + "x").get("/api/v1/cases/")
    assert r.status_code == 401
    assert r.json()["code"] == "authentication_failed"


def test_revoked_token_stops_working_at_once(api):
    assert api.a.get("/api/v1/cases/").status_code == 200
    token_revoke(token=api.token_a, by=api.sysadmin)
    r = api.a.get("/api/v1/cases/")
    assert r.status_code == 401
    assert "吊销" in r.json()["detail"]


def test_expired_token_and_deactivated_account_are_refused(api):
    ApiToken.objects.filter(pk=api.token_a.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert api.a.get("/api/v1/cases/").status_code == 401
    api.user_b.is_active = False
    api.user_b.save()
    assert api.b.get("/api/v1/cases/").status_code == 401


def test_tokens_are_only_for_api_client_accounts(world):
    person = UserFactory(username="clerk_x")
    with pytest.raises(DomainError):
        token_create(user=person, name="x", by=None)


def test_rate_limit_per_token_answers_429_with_retry_after(api):
    ApiToken.objects.filter(pk=api.token_a.pk).update(rate_per_minute=3)
    for _ in range(3):
        assert api.a.get("/api/v1/cases/").status_code == 200
    r = api.a.get("/api/v1/cases/")
    assert r.status_code == 429
    assert 1 <= int(r["Retry-After"]) <= 60
    assert r.json()["code"] == "throttled"
    # Another town's token has its own budget.
    assert api.b.get("/api/v1/cases/").status_code == 200


def test_session_login_works_for_the_browsable_api(api, client_for):
    r = client_for(api.town_a_dispatcher).get("/api/v1/cases/", HTTP_ACCEPT="text/html")
    assert r.status_code == 200
    assert b"<html" in r.content.lower()


def test_admin_creates_a_token_shown_once_and_revokes_it(api, client_for):
    admin = client_for(api.sysadmin)
    r = admin.post(
        "/admin/apiauth/apitoken/add/",
        {"user": api.user_a.pk, "name": "城关街道网格系统", "expires_at_0": "", "expires_at_1": "", "rate_per_minute": ""},
        follow=True,
    )
    assert r.status_code == 200
    token = ApiToken.objects.get(name="城关街道网格系统")
    shown = [str(m) for m in r.context["messages"]]
    key = next(w for m in shown for w in m.replace("：", " ").split() if w.startswith("zz_"))
    assert hash_key(key) == token.key_hash
    assert token_client(key).get("/api/v1/cases/").status_code == 200

    r = admin.post(
        "/admin/apiauth/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert r.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token_client(key).get("/api/v1/cases/").status_code == 401
