"""Grid figures (网格统计): per grid, per grid worker, per sub-region, and the no-visit warning.

Every figure is a `cases.metrics` expression evaluated by the database in a GROUP BY: visits from
`HouseholdVisit`, disputes and hazards found, 化解率 and average days from grid-reported `Case`
rows. Pages show one page of grids or workers at a time, so each table costs two grouped queries
over that page's ids, whatever the county's size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page
from django.db.models import Count, F, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from cases import metrics
from cases.models import Case
from cases.paging import CappedPaginator
from centers.jurisdiction import restrict
from centers.models import Region, RegionKind, User

from .models import HouseholdVisit, TeamRole
from .selectors import grid_list_for_user

EMPTY = {
    "visits": 0,
    "disputes_found": 0,
    "hazards_found": 0,
    "found": 0,
    "resolved": 0,
    "resolution_rate": None,
    "avg_days_to_resolve": None,
}


def _visits(user: Any, region: Region) -> QuerySet[HouseholdVisit]:
    return restrict(HouseholdVisit.objects.filter(grid_path__startswith=region.path), user)


def _cases(user: Any, region: Region) -> QuerySet[Case]:
    return restrict(Case.objects.filter(region_path__startswith=region.path), user)


def totals(user: Any, region: Region, period: metrics.Period) -> dict[str, Any]:
    """The region's grid figures over the period: two aggregate queries."""
    out = dict(EMPTY)
    out.update(_visits(user, region).aggregate(visits=metrics.visit_count(period=period)))
    row = (
        _cases(user, region)
        .filter(metrics.grid_report_q())
        .aggregate(**metrics.grid_figure_annotations(period=period))
    )
    row["avg_days_to_resolve"] = metrics.to_days(row["avg_days_to_resolve"])
    out.update(row)
    return out


def _merge(
    keys: list[Any], visits: dict[Any, dict[str, Any]], cases: dict[Any, dict[str, Any]]
) -> dict[Any, dict[str, Any]]:
    out = {}
    for k in keys:
        row = dict(EMPTY)
        row.update(visits.get(k, {}))
        row.update(cases.get(k, {}))
        out[k] = row
    return out


def by_grid(user: Any, grid_ids: list[int], period: metrics.Period) -> dict[int, dict[str, Any]]:
    """Figures of the given grid cells (a page of them): visits per grid, cases per grid."""
    visits = {
        r["grid_id"]: {"visits": r["visits"]}
        for r in HouseholdVisit.objects.filter(grid_id__in=grid_ids)
        .order_by()
        .values("grid_id")
        .annotate(visits=metrics.visit_count(period=period))
    }
    cases = metrics.grid_figures_by(
        restrict(Case.objects.filter(region_id__in=grid_ids), user), "region_id", period=period
    )
    return _merge(grid_ids, visits, cases)


def by_worker(
    user: Any, region: Region, worker_ids: list[int], period: metrics.Period
) -> dict[int, dict[str, Any]]:
    """Figures of the given grid workers within `region`: their visits and what they reported."""
    visits = {
        r.pop("worker_id"): r
        for r in _visits(user, region)
        .filter(worker_id__in=worker_ids)
        .order_by()
        .values("worker_id")
        .annotate(
            visits=metrics.visit_count(period=period), last_visit_at=metrics.last_activity_max("visited_at")
        )
    }
    cases = metrics.grid_figures_by(
        _cases(user, region).filter(registered_by_id__in=worker_ids), "registered_by_id", period=period
    )
    return _merge(worker_ids, visits, cases)


