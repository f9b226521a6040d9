from __future__ import annotations

from types import SimpleNamespace

import pytest

from centers.models import Role
from tests.factories import staff


@pytest.fixture
def cw(world):
    """The shared world plus the staff the case engine needs: station and town staff who own cases."""
    w = SimpleNamespace(**vars(world))
    w.c_county, w.c_town_a, w.c_town_b = world.county_center, world.town_a_center, world.town_b_center
    w.c_village_a, w.c_village_b = world.village_a_center, world.village_b_center
    w.grid_worker_a = world.village_a_worker
    w.village_a_worker = staff(
        "village_a_staff", Role.DISPATCHER, center=world.village_a_center, full_name="陈东湖"
    )
    w.village_b_worker = staff(
        "village_b_staff", Role.DISPATCHER, center=world.village_b_center, full_name="周西岭"
    )
    w.town_a_leader = staff(
        "town_a_leader", Role.CENTER_LEADER, center=world.town_a_center, full_name="刘主任"
    )
    w.mediator_b = staff("mediator_b", Role.MEDIATOR, center=world.town_b_center, full_name="吴调解")
    w.police_a_staff = world.unit_staff
    w.outsider = world.town_b_dispatcher
    return w


@pytest.fixture
def make_case(cw):
    from cases.models import Category, Channel
    from cases.services import case_register

    def make(region=None, by=None, **kw):
        kw.setdefault("channel", Channel.VISIT)
        kw.setdefault("category", Category.NEIGHBOUR)
        kw.setdefault("title", "邻里排水纠纷")
        return case_register(by=by or cw.village_a_worker, region=region or cw.grid_a, **kw)

    return make
