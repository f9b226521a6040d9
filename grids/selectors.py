"""Reads of grid work. Every list takes the user and goes through the jurisdiction gate; every
figure comes from cases.metrics."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Length, Substr
from django.http import Http404
from django.utils import timezone

from cases import metrics
from cases.models import OPEN_STATES, Case, CaseAssignment, CaseKind, Channel, Status
from cases.selectors import COLOUR_ORDER
from centers.jurisdiction import get_for_user_or_404, restrict
from centers.models import Region, RegionKind, Unit, User
from centers.selectors import ancestor_paths

from .models import GridTeamMember, Hazard, HouseholdVisit, Sweep, SweepTask, TeamRole

# Grids with no household visit for this many days are a warning for their town (the default;
# the figures page lets the town choose another N).
DEFAULT_IDLE_DAYS = 7


# ============================================================================================
# Grids and teams
# ============================================================================================


def grids_served_by(user: Any, *, with_village: bool = False) -> QuerySet[Region]:
    """The grid cells whose team `user` is an active member of (a worker may serve several).

    `with_village` adds `village_name` (the parent's name, by the materialized path) for labels.
    """
    qs = restrict(
        Region.objects.filter(
            kind=RegionKind.GRID,
            pk__in=GridTeamMember.objects.filter(user=user, is_active=True).values("grid_id"),
        ),
        user,
    ).order_by("path")
    if with_village:
        parent_path = Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Region.steplen)
        qs = qs.annotate(village_name=Subquery(Region.objects.filter(path=parent_path).values("name")[:1]))
    return qs


def grid_get_for_user(user: Any, pk: int) -> Region:
    """A grid cell in the user's jurisdiction, or 404."""
    return get_for_user_or_404(Region.objects.filter(kind=RegionKind.GRID), user, pk=pk)


def region_get_for_user(user: Any, pk: int) -> Region:
    return get_for_user_or_404(Region.objects.all(), user, pk=pk)


def team_of(grid: Region) -> list[GridTeamMember]:
    """The grid's active 3+N team, in the order of the card: instructor, grid workers, party leader, collectors."""
    order = {r: i for i, r in enumerate(TeamRole.values)}
    members = list(GridTeamMember.objects.filter(grid=grid, is_active=True).select_related("user"))
    return sorted(members, key=lambda m: (order[m.role], m.pk))


def grid_list_for_user(user: Any, region: Region) -> QuerySet[Region]:
    """Grid cells under `region` with their team size and grid worker count (one query)."""
    active = Q(team_members__is_active=True)
    return (
        restrict(Region.objects.filter(kind=RegionKind.GRID, path__startswith=region.path), user)
        .select_related("grid_profile")
        .annotate(
            team_size=Count("team_members", filter=active),
            worker_count=Count("team_members", filter=active & Q(team_members__role=TeamRole.GRID_WORKER)),
            last_visit_at=metrics.last_activity_at(
                HouseholdVisit.objects.all(), at="visited_at", link="grid_id"
            ),
        )
        .order_by("path")
    )


def grid_totals(user: Any, region: Region) -> dict[str, Any]:
    """实有人口、实有户数、实有房屋 and the number of grid cells under `region` (aggregate counts)."""
    qs = restrict(Region.objects.filter(kind=RegionKind.GRID, path__startswith=region.path), user)
    return qs.aggregate(
        grids=Count("pk"),
        households=Sum("households", default=0),
        population=Sum("population", default=0),
        houses=Sum("grid_profile__houses", default=0),
        floating=Sum("grid_profile__floating_population", default=0),
    )


def regions_for_picker(user: Any, *, kinds: tuple[str, ...]) -> QuerySet[Region]:
    return restrict(Region.objects.filter(kind__in=kinds), user).order_by("path")


# ============================================================================================
# The grid worker's phone: today's tasks and their own reports
# ============================================================================================


@dataclass
class Today:
    grids: list[Region]
    sweep_tasks: list[SweepTask]
    to_verify: list[Hazard]
    open_reports: list[Case]
    open_report_count: int
    visits_today: int
    idle_grids: list[Region] = field(default_factory=list)


def grid_reports_of(user: Any) -> QuerySet[Case]:
    """Disputes and hazards `user` reported from the grid, newest first."""
    return restrict(
        Case.objects.filter(
            registered_by=user, channel=Channel.GRID, kind__in=(CaseKind.DISPUTE, CaseKind.HAZARD)
        ),
        user,
    ).select_related("region", "owning_center", "owning_unit")


def today_for(user: Any, *, now: dt.datetime | None = None) -> Today:
    """Everything on the grid worker's first screen, in a handful of small queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    served = grids_served_by(user).annotate(
        last_visit_at=metrics.last_activity_at(HouseholdVisit.objects.all(), at="visited_at", link="grid_id")
    )
    grids = list(served)
    grid_ids = [g.pk for g in grids]
    sweep_tasks = list(
        SweepTask.objects.filter(
            grid_id__in=grid_ids, completed_at__isnull=True, sweep__period_start__lte=today
        )
        .select_related("sweep", "grid")
        .order_by("sweep__due_on", "pk")
    )
    to_verify = list(
        Hazard.objects.filter(
            case__status=Status.RESOLVED,
            case__assignments__user=user,
            case__assignments__is_active=True,
        )
        .select_related("case", "case__owning_unit", "case__region")
        .order_by("case__due_at")
    )
    open_reports = grid_reports_of(user).filter(status__in=OPEN_STATES)
    start = dt.datetime.combine(today, dt.time.min, tzinfo=timezone.get_current_timezone())
    visits_today = HouseholdVisit.objects.filter(worker=user, visited_at__gte=start).count()
    idle = list(served.filter(metrics.idle_q(last="last_visit_at", now=now, days=DEFAULT_IDLE_DAYS)))
    return Today(
        grids=grids,
        sweep_tasks=sweep_tasks,
        to_verify=to_verify,
        open_reports=list(
            open_reports.annotate(colour_order=COLOUR_ORDER).order_by("colour_order", "due_at")[:10]
        ),
        open_report_count=open_reports.count(),
        visits_today=visits_today,
        idle_grids=idle,
    )


def visits_of(user: Any) -> QuerySet[HouseholdVisit]:
    """The user's own visits (newest first), for the phone's visit list."""
    return (
        HouseholdVisit.objects.filter(worker=user)
        .select_related("grid", "case")
        .order_by("-visited_at", "-pk")
    )


def visit_list_for_user(user: Any, region: Region) -> QuerySet[HouseholdVisit]:
    return (
        restrict(HouseholdVisit.objects.filter(grid_path__startswith=region.path), user)
        .select_related("grid", "worker", "case")
        .order_by("-visited_at", "-pk")
    )


def visit_get_for_user(user: Any, pk: int) -> HouseholdVisit:
    return get_for_user_or_404(HouseholdVisit.objects.select_related("grid", "worker", "case"), user, pk=pk)


def report_get_for_user(user: Any, pk: int) -> Case:
    """A dispute or hazard reported from a grid, readable by `user` (the gate), or 404."""
    qs = Case.objects.filter(
        channel=Channel.GRID, kind__in=(CaseKind.DISPUTE, CaseKind.HAZARD)
    ).select_related("region", "owning_center__region", "owning_unit", "registered_by")
    return get_for_user_or_404(qs, user, pk=pk)


# ============================================================================================
# Hazards
# ============================================================================================

HAZARD_STEPS = {
    "pending": ("待交办", Q(case__status__in=(Status.REGISTERED, Status.ACCEPTED, Status.ASSIGNED))),
    "rectifying": ("整改中", Q(case__status__in=(Status.IN_PROGRESS, Status.WAITING))),
    "to_verify": ("待核查", Q(case__status__in=(Status.RESOLVED, Status.UNRESOLVED))),
    "closed": ("已销号", Q(case__status=Status.CLOSED)),
}


def hazard_list_for_user(user: Any, *, step: str = "", mine: bool = False) -> QuerySet[Hazard]:
    """Hazards the user may read; `mine`: those their center/unit owns or they are assigned to."""
    qs = restrict(Hazard.objects.all(), user).exclude(case__status=Status.MERGED)
    if step in HAZARD_STEPS:
        qs = qs.filter(HAZARD_STEPS[step][1])
    if mine:
        from cases.selectors import my_queue

        qs = qs.filter(case__in=my_queue(user).values("pk"))
    return qs.select_related(
        "case", "case__region", "case__owning_center", "case__owning_unit", "responsible_unit"
    ).order_by("case__due_at", "-pk")


def hazard_step_counts(user: Any) -> dict[str, int]:
    qs = restrict(Hazard.objects.all(), user)
    return qs.aggregate(**{k: Count("pk", filter=q) for k, (_, q) in HAZARD_STEPS.items()})


def hazard_get_for_user(user: Any, pk: int) -> Hazard:
    qs = Hazard.objects.select_related(
        "case",
        "case__region",
        "case__owning_center__region",
        "case__owning_unit",
        "case__registered_by",
        "responsible_unit",
        "photo",
        "evidence",
        "rectified_by",
        "verified_by",
    )
    return get_for_user_or_404(qs, user, pk=pk)


def hazard_units(hazard: Hazard) -> QuerySet[Unit]:
    """Units a hazard may be handed to: active units whose place contains the hazard's place."""
    return (
        Unit.objects.filter(is_active=True, region__path__in=ancestor_paths(hazard.case.region_path))
        .select_related("region")
        .order_by("-region__depth", "name")
    )


def hazard_reporters(case: Case) -> list[User]:
    return [
        a.user
        for a in CaseAssignment.objects.filter(case=case, is_active=True, role="assistant").select_related(
            "user"
        )
    ]


# ============================================================================================
# Sweeps
# ============================================================================================


def _visible_sweep_tasks(user: Any) -> QuerySet[SweepTask]:
    """Tasks in the user's jurisdiction, or of a grid whose team the user serves in."""
    mine = GridTeamMember.objects.filter(user=user, is_active=True).values("grid_id")
    visible = restrict(SweepTask.objects.all(), user).values("pk")
    return SweepTask.objects.filter(Q(pk__in=visible) | Q(grid_id__in=mine))


def sweep_list_for_user(user: Any) -> QuerySet[Sweep]:
    """Sweeps whose region is in the user's jurisdiction, or that have a task the user may read
    (a town sees the county's monthly sweep through its own grids' tasks)."""
    visible = restrict(Sweep.objects.all(), user).values("pk")
    through_tasks = _visible_sweep_tasks(user).values("sweep_id")
    return (
        Sweep.objects.filter(Q(pk__in=visible) | Q(pk__in=through_tasks))
        .select_related("region", "created_by")
        .order_by("-period_start", "-pk")
    )


def sweep_progress(user: Any, sweep_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per sweep, the user's part of it: tasks, completed, 完成率, findings (one GROUP BY)."""
    rows = (
        _visible_sweep_tasks(user)
        .filter(sweep_id__in=sweep_ids)
        .order_by()
        .values("sweep_id")
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=Q(completed_at__isnull=False)),
            completion_rate=metrics.task_completion_rate(),
            households=Sum("households_checked", default=0),
            findings=Sum("findings_count", default=0),
        )
    )
    return {r.pop("sweep_id"): r for r in rows}