def by_child(
    user: Any, region: Region, period: metrics.Period, now: dt.datetime, idle_days: int
) -> list[dict[str, Any]]:
    """Figures per place directly under `region` (towns of a county, villages of a town)."""
    children = list(
        restrict(
            Region.objects.filter(path__startswith=region.path, depth=region.depth + 1).exclude(
                kind=RegionKind.GRID
            ),
            user,
        ).order_by("path")
    )
    if not children:
        return []
    n = len(region.path) + Region.steplen
    visits = {
        r.pop("prefix"): r
        for r in _visits(user, region)
        .annotate(prefix=Substr("grid_path", 1, n))
        .order_by()
        .values("prefix")
        .annotate(visits=metrics.visit_count(period=period))
    }
    cases = metrics.grid_figures_by(
        _cases(user, region).annotate(prefix=Substr("region_path", 1, n)), "prefix", period=period
    )
    grids = restrict(Region.objects.filter(path__startswith=region.path, kind=RegionKind.GRID), user)
    grid_counts = dict(
        grids.annotate(prefix=Substr("path", 1, n))
        .order_by()
        .values("prefix")
        .annotate(c=Count("pk"))
        .values_list("prefix", "c")
    )
    idle_counts = dict(
        _idle(grids, now, idle_days)
        .annotate(prefix=Substr("path", 1, n))
        .order_by()
        .values("prefix")
        .annotate(c=Count("pk"))
        .values_list("prefix", "c")
    )
    merged = _merge([c.path for c in children], visits, cases)
    return [
        {
            "region": c,
            "grids": grid_counts.get(c.path, 0),
            "idle": idle_counts.get(c.path, 0),
            **merged[c.path],
        }
        for c in children
    ]


def _idle(grids: QuerySet[Region], now: dt.datetime, days: int) -> QuerySet[Region]:
    return grids.annotate(
        last_visit_at=metrics.last_activity_at(HouseholdVisit.objects.all(), at="visited_at", link="grid_id")
    ).filter(metrics.idle_q(last="last_visit_at", now=now, days=days))


def idle_grids(user: Any, region: Region, *, now: dt.datetime, days: int) -> QuerySet[Region]:
    """Grid cells under `region` with no household visit in the last `days` days (never visited first)."""
    return (
        grid_list_for_user(user, region)
        .filter(metrics.idle_q(last="last_visit_at", now=now, days=days))
        .order_by(F("last_visit_at").asc(nulls_first=True), "path")
    )


def grid_workers_in(user: Any, region: Region) -> QuerySet[User]:
    """Logins holding an active grid-worker post in a grid under `region`."""
    return (
        User.objects.filter(
            grid_posts__grid_path__startswith=region.path,
            grid_posts__is_active=True,
            grid_posts__role=TeamRole.GRID_WORKER,
        )
        .distinct()
        .order_by("full_name", "pk")
    )


@dataclass
class Report:
    period: metrics.Period
    totals: dict[str, Any]
    children: list[dict[str, Any]]
    grid_page: Page
    grid_rows: list[tuple[Region, dict[str, Any]]]
    worker_page: Page
    worker_rows: list[tuple[User, dict[str, Any]]]
    idle: list[Region]
    idle_count: int
    idle_days: int
    extra: dict[str, Any] = field(default_factory=dict)


def report(
    user: Any,
    region: Region,
    *,
    start: dt.date,
    end: dt.date,
    idle_days: int,
    now: dt.datetime | None = None,
    grid_page: Any = None,
    worker_page: Any = None,
    per_page: int = 50,
) -> Report:
    now = now or timezone.now()
    period = metrics.Period.from_dates(start, end)
    grids = grid_list_for_user(user, region)
    gpage = CappedPaginator(grids, per_page).get_page(grid_page)
    gfig = by_grid(user, [g.pk for g in gpage.object_list], period)
    workers = grid_workers_in(user, region)
    wpage = CappedPaginator(workers, per_page).get_page(worker_page)
    wfig = by_worker(user, region, [w.pk for w in wpage.object_list], period)
    idle_qs = idle_grids(user, region, now=now, days=idle_days)
    return Report(
        period=period,
        totals=totals(user, region, period),
        children=by_child(user, region, period, now, idle_days) if region.kind != RegionKind.GRID else [],
        grid_page=gpage,
        grid_rows=[(g, gfig[g.pk]) for g in gpage.object_list],
        worker_page=wpage,
        worker_rows=[(w, wfig[w.pk]) for w in wpage.object_list],
        idle=list(idle_qs[:100]),
        idle_count=idle_qs.count(),
        idle_days=idle_days,
    )


def for_grid(user: Any, grid: Region, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The grid card's figures: the last 30 days and all time."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    recent = metrics.Period.from_dates(today - dt.timedelta(days=29), today)
    return {
        "recent": by_grid(user, [grid.pk], recent)[grid.pk],
        "all": by_grid(user, [grid.pk], metrics.ALL_TIME)[grid.pk],
    }
