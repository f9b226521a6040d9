"""seed_demo: the county's shape, its logins, idempotency, and growing a small county to a full one."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Sum

from centers.jurisdiction import restrict
from centers.models import Center, Membership, Region, RegionKind, Role, Unit, User
from demo.seeding.centers import COUNTY_CODE, county_plan, grid_worker_specs, role_user_specs, unit_plan

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows of every table the command writes, history and group links included."""
    models = [Region, Center, Unit, User, Membership, User.groups.through]
    models += [
        apps.get_model("centers", f"Historical{m.__name__}") for m in (Region, Center, Unit, Membership)
    ]
    return {m._meta.db_table: m.objects.count() for m in models}


def kinds() -> dict[str, int]:
    return dict(Region.objects.order_by().values_list("kind").annotate(n=Count("id")))


def test_a_small_county_has_centers_units_grids_and_every_role(django_assert_max_num_queries) -> None:
    output = seed("--towns", "2")

    assert kinds()[RegionKind.COUNTY] == 1
    assert kinds()[RegionKind.TOWN] == 2
    assert kinds()[RegionKind.VILLAGE] >= 16
    assert kinds()[RegionKind.GRID] >= 8 * kinds()[RegionKind.VILLAGE] // 2
    assert Region.objects.find_problems() == ([], [], [], [], [])
    # Every county, town and village has its center; grid cells have none.
    for region in Region.objects.exclude(kind=RegionKind.GRID):
        assert region.center.name.endswith("综治工作站" if region.kind == RegionKind.VILLAGE else "综治中心")
    assert not Center.objects.filter(region__kind=RegionKind.GRID).exists()
    # Grid cells of 200–300 households; totals add up the tree.
    grids = Region.objects.filter(kind=RegionKind.GRID)
    assert all(200 <= g.households <= 300 and g.population > g.households for g in grids)
    county = Region.objects.get(code=COUNTY_CODE)
    assert county.households == grids.aggregate(h=Sum("households"))["h"]
    assert all(28 < g.lat < 28.6 and 112.2 < g.lng < 112.9 for g in grids)
    # Units: county bureaus and each town's police station and justice office.
    assert Unit.objects.filter(region=county, name="湘源县公安局").exists()
    assert Unit.objects.filter(region__kind=RegionKind.TOWN, kind="police_station").count() == 2
    # At least one grid worker per cell, posted at the cell's village station.
    workers = Membership.objects.filter(role=Role.GRID_WORKER)
    assert workers.count() >= grids.count()
    assert set(workers.values_list("center__region__kind", flat=True)) == {RegionKind.VILLAGE}
    for role in Role:
        assert Membership.objects.filter(role=role).exists(), role
    # The printed logins work with the demo password.
    for username in ("admin", "county_leader", "clerk1", "mediator_a", "town_b_dispatcher", "api_town_a"):
        assert username in output
        assert User.objects.get(username=username).check_password(settings.ZONGZHI_DEMO_PASSWORD)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert User.objects.get(username="api_town_a").is_api_client
    assert User.objects.get(username="clerk1").groups.filter(name=Role.WINDOW_CLERK.label).exists()


def test_every_demo_user_sees_only_their_part_of_the_county() -> None:
    seed("--towns", "2", "--quiet-logins")
    town_a, town_b = (Region.objects.get(code=t.code) for t in county_plan(2).children)
    town_a_user = User.objects.get(username="town_a_dispatcher")
    mine = restrict(Region.objects.all(), town_a_user)
    assert mine.count() == Region.objects.filter(path__startswith=town_a.path).count()
    assert not mine.filter(path__startswith=town_b.path).exists()
    assert (
        restrict(Region.objects.all(), User.objects.get(username="county_leader")).count()
        == Region.objects.count()
    )
    village_user = User.objects.get(username="village_a_staff")
    village = Membership.objects.get(user=village_user).center.region
    assert set(restrict(Region.objects.all(), village_user)) == set(
        Region.objects.filter(path__startswith=village.path)
    )


