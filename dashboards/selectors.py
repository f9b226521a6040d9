"""Reads for the big screen: the screen's place, and its data from the rollup tables.

Every read takes the user: rollups through the jurisdiction gate (`restrict`, on the area's
path), the red-warning list through the same gate on Case. A county leader's screen covers the
county's towns (and matters placed at the county itself, shown as 县直); a town leader's screen
is the same page for their town. Village stations and departments have no screen: the rollups
are kept per town, the finest place a command-center wall compares.

Every figure is a `cases.metrics` expression or function: counts are sums of the rollups'
fact counts, rates `metrics.rollup_rate`, changes `metrics.change_rate`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from cases import metrics
from cases.models import Case, CaseKind, Category, Channel, WarningLevel
from centers.jurisdiction import restrict, scope_for
from centers.models import Region, RegionKind

from .models import (
    CLOSED_COUNTS,
    FLOW_COUNTS,
    ClosedRollup,
    Dimension,
    FlowRollup,
    Granularity,
    GridActivityRollup,
    OpenRollup,
    PeriodKind,
    RollupState,
    SafetyIndex,
)
from .rollups import CASES, GRID
from .safety import STATE as SAFETY_STATE

SCREEN_KINDS = (RegionKind.PROVINCE, RegionKind.CITY, RegionKind.COUNTY, RegionKind.TOWN)
RED_TICKER = 20
# The rollup figures are cached per generation; this only bounds how long a stale key lingers.
CACHE_SECONDS = 600
TOP_CATEGORIES = 8
COLOURS = (WarningLevel.RED, WarningLevel.YELLOW, WarningLevel.GREEN)


class NoScreen(Http404):
    pass


# ============================================================================================
# Where the screen looks
# ============================================================================================


def screen_roots(user: Any) -> list[Region]:
    """The places `user` may put on the screen: the county or town they lead (or are granted)."""
    scope = scope_for(user)
    if scope.unrestricted:
        qs = Region.objects.filter(depth=1)
    else:
        qs = Region.objects.filter(path__in=scope.paths)
    return list(qs.filter(kind__in=SCREEN_KINDS).order_by("depth", "path"))


def screen_root(user: Any, region_id: Any = None) -> Region:
    """The screen's place: `region_id` when the user may see it (a county, town or above), else
    their highest one. 404 when they have none (village stations, departments)."""
    if region_id not in (None, ""):
        try:
            pk = int(region_id)
        except (TypeError, ValueError) as exc:
            raise NoScreen("未找到该辖区，或您无权查看。") from exc
        region = restrict(Region.objects.filter(pk=pk, kind__in=SCREEN_KINDS), user).first()
        if region is None:
            raise NoScreen("未找到该辖区，或您无权查看。")
        return region
    roots = screen_roots(user)
    if not roots:
        raise NoScreen("指挥大屏仅供县、乡镇两级综治中心使用。")
    return roots[0]


def screen_areas(user: Any, root: Region) -> list[Region]:
    """The areas the screen compares: the towns under `root` (or `root` itself when it is a
    town), and `root` for matters placed at it directly (县直)."""
    if root.kind == RegionKind.TOWN:
        return [root]
    towns = restrict(Region.objects.filter(path__startswith=root.path, kind=RegionKind.TOWN), user).order_by(
        "path"
    )
    return [*towns, root]


def map_regions(user: Any, root: Region) -> list[Region]:
    """The places on the screen's map: a county's towns, a town's villages."""
    kind = RegionKind.VILLAGE if root.kind == RegionKind.TOWN else RegionKind.TOWN
    return list(restrict(Region.objects.filter(path__startswith=root.path, kind=kind), user).order_by("path"))


def _gate(qs: QuerySet, user: Any, root: Region) -> QuerySet:
    return restrict(qs.filter(area__path__startswith=root.path), user)


# ============================================================================================
# Periods
# ============================================================================================


