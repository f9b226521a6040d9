"""Fixtures of the dashboards' tests: the shared world with staff at every center, and helpers to
write matters through the case engine (as the application does) and to refresh the rollups."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cases import services
from cases.models import Case, CaseKind, Category, Channel, Status
from centers.models import Role
from dashboards import rollups
from tests.factories import staff


@pytest.fixture
def dw(world):
    """The world plus a dispatcher at each village station, a town leader and population figures."""
    w = SimpleNamespace(**vars(world))
    w.village_a_staff = staff(
        "village_a_staff", Role.DISPATCHER, center=world.village_a_center, full_name="陈东湖"
    )
    w.village_b_staff = staff(
        "village_b_staff", Role.DISPATCHER, center=world.village_b_center, full_name="周西岭"
    )
    w.town_a_leader = staff(
        "town_a_leader", Role.CENTER_LEADER, center=world.town_a_center, full_name="刘主任"
    )
    w.owner_of = {
        world.county_center.pk: world.county_dispatcher,
        world.town_a_center.pk: world.town_a_dispatcher,
        world.town_b_center.pk: world.town_b_dispatcher,
        world.village_a_center.pk: w.village_a_staff,
        world.village_b_center.pk: w.village_b_staff,
    }
    return w


@pytest.fixture
def register(dw):
    """register(grid, **fields): a new matter through cases.services.case_register."""

    def make(region=None, **kw) -> Case:
        kw.setdefault("channel", Channel.VISIT)
        kw.setdefault("category", Category.NEIGHBOUR)
        kw.setdefault("kind", CaseKind.DISPUTE)
        kw.setdefault("title", "邻里排水纠纷")
        return services.case_register(by=None, region=region or dw.grid_a, notify_owner=False, **kw)

    return make


def owner(dw, case: Case):
    return dw.owner_of[case.owning_center_id]


def to_in_progress(dw, case: Case) -> Case:
    if case.status == Status.REGISTERED:
        case = services.case_accept(case=case, by=owner(dw, case))
    if case.status in (Status.ACCEPTED, Status.ASSIGNED):
        case = services.case_start(case=case, by=owner(dw, case))
    return case


def resolve_and_close(dw, case: Case, satisfaction: str = "satisfied") -> Case:
    case = to_in_progress(dw, case)
    case = services.case_resolve(case=case, by=owner(dw, case), comment="双方和解")
    return services.case_close(case=case, by=owner(dw, case), satisfaction=satisfaction)


@pytest.fixture
def refresh():
    """Bring every rollup up to date, as the beat's task does."""

    def run():
        return rollups.refresh_all()

    return run


@pytest.fixture(autouse=True)
def safety_indicators(db):
    """The indicator rows the data migration seeds (restored here: a transactional test of an
    earlier run may have flushed a reused test database)."""
    from cases.metrics import SAFETY_INDICATORS
    from dashboards.models import SafetyIndicator

    for order, spec in enumerate(SAFETY_INDICATORS):
        SafetyIndicator.objects.get_or_create(
            code=spec.code,
            defaults={
                "label": spec.label,
                "unit": spec.unit,
                "weight": spec.weight,
                "best": spec.best,
                "worst": spec.worst,
                "note": spec.note,
                "order": order,
            },
        )