def sweep_get_for_user(user: Any, pk: int) -> Sweep:
    """A sweep the user may read: in their jurisdiction, or one of their grids has a task in it."""
    sweep = sweep_list_for_user(user).filter(pk=pk).first()
    if sweep is None:
        raise Http404("未找到该排查任务，或您无权查看。")
    return sweep


def sweep_tasks_for_user(user: Any, sweep: Sweep) -> QuerySet[SweepTask]:
    """The completion report per grid: the tasks of `sweep` the user may read."""
    return (
        _visible_sweep_tasks(user)
        .filter(sweep=sweep)
        .select_related("grid", "completed_by")
        .annotate(
            disputes=Count("cases", filter=Q(cases__kind=CaseKind.DISPUTE)),
            hazards=Count("cases", filter=Q(cases__kind=CaseKind.HAZARD)),
        )
        .order_by("grid_path")
    )


def sweep_report_by_village(user: Any, sweep: Sweep) -> list[dict[str, Any]]:
    """Completion per village (one GROUP BY over the sweep's tasks): tasks, done, completion rate, findings."""
    village_len = len(sweep.region.path) + Region.steplen * (
        {RegionKind.COUNTY: 2, RegionKind.TOWN: 1}.get(sweep.region.kind, 0)
    )
    rows = (
        _visible_sweep_tasks(user)
        .filter(sweep=sweep)
        .annotate(village_path=Substr("grid_path", 1, village_len))
        .order_by()
        .values("village_path")
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=Q(completed_at__isnull=False)),
            completion_rate=metrics.task_completion_rate(),
            households=Sum("households_checked", default=0),
            findings=Sum("findings_count", default=0),
        )
        .order_by("village_path")
    )
    rows = list(rows)
    names = dict(
        Region.objects.filter(path__in=[r["village_path"] for r in rows]).values_list("path", "name")
    )
    for r in rows:
        r["name"] = names.get(r["village_path"], r["village_path"])
    return rows


def sweep_task_get_for_user(user: Any, pk: int) -> SweepTask:
    task = (
        _visible_sweep_tasks(user)
        .filter(pk=pk)
        .select_related("sweep", "sweep__region", "grid", "completed_by")
        .first()
    )
    if task is None:
        raise Http404("未找到该排查任务，或您无权查看。")
    return task


def team_candidates(grid: Region) -> QuerySet[User]:
    """Logins that may join the grid's team: active staff posted at a center whose place contains the grid."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__center__region__path__in=ancestor_paths(grid.path),
        )
        .distinct()
        .order_by("full_name", "username")
    )


def profile_initial(grid: Region, profile: Any) -> dict[str, Any]:
    return {
        "households": grid.households,
        "population": grid.population,
        "houses": profile.houses if profile else 0,
        "floating_population": profile.floating_population if profile else 0,
        "boundary": profile.boundary if profile else "",
        "service_phone": profile.service_phone if profile else "",
        "note": profile.note if profile else "",
    }
