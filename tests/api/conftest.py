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


@pytest.fixture
def med(api):
    """Mediation in both towns: a committee and a mediator each, and `med.dispute(town)` — an
    accepted neighbour dispute in that town's grid, owned by the town's center."""
    from decimal import Decimal

    from cases.models import Category, Channel, PartyRole
    from cases.services import PartyInput, case_accept, case_register_with_parties
    from mediation.services import committee_create, mediator_create

    m = SimpleNamespace(api=api)
    m.committee_a = committee_create(name="城关街道人民调解委员会", region=api.town_a)
    m.committee_b = committee_create(name="白沙镇人民调解委员会", region=api.town_b)
    m.mediator_a = mediator_create(
        user=staff("mediator_a", Role.MEDIATOR, center=api.town_a_center, full_name="李调解"),
        committee=m.committee_a, region=api.town_a, domains=[Category.NEIGHBOUR],
    )
    m.mediator_b = mediator_create(
        user=staff("mediator_b", Role.MEDIATOR, center=api.town_b_center, full_name="吴调解"),
        committee=m.committee_b, region=api.town_b, domains=[Category.NEIGHBOUR],
    )
    towns = {
        "a": (api.grid_a, api.town_a_center, api.town_a_dispatcher),
        "b": (api.grid_b, api.town_b_center, api.town_b_dispatcher),
    }

    def dispute(town: str = "a", title: str = "楼上漏水致楼下受损"):
        region, center, dispatcher = towns[town]
        case = case_register_with_parties(
            by=dispatcher, channel=Channel.VISIT, category=Category.NEIGHBOUR, title=title, region=region,
            owning_center=center, amount=Decimal("8000"),
            parties=[
                PartyInput(name="王秀兰", role=PartyRole.APPLICANT, id_number="430124198506124565", phone="13800138000"),
                PartyInput(name="陈建军", role=PartyRole.RESPONDENT, phone="13900139000"),
            ],
        )
        return case_accept(case=case, by=dispatcher)

    m.dispute = dispute
    return m
