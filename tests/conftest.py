"""The shared permission world every app's tests reuse.

    county 430124 (凤岭县) ── center, units 县司法局, 县人社局
    ├── town A 430124001 (城关街道) ── center, unit 城关派出所
    │   └── village A 430124001001 (东门社区) ── station
    │       └── grid A 430124001001001 (第1网格)
    └── town B 430124100 (白沙镇) ── center, unit 白沙派出所
        └── village B 430124100201 (石桥村) ── station
            └── grid B 430124100201001 (第1网格)

Users (password `TEST_PASSWORD`): county_dispatcher, county_leader (leadership + center_leader),
town_a_dispatcher, town_b_dispatcher (the outsider for everything in town A), village_a_worker
(grid worker at village A's station), mediator (at the county justice bureau, a unit: sees only
what the unit owns or what is assigned to them), unit_staff (town A's police station) and sysadmin
(superuser).

Browser tests (marker `browser`) get Playwright's `page` in Debian's Chromium, and
`sign_in_browser(page, live_server, user)` to start signed in.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client

from centers.models import Center, DepartmentKind, Region, RegionKind, Role, Unit, User
from tests.factories import CenterFactory, MembershipFactory, RegionFactory, UnitFactory, UserFactory, staff

# `browser_page` (Debian's Chromium) for every browser test, without importing it per module.
pytest_plugins = ["tests.browser"]

# Playwright's sync API runs an event loop in the test thread; Django must still allow ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@dataclass
class World:
    county: Region
    town_a: Region
    town_b: Region
    village_a: Region
    village_b: Region
    grid_a: Region
    grid_b: Region
    county_center: Center
    town_a_center: Center
    town_b_center: Center
    village_a_center: Center
    village_b_center: Center
    justice_bureau: Unit  # county level
    hrss_bureau: Unit  # county level
    police_a: Unit  # town A's 派出所
    police_b: Unit  # town B's 派出所
    county_dispatcher: User
    county_leader: User
    town_a_dispatcher: User
    town_b_dispatcher: User
    village_a_worker: User
    mediator: User
    unit_staff: User
    sysadmin: User

    @property
    def town_a_users(self) -> list[User]:
        return [self.town_a_dispatcher, self.village_a_worker]


def build_world() -> World:
    county = RegionFactory(name="凤岭县", kind=RegionKind.COUNTY, code="430124", lat=28.25, lng=112.55)
    town_a = RegionFactory(
        parent=county, name="城关街道", kind=RegionKind.TOWN, code="430124001", is_urban=True
    )
    town_b = RegionFactory(parent=county, name="白沙镇", kind=RegionKind.TOWN, code="430124100")
    village_a = RegionFactory(
        parent=town_a, name="东门社区", kind=RegionKind.VILLAGE, code="430124001001", is_urban=True
    )
    village_b = RegionFactory(parent=town_b, name="石桥村", kind=RegionKind.VILLAGE, code="430124100201")
    grid_a = RegionFactory(
        parent=village_a,
        name="第1网格",
        kind=RegionKind.GRID,
        code="430124001001001",
        households=260,
        population=780,
    )
    grid_b = RegionFactory(
        parent=village_b,
        name="第1网格",
        kind=RegionKind.GRID,
        code="430124100201001",
        households=230,
        population=690,
    )
    county_center = CenterFactory(region=county)
    town_a_center = CenterFactory(region=town_a)
    town_b_center = CenterFactory(region=town_b)
    village_a_center = CenterFactory(region=village_a)
    village_b_center = CenterFactory(region=village_b)
    justice = UnitFactory(region=county, kind=DepartmentKind.JUSTICE, name="凤岭县司法局")
    hrss = UnitFactory(region=county, kind=DepartmentKind.HRSS, name="凤岭县人社局")
    police_a = UnitFactory(region=town_a, kind=DepartmentKind.POLICE_STATION, name="城关派出所")
    police_b = UnitFactory(region=town_b, kind=DepartmentKind.POLICE_STATION, name="白沙派出所")

    county_leader = staff("county_leader", Role.LEADERSHIP, center=county_center, full_name="周建国")
    MembershipFactory(user=county_leader, role=Role.CENTER_LEADER, center=county_center)
    sysadmin = UserFactory(username="sysadmin", full_name="系统管理员", is_staff=True, is_superuser=True)
    return World(
        county=county,
        town_a=town_a,
        town_b=town_b,
        village_a=village_a,
        village_b=village_b,
        grid_a=grid_a,
        grid_b=grid_b,
        county_center=county_center,
        town_a_center=town_a_center,
        town_b_center=town_b_center,
        village_a_center=village_a_center,
        village_b_center=village_b_center,
        justice_bureau=justice,
        hrss_bureau=hrss,
        police_a=police_a,
        police_b=police_b,
        county_dispatcher=staff("county_dispatcher", Role.DISPATCHER, center=county_center, full_name="李明"),
        county_leader=county_leader,
        town_a_dispatcher=staff("town_a_dispatcher", Role.DISPATCHER, center=town_a_center, full_name="王芳"),
        town_b_dispatcher=staff("town_b_dispatcher", Role.DISPATCHER, center=town_b_center, full_name="赵强"),
        village_a_worker=staff(
            "village_a_worker", Role.GRID_WORKER, center=village_a_center, full_name="陈静"
        ),
        mediator=staff("mediator", Role.MEDIATOR, unit=justice, full_name="刘调解"),
        unit_staff=staff("unit_staff", Role.UNIT_STAFF, unit=police_a, full_name="孙警官"),
        sysadmin=sysadmin,
    )


@pytest.fixture
def world(db) -> World:
    """The shared permission world (see the module docstring)."""
    return build_world()


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    """`client_for(user)`: a test client signed in as `user` (no password round trip)."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Transactional tests (live server, live Celery) restore the migrated data after their flush.

    A TransactionTestCase truncates every table when it ends, which would wipe what data
    migrations seeded (clock rules, the working-day calendar, thresholds) for the tests after it.
    Serialized rollback reloads it.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        names = set(getattr(item, "fixturenames", ()))
        transactional = (marker is not None and marker.kwargs.get("transaction")) or names & {
            "transactional_db",
            "live_server",
            "live_celery",
        }
        if not transactional:
            continue
        kwargs = dict(marker.kwargs) if marker is not None else {}
        kwargs.update(transaction=True, serialized_rollback=True)
        item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright launches Debian's Chromium (never `playwright install`)."""
    return {**browser_type_launch_args, "executable_path": shutil.which("chromium") or "/usr/bin/chromium"}


def sign_in_browser(page, live_server, user: User) -> None:
    """Start the browser signed in as `user`: the session of a test client, handed over as a cookie."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
