from __future__ import annotations

from types import SimpleNamespace

import pytest

from centers.models import Role
from tests.factories import MembershipFactory, staff


@pytest.fixture
def aw(world):
    """The shared world plus administrators: the county's sysadmin post, town A's leader, and the
    staff who hold work on cases (a village dispatcher who registers, a town handler)."""
    w = SimpleNamespace(**vars(world))
    w.county_admin = staff("county_admin", Role.SYSADMIN, center=world.county_center, full_name="县管理员")
    w.town_a_leader = staff(
        "town_a_leader", Role.CENTER_LEADER, center=world.town_a_center, full_name="刘主任"
    )
    w.town_b_leader = staff(
        "town_b_leader", Role.CENTER_LEADER, center=world.town_b_center, full_name="何主任"
    )
    w.village_a_staff = staff(
        "village_a_staff", Role.DISPATCHER, center=world.village_a_center, full_name="陈东湖"
    )
    w.town_a_handler = staff(
        "town_a_handler", Role.DISPATCHER, center=world.town_a_center, full_name="郑承办"
    )
    # Someone with posts in town A and at the county: out of reach from town A.
    w.two_posts = staff("two_posts", Role.DISPATCHER, center=world.town_a_center, full_name="双岗")
    MembershipFactory(user=w.two_posts, role=Role.DISPATCHER, center=world.county_center)
    return w


@pytest.fixture
def make_case(aw):
    from cases.models import Category, Channel
    from cases.services import case_register

    def make(region=None, by=None, **kw):
        kw.setdefault("channel", Channel.VISIT)
        kw.setdefault("category", Category.NEIGHBOUR)
        kw.setdefault("title", "邻里排水纠纷")
        return case_register(by=by or aw.village_a_staff, region=region or aw.grid_a, **kw)

    return make
