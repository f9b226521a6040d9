"""Grid figures against values computed independently, in Python, from the rows the test wrote."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine

from cases import services as case_services
from cases.models import Case, Channel
from centers.models import Role
from grids import figures, services
from grids.models import HazardType, HouseholdVisit, Severity, TeamRole
from tests.factories import staff

from .conftest import at

pytestmark = pytest.mark.django_db

NOW = at(2026, 11, 25, 12, 0)
START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 25)


@pytest.fixture
def data(gw):
    """Two grids, three workers, visits and grid reports spread over October and November, some resolved."""
    rng = random.Random(7)
    w = gw
    w.worker_a2 = staff("grid_worker_a2", Role.GRID_WORKER, center=w.village_a_center, full_name="林兼职")
    services.grid_team_member_add(
        grid=w.grid_a, by=w.town_a_dispatcher, role=TeamRole.GRID_WORKER, user=w.worker_a2
    )
    w.worker_b = staff("grid_worker_b", Role.GRID_WORKER, center=w.village_b_center, full_name="周北")
    services.grid_team_member_add(
        grid=w.grid_b, by=w.town_b_dispatcher, role=TeamRole.GRID_WORKER, user=w.worker_b
    )
    teams = [(w.grid_a, w.grid_worker_a, w.village_a_worker), (w.grid_a, w.worker_a2, w.village_a_worker)]
    teams.append((w.grid_b, w.worker_b, w.village_b_worker))
    # Visits: written directly (the service only takes the last 7 days), October to 14 November.
    rows = []
    for _ in range(60):
        grid, worker, _station = rng.choice(teams[:2] if rng.random() < 0.7 else teams[2:])
        when = at(2026, 10, 1, 8, 0) + dt.timedelta(hours=rng.randrange(0, 45 * 24))
        rows.append(
            HouseholdVisit(
                grid=grid, grid_path=grid.path, worker=worker, visited_at=when, household="户", address="址"
            )
        )
    HouseholdVisit.objects.bulk_create(rows)
    # Grid reports: disputes and hazards at random times, some resolved days later.
    for i in range(24):
        grid, worker, station = rng.choice(teams)
        created = at(2026, 10, 20, 8, 0) + dt.timedelta(hours=rng.randrange(0, 34 * 24))
        with time_machine.travel(created, tick=False):
            if i % 3:
                case = services.dispute_report(by=worker, grid=grid, category="neighbour", title=f"纠纷{i}")
            else:
                case = services.hazard_report(
                    by=worker,
                    grid=grid,
                    hazard_type=HazardType.FIRE,
                    severity=Severity.GENERAL,
                    place=f"隐患{i}",
                ).case
        if rng.random() < 0.6:
            done = created + dt.timedelta(hours=rng.randrange(2, 12 * 24))
            if done >= NOW:
                continue
            with time_machine.travel(done, tick=False):
                if case.kind == "dispute":
                    case_services.case_accept(case=case, by=station)
                    case_services.case_start(case=case, by=station)
                    case_services.case_resolve(case=case, by=station, comment="调解成功")
                else:
                    hazard = case.hazard
                    services.hazard_assign(hazard=hazard, by=station, unit=_unit(w, grid), requirement="整改")
                    services.hazard_rectify(
                        hazard=hazard, by=_unit_staff(w, grid), rectification="已整改", evidence=_png()
                    )
    # A dispute registered at the window in grid A is not a grid report: it counts nowhere here.
    with time_machine.travel(at(2026, 11, 5, 9, 0), tick=False):
        case_services.case_register(
            by=w.village_a_worker,
            channel=Channel.VISIT,
            category="neighbour",
            title="来访纠纷",
            region=w.grid_a,
        )
    return w


def _unit(w, grid):
    return w.police_a if grid == w.grid_a else w.police_b


def _unit_staff(w, grid):
    if grid == w.grid_a:
        return w.unit_staff
    if not hasattr(w, "police_b_staff"):
        w.police_b_staff = staff("police_b_staff", Role.UNIT_STAFF, unit=w.police_b, full_name="白警官")
    return w.police_b_staff


def _png():
    from .conftest import png

    return png()


def expected(cases, visits, lo, hi):
    """The figures by their definitions, from plain Python lists (no ORM aggregation)."""
    in_period = [c for c in cases if lo <= c.created_at < hi]
    resolved_here = [c for c in in_period if c.resolved_at is not None]
    resolved_in_period = [c for c in cases if c.resolved_at is not None and lo <= c.resolved_at < hi]
    durations = [(c.resolved_at - c.created_at).total_seconds() / 86400 for c in resolved_in_period]
    return {
        "visits": sum(1 for v in visits if lo <= v.visited_at < hi),
        "disputes_found": sum(1 for c in in_period if c.kind == "dispute"),
        "hazards_found": sum(1 for c in in_period if c.kind == "hazard"),
        "found": len(in_period),
        "resolved": len(resolved_here),
        "resolution_rate": (len(resolved_here) / len(in_period) * 100) if in_period else None,
        "avg_days_to_resolve": (sum(durations) / len(durations)) if durations else None,
    }


def assert_same(got, want):
    for key, value in want.items():
        if value is None or isinstance(value, float):
            assert (got[key] is None) == (value is None), key
            if value is not None:
                assert got[key] == pytest.approx(value, abs=1e-6), key
        else:
            assert got[key] == value, key


def test_figures_per_grid_worker_and_region_equal_independent_values(data, django_assert_max_num_queries):
    w = data
    lo = at(2026, 11, 1, 0, 0)
    hi = at(2026, 11, 26, 0, 0)
    grid_cases = list(Case.objects.filter(channel=Channel.GRID))
    visits = list(HouseholdVisit.objects.all())
    assert len(grid_cases) == 24 and len(visits) == 60
    with time_machine.travel(NOW, tick=False):
        with django_assert_max_num_queries(20):
            report = figures.report(w.county_dispatcher, w.county, start=START, end=END, idle_days=7)
    # The county's totals.
    assert_same(report.totals, expected(grid_cases, visits, lo, hi))
    assert report.totals["found"] > 0 and report.totals["resolved"] > 0
    # Per grid.
    rows = {g.pk: f for g, f in report.grid_rows}
    for grid in (w.grid_a, w.grid_b):
        want = expected(
            [c for c in grid_cases if c.region_id == grid.pk],
            [v for v in visits if v.grid_id == grid.pk],
            lo,
            hi,
        )
        assert_same(rows[grid.pk], want)
    # Per grid worker.
    workers = {u.pk: f for u, f in report.worker_rows}
    assert set(workers) == {w.grid_worker_a.pk, w.worker_a2.pk, w.worker_b.pk}
    for user in (w.grid_worker_a, w.worker_a2, w.worker_b):
        mine = [v for v in visits if v.worker_id == user.pk]
        want = expected([c for c in grid_cases if c.registered_by_id == user.pk], mine, lo, hi)
        assert_same(workers[user.pk], want)
        assert workers[user.pk]["last_visit_at"] == max((v.visited_at for v in mine), default=None)
    # Per town.
    towns = {c["region"].pk: c for c in report.children}
    for town, grid in ((w.town_a, w.grid_a), (w.town_b, w.grid_b)):
        want = expected(
            [c for c in grid_cases if c.region_id == grid.pk],
            [v for v in visits if v.grid_id == grid.pk],
            lo,
            hi,
        )
        assert_same(towns[town.pk], want)
        assert towns[town.pk]["grids"] == 1


def test_no_visit_warning_follows_the_last_visit_and_the_chosen_days(data):
    w = data
    last = {g: max(v.visited_at for v in HouseholdVisit.objects.filter(grid=g)) for g in (w.grid_a, w.grid_b)}
    for days in (3, 11, 40, 60):
        with time_machine.travel(NOW, tick=False):
            report = figures.report(w.county_dispatcher, w.county, start=START, end=END, idle_days=days)
        want = {g.pk for g, at_ in last.items() if at_ < NOW - dt.timedelta(days=days)}
        assert {g.pk for g in report.idle} == want and report.idle_count == len(want), days
        towns = {c["region"].pk: c["idle"] for c in report.children}
        assert towns == {w.town_a.pk: int(w.grid_a.pk in want), w.town_b.pk: int(w.grid_b.pk in want)}


def test_a_town_sees_only_its_own_grids_figures(data, client_for):
    w = data
    with time_machine.travel(NOW, tick=False):
        report = figures.report(w.town_a_dispatcher, w.town_a, start=START, end=END, idle_days=7)
        body = (
            client_for(w.town_a_dispatcher)
            .get(f"/grids/figures/?region={w.town_a.pk}&start=2026-11-01&end=2026-11-25&idle_days=7")
            .content.decode()
        )
        assert client_for(w.outsider).get(f"/grids/figures/?region={w.town_a.pk}").status_code == 400
    assert [g.pk for g, _ in report.grid_rows] == [w.grid_a.pk]
    assert {u.pk for u, _ in report.worker_rows} == {w.grid_worker_a.pk, w.worker_a2.pk}
    assert "林兼职" in body and "周北" not in body and "网格统计" in body
    assert report.totals["resolution_rate"] is not None
    assert f"{report.totals['resolution_rate']:.1f}%" in body