def _same_day_last_year(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def period_q(first: dt.date, last: dt.date) -> Q:
    """Rollup rows covering the local days [first, last]: whole months from month rows, the
    ragged ends from day rows (a year to date reads a dozen rows per area, not 365)."""
    q = Q(pk__in=[])
    if first > last:
        return q
    for gran, lo, hi in _split(first, last):
        q |= Q(granularity=gran, start__gte=lo, start__lte=hi)
    return q


def _figures(qs: QuerySet, counts: tuple[str, ...], rates: dict[str, tuple[str, str]]) -> dict[str, Any]:
    # Aggregate aliases must not shadow the columns the rates sum, hence the n_ prefix.
    row = qs.aggregate(
        **{f"n_{c}": Sum(c) for c in counts},
        **{name: metrics.rollup_rate(num, den) for name, (num, den) in rates.items()},
    )
    out: dict[str, Any] = {c: row[f"n_{c}"] or 0 for c in counts}
    out.update({name: row[name] for name in rates})
    return out


def flow_figures(qs: QuerySet, first: dt.date, last: dt.date, **filters: Any) -> dict[str, Any]:
    """Matters registered in [first, last] (FlowRollup rows already gated): counts and rates."""
    return _figures(
        qs.filter(period_q(first, last), **filters),
        FLOW_COUNTS,
        {"resolution_rate": ("resolved", "received"), "escalation_rate": ("escalated", "received")},
    )


def closed_figures(qs: QuerySet, first: dt.date, last: dt.date, **filters: Any) -> dict[str, Any]:
    """Matters closed in [first, last] (ClosedRollup rows already gated): counts and rates."""
    return _figures(
        qs.filter(period_q(first, last), **filters),
        CLOSED_COUNTS,
        {
            "success_rate": ("closed_resolved", "closed"),
            "on_time_close_rate": ("closed_on_time", "on_time_known"),
            "satisfaction_rate": ("satisfied", "satisfaction_known"),
        },
    )


def _split(first: dt.date, last: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """[first, last] as (granularity, lo, hi) pieces: day rows at the ragged ends, month rows between."""
    out: list[tuple[str, dt.date, dt.date]] = []
    month = first.replace(day=1)
    if first != month:
        month_end = _month_end(first)
        out.append((Granularity.DAY, first, min(last, month_end)))
        month = month_end + dt.timedelta(days=1)
    if month > last:
        return out
    last_month = last.replace(day=1)
    full_to = last_month if _month_end(last) == last else _prev_month(last_month)
    if full_to >= month:
        out.append((Granularity.MONTH, month, full_to))
    if _month_end(last) != last:
        out.append((Granularity.DAY, max(last_month, month), last))
    return out


def _month_end(d: dt.date) -> dt.date:
    nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def _prev_month(d: dt.date) -> dt.date:
    return (d.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


# ============================================================================================
# The screen's data
# ============================================================================================


def _states() -> dict[str, RollupState]:
    return {s.name: s for s in RollupState.objects.filter(name__in=[CASES, GRID, SAFETY_STATE])}


def rollup_age(now: dt.datetime, states: dict[str, RollupState] | None = None) -> dict[str, Any]:
    """How old the case rollups are: every change before `watermark` is on the screen."""
    case_state = (states if states is not None else _states()).get(CASES)
    watermark = case_state.watermark if case_state else None
    return {
        "watermark": timezone.localtime(watermark).isoformat() if watermark else None,
        "age_seconds": round((now - watermark).total_seconds()) if watermark else None,
        "refresh_ms": case_state.last_ms if case_state else None,
    }


def _cache_key(user: Any, root: Region, states: dict[str, RollupState], today: dt.date) -> str:
    """The rollup figures depend on the place, the user's jurisdiction paths (the rollups' gate
    looks at paths only), the day, and the data: each refresh bumps its family's generation."""
    scope = scope_for(user)
    who = hashlib.sha256(repr((scope.unrestricted, scope.paths)).encode()).hexdigest()[:16]
    gens = "-".join(str(states[n].generation if n in states else 0) for n in (CASES, GRID, SAFETY_STATE))
    db = connection.settings_dict["NAME"]  # installations (and test databases) may share a Redis
    return f"zz:screen:v1:{db}:{root.pk}:{who}:{gens}:{today.isoformat()}"


def screen_data(user: Any, root: Region, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the big screen shows. The rollup figures are computed once per refresh of the
    rollups (and cached until the next, shared by every screen with the same jurisdiction); the
    red-warning list and the rollups' age are read live on every call."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    states = _states()
    key = _cache_key(user, root, states, today)
    data = cache.get(key)
    if data is None:
        data = rollup_figures(user, root, today)
        cache.set(key, data, CACHE_SECONDS)
    return {
        **data,
        "generated_at": timezone.localtime(now).isoformat(),
        "rollup": rollup_age(now, states),
        "red_ticker": red_ticker(user, root),
    }


def rollup_figures(user: Any, root: Region, today: dt.date) -> dict[str, Any]:
    """The screen's figures from the rollups (a dozen small indexed reads)."""
    year_start = today.replace(month=1, day=1)
    ly_today = _same_day_last_year(today)
    ly_start = year_start.replace(year=year_start.year - 1)
    areas = screen_areas(user, root)
    area_names = {
        a.pk: ("县直" if a.pk == root.pk and root.kind != RegionKind.TOWN else a.name) for a in areas
    }

    flow = _gate(FlowRollup.objects.all(), user, root)
    closed = _gate(ClosedRollup.objects.all(), user, root)
    opened = _gate(OpenRollup.objects.all(), user, root)
    grid = _gate(GridActivityRollup.objects.all(), user, root)

    # Today's intake by channel.
    intake_rows = dict(
        flow.filter(granularity=Granularity.DAY, start=today, dimension=Dimension.CHANNEL)
        .order_by()
        .values_list("value")
        .annotate(n=Sum("received"))
    )
    intake = [
        {"code": c.value, "label": c.label, "n": intake_rows.get(c.value, 0)}
        for c in Channel
        if intake_rows.get(c.value)
    ]
    today_total = sum(i["n"] for i in intake)

    # Open matters by colour, per area.
    by_area: dict[int, dict[str, int]] = {a.pk: dict.fromkeys(COLOURS, 0) for a in areas}
    for area_id, colour, n in (
        opened.order_by().values_list("area_id", "warning_level").annotate(n=Sum("open"))
    ):
        if area_id in by_area and colour in by_area[area_id]:
            by_area[area_id][colour] += n
    open_by_area = [
        {"area": area_names[a.pk], "area_id": a.pk, **{str(c): by_area[a.pk][c] for c in COLOURS}}
        for a in areas
        if a.pk != root.pk or any(by_area[a.pk].values()) or root.kind == RegionKind.TOWN
    ]
    open_totals = {str(c): sum(r[str(c)] for r in open_by_area) for c in COLOURS}

    # Year to date: resolution, mediation, petitions and 110 year on year.
    ytd = flow_figures(flow, year_start, today, dimension=Dimension.ALL)
    mediation = closed_figures(
        closed, year_start, today, dimension=Dimension.KIND, value__in=metrics.MEDIATED_KINDS
    )
    petition = {"dimension": Dimension.KIND, "value": CaseKind.PETITION}
    police = {"dimension": Dimension.CHANNEL, "value": Channel.POLICE_110}
    petitions_now = flow_figures(flow, year_start, today, **petition)["received"]
    petitions_then = flow_figures(flow, ly_start, ly_today, **petition)["received"]
    police_now = flow_figures(flow, year_start, today, **police)["received"]
    police_then = flow_figures(flow, ly_start, ly_today, **police)["received"]

    # Top categories this year.
    cats = (
        flow.filter(granularity=Granularity.MONTH, dimension=Dimension.CATEGORY, start__gte=year_start)
        .order_by()
        .values_list("value")
        .annotate(n=Sum("received"))
        .order_by("-n", "value")
    )[:TOP_CATEGORIES]
    labels = dict(Category.choices)
    categories = [{"code": v, "label": labels.get(v, v), "n": n} for v, n in cats if n]

    # The last twelve months: received and resolved by month of registration.
    first_month = (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1)
    months = dict(
        (start, (received, resolved))
        for start, received, resolved in flow.filter(
            granularity=Granularity.MONTH, dimension=Dimension.ALL, start__gte=first_month
        )
        .order_by()
        .values_list("start")
        .annotate(r=Sum("received"), s=Sum("resolved"))
    )
    trend = []
    m = first_month
    while m <= today:
        received, resolved = months.get(m, (0, 0))
        trend.append({"month": m.strftime("%Y-%m"), "received": received, "resolved": resolved})
        m = (m + dt.timedelta(days=32)).replace(day=1)

    # Grid workers today.
    grid_rows = {
        r["area_id"]: r
        for r in grid.filter(day=today)
        .order_by()
        .values("area_id")
        .annotate(
            visits=Sum("visits"),
            disputes=Sum("disputes_found"),
            hazards=Sum("hazards_found"),
            workers=Sum("workers"),
        )
    }
    grid_by_area = [
        {
            "area": area_names[a.pk],
            "visits": grid_rows.get(a.pk, {}).get("visits", 0),
            "workers": grid_rows.get(a.pk, {}).get("workers", 0),
        }
        for a in areas
        if a.kind == RegionKind.TOWN
    ]
    grid_totals = {
        k: sum(r[k] or 0 for r in grid_rows.values()) for k in ("visits", "disputes", "hazards", "workers")
    }

    # Safety index of the map's places and of the root, this month (dashboards.tasks.compute_safety_index).
    month_start = today.replace(day=1)
    places = map_regions(user, root)
    safety = {
        s.region_id: s
        for s in restrict(
            SafetyIndex.objects.filter(
                region_id__in=[p.pk for p in places] + [root.pk],
                period_kind=PeriodKind.MONTH,
                period_start=month_start,
            ),
            user,
        )
    }
    safety_map = [
        {
            "name": p.name,
            "id": p.pk,
            "value": float(safety[p.pk].value) if p.pk in safety and safety[p.pk].value is not None else None,
        }
        for p in places
    ]
    root_index = safety.get(root.pk)

    return {
        "root": {"id": root.pk, "name": root.name, "kind": root.kind},
        "kpi": {
            "today_received": today_total,
            "open_total": sum(open_totals.values()),
            "open_red": open_totals[WarningLevel.RED],
            "open_yellow": open_totals[WarningLevel.YELLOW],
            "open_green": open_totals[WarningLevel.GREEN],
            "ytd_received": ytd["received"],
            "ytd_resolved": ytd["resolved"],
            "resolution_rate": ytd["resolution_rate"],
            "mediation_closed": mediation["closed"],
            "mediation_success": mediation["closed_resolved"],
            "mediation_success_rate": mediation["success_rate"],
            "petitions_ytd": petitions_now,
            "petitions_last_ytd": petitions_then,
            "petitions_yoy": metrics.change_rate(petitions_now, petitions_then),
            "police_ytd": police_now,
            "police_last_ytd": police_then,
            "police_yoy": metrics.change_rate(police_now, police_then),
            "visits_today": grid_totals["visits"],
            "workers_today": grid_totals["workers"],
            "disputes_found_today": grid_totals["disputes"],
            "hazards_found_today": grid_totals["hazards"],
            "safety_index": float(root_index.value) if root_index and root_index.value is not None else None,
        },
        "intake_today": intake,
        "open_by_area": open_by_area,
        "categories": categories,
        "trend": trend,
        "grid_by_area": grid_by_area,
        "safety_map": safety_map,
        "period": {
            "today": today.isoformat(),
            "year_start": year_start.isoformat(),
            "last_year": [ly_start.isoformat(), ly_today.isoformat()],
        },
    }


def red_ticker(user: Any, root: Region, limit: int = RED_TICKER) -> list[dict[str, Any]]:
    """The newest red open matters with their reasons (live, not a rollup: a short indexed read)."""
    qs = restrict(
        Case.objects.filter(
            metrics.open_q(), warning_level=WarningLevel.RED, region_path__startswith=root.path
        ),
        user,
    )
    rows = qs.order_by("-warning_changed_at", "-pk").values(
        "pk", "tracking_no", "title", "town__name", "warning_reasons", "warning_changed_at", "level"
    )[:limit]
    return [
        {
            "id": r["pk"],
            "tracking_no": r["tracking_no"],
            "title": r["title"],
            "town": r["town__name"] or "县直",
            "reasons": r["warning_reasons"] or [],
            "since": timezone.localtime(r["warning_changed_at"]).strftime("%m-%d %H:%M")
            if r["warning_changed_at"]
            else "",
        }
        for r in rows
    ]
