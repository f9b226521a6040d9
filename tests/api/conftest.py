"""API fixtures: the shared world plus one API client account (with a token) per town."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apiauth.services import token_create
from centers.models import Role
from tests.factories import MembershipFactory, UserFactory, staff


def api_account(username: str, center, **token_kw):
    user = UserFactory(username=username, full_name=f"{center.name}接口", is_api_client=True)
    MembershipFactory(user=user, role=Role.API_CLIENT, center=center)
    token, key = token_create(user=user, name=f"{center.name}业务系统", by=None, **token_kw)
    return user, token, key


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    """Rate-limit counters live in Redis (this run's own db): start every test from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(world):
    """`api.a` / `api.b`: token clients of town A's and town B's systems; users and tokens beside."""
    w = SimpleNamespace(**vars(world))
    w.user_a, w.token_a, w.key_a = api_account("api_town_a", world.town_a_center)
    w.user_b, w.token_b, w.key_b = api_account("api_town_b", world.town_b_center)
    w.a = token_client(w.key_a)
    w.b = token_client(w.key_b)
    w.village_a_staff = staff("village_a_staff", Role.DISPATCHER, center=world.village_a_center, full_name="陈东湖")
    return w


@pytest.fixture
def new_case(api):
    """`new_case(region=…, **fields)`: a case registered through the service, as the pages do."""
    from cases.models import Category, Channel
    from cases.services import case_register

    def make(region=None, by=None, **kw):
        kw.setdefault("channel", Channel.VISIT)
        kw.setdefault("category", Category.NEIGHBOUR)
        kw.setdefault("title", "邻里排水纠纷")
        return case_register(by=by or api.village_a_staff, region=region or api.grid_a, **kw)

    return make