def test_running_it_twice_creates_nothing_and_says_so() -> None:
    seed("--towns", "2")
    before = row_counts()
    output = seed("--towns", "2")
    assert row_counts() == before
    assert "无（数据已存在）" in output


def test_a_second_run_keeps_a_password_the_user_changed() -> None:
    seed("--towns", "1", "--quiet-logins")
    clerk = User.objects.get(username="clerk1")
    clerk.set_password("新的口令-2026!")
    clerk.save()
    seed("--towns", "1", "--quiet-logins")
    assert User.objects.get(username="clerk1").check_password("新的口令-2026!")


def test_growing_a_small_county_gives_exactly_the_planned_county() -> None:
    seed("--towns", "1", "--quiet-logins")
    seed("--towns", "3", "--quiet-logins")

    plan = county_plan(3)
    assert Region.objects.find_problems() == ([], [], [], [], [])
    # Towns inserted between existing ones keep the tree sorted by code.
    towns = list(Region.objects.filter(kind=RegionKind.TOWN).order_by("path"))
    assert [t.code for t in towns] == sorted(t.code for t in towns)
    assert set(Region.objects.values_list("code", "name", "kind")) == {
        (p.code, p.name, p.kind) for p in plan.walk()
    }
    grids = {p.code: p.households for p in plan.walk() if p.kind == RegionKind.GRID}
    assert dict(Region.objects.filter(kind=RegionKind.GRID).values_list("code", "households")) == grids
    specs = role_user_specs(plan) + list(grid_worker_specs(plan))
    assert set(User.objects.values_list("username", "full_name")) == {
        (s.username, s.full_name) for s in specs
    }
    posts = {(s.username, p.role, p.center, p.unit) for s in specs for p in s.posts}
    assert (
        set(Membership.objects.values_list("user__username", "role", "center__region__code", "unit__name"))
        == posts
    )
    assert set(Unit.objects.values_list("region__code", "name")) == {(c, n) for c, _, n in unit_plan(plan)}


def test_a_missing_village_is_restored_in_place() -> None:
    seed("--towns", "1", "--quiet-logins")
    village = Region.objects.filter(kind=RegionKind.VILLAGE).order_by("code")[1]
    code = village.code
    # The grid work recorded there goes first (visits and sweep reports protect their grid).
    from grids.models import HouseholdVisit, SweepTask

    HouseholdVisit.objects.filter(grid_path__startswith=village.path).delete()
    SweepTask.objects.filter(grid_path__startswith=village.path).delete()
    Membership.objects.filter(center__region__path__startswith=village.path).delete()
    Center.objects.filter(region__path__startswith=village.path).delete()
    village.delete()
    seed("--towns", "1", "--quiet-logins")
    restored = Region.objects.get(code=code)
    assert restored.numchild > 0
    assert restored.center
    assert Region.objects.find_problems() == ([], [], [], [], [])


@pytest.mark.slow
def test_the_full_demo_county_has_the_seed_counties_figures() -> None:
    started = time.monotonic()
    output = seed()
    elapsed = time.monotonic() - started
    counts = kinds()
    assert counts[RegionKind.TOWN] == 18
    assert 200 <= counts[RegionKind.VILLAGE] <= 250
    assert 1800 <= counts[RegionKind.GRID] <= 2000
    assert 3300 <= Membership.objects.filter(role=Role.GRID_WORKER).count() <= 3700
    assert Region.objects.filter(kind=RegionKind.TOWN, name__endswith="街道").count() == 6
    assert Center.objects.count() == 1 + 18 + counts[RegionKind.VILLAGE]
    assert "county_leader" in output
    assert elapsed < 60, f"seed_demo took {elapsed:.1f}s"
    before = row_counts()
    seed("--quiet-logins")
    assert row_counts() == before
