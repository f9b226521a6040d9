"""seed_demo's grids step: teams, cards, visits, reports at every step and this period's sweeps, once."""

from __future__ import annotations

import datetime as dt
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone

from cases.models import Case, Channel, Status
from centers.models import Region, RegionKind, User
from grids import figures
from grids.models import (
    GridProfile,
    GridTeamMember,
    Hazard,
    HouseholdVisit,
    Rhythm,
    Sweep,
    SweepTask,
    TeamRole,
)

pytestmark = pytest.mark.django_db

GRID_TABLES = (GridTeamMember, GridProfile, HouseholdVisit, Sweep, SweepTask, Hazard, Case)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--quiet-logins", *args, stdout=out)
    return out.getvalue()


def test_demo_grids_have_teams_visits_reports_and_sweeps_and_a_second_run_adds_nothing():
    started = time.monotonic()
    output = seed("--towns", "2")
    elapsed = time.monotonic() - started
    grids = Region.objects.filter(kind=RegionKind.GRID)
    # Every cell: an instructor, at least one grid worker with a login, a party group leader, 1–3 collectors.
    per_grid = grids.annotate(
        instructors=Count("team_members", filter=Q(team_members__role=TeamRole.INSTRUCTOR)),
        workers=Count(
            "team_members",
            filter=Q(team_members__role=TeamRole.GRID_WORKER, team_members__user__isnull=False),
        ),
        leaders=Count("team_members", filter=Q(team_members__role=TeamRole.PARTY_LEADER)),
        collectors=Count("team_members", filter=Q(team_members__role=TeamRole.INFO_COLLECTOR)),
    )
    for g in per_grid:
        assert (g.instructors, g.leaders) == (1, 1) and g.workers >= 1 and 1 <= g.collectors <= 3, g.code
    assert GridProfile.objects.count() == grids.count()
    assert "入户走访" in output and "排查任务" in output
    # Visits in most cells; a few cells idle for over a week, which the town's warning shows.
    county = Region.objects.get(kind=RegionKind.COUNTY)
    today = timezone.localdate()
    leader = User.objects.get(username="county_leader")
    report = figures.report(leader, county, start=today - dt.timedelta(days=30), end=today, idle_days=7)
    assert 0 < report.idle_count < grids.count() // 3
    assert report.totals["visits"] > grids.count()
    # Reports from the first village of each town; town A's hazards at every step.
    steps = set(Hazard.objects.values_list("case__status", flat=True))
    assert {Status.REGISTERED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED} <= steps
    assert Case.objects.filter(channel=Channel.GRID, kind="dispute").count() == 6
    # This period's sweeps: the county's monthly and each town's half-monthly; some reports filed.
    assert Sweep.objects.filter(rhythm=Rhythm.MONTHLY).count() == 1
    assert Sweep.objects.filter(rhythm=Rhythm.HALF_MONTHLY).count() == 2
    assert SweepTask.objects.filter(completed_at__isnull=False).exists()
    assert elapsed < 60, f"seed_demo --towns 2 took {elapsed:.1f}s"

    before = {m.__name__: m.objects.count() for m in GRID_TABLES}
    seed("--towns", "2")
    assert {m.__name__: m.objects.count() for m in GRID_TABLES} == before
