"""Reads for supervision and assessment: 三色三单 (the risk, responsibility and task lists), supervision
orders, and the quarterly ranking (季考评). Every list goes through the jurisdiction gate; every
figure comes from cases.metrics.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from centers.jurisdiction import get_for_user_or_404, restrict, scope_for
from centers.models import Region, RegionKind, Unit

from . import metrics
from .clocks import LOCAL, end_of_day
from .models import (
    CLOCK_STATES,
    OPEN_STATES,
    Case,
    CaseAssignment,
    JointMeeting,
    LeaderInstruction,
    LeaderPackage,
    MeetingTask,
    PointEvent,
    PointKind,
    Status,
    SupervisionOrder,
    SupervisionStatus,
    WarningLevel,
)
from .selectors import COLOUR_ORDER

# ============================================================================================
# Filters shared by the lists: per town and per department
# ============================================================================================


@dataclass(frozen=True)
class ListFilter:
    town: Region | None = None
    unit: Unit | None = None

    @property
    def description(self) -> str:
        parts = []
        if self.town:
            parts.append(f"乡镇：{self.town.name}")
        if self.unit:
            parts.append(f"部门：{self.unit.name}")
        return "；".join(parts) or "全部"


def towns_for_user(user: Any) -> QuerySet[Region]:
    """Towns inside the user's jurisdiction (the county: all; a town's staff: their own)."""
    return restrict(Region.objects.filter(kind=RegionKind.TOWN), user).order_by("path")


def units_for_user(user: Any) -> QuerySet[Unit]:
    return (
        restrict(Unit.objects.filter(is_active=True), user)
        .select_related("region")
        .order_by("region__path", "name")
    )


def _case_filter(f: ListFilter, prefix: str = "") -> Q:
    q = Q()
    if f.town is not None:
        q &= Q(**{f"{prefix}town": f.town})
    if f.unit is not None:
        q &= Q(**{f"{prefix}owning_unit": f.unit})
    return q


# ============================================================================================
# 风险清单: open matters by colour and risk reasons
# ============================================================================================


def risk_list(
    user: Any, f: ListFilter, *, colours: tuple[str, ...] = (WarningLevel.RED, WarningLevel.YELLOW)
) -> QuerySet[Case]:
    qs = restrict(Case.objects.filter(status__in=OPEN_STATES, warning_level__in=colours), user).filter(
        _case_filter(f)
    )
    return (
        qs.select_related("town", "owning_center", "owning_unit", "region")
        .annotate(colour_order=COLOUR_ORDER)
        .order_by("colour_order", "due_at", "pk")
    )


def risk_summary(user: Any, f: ListFilter) -> list[dict[str, Any]]:
    """Open matters per town by colour (one GROUP BY; figures from cases.metrics)."""
    qs = restrict(Case.objects.all(), user).filter(_case_filter(f))
    rows = (
        qs.order_by()
        .values("town", "town__name")
        .annotate(
            red=metrics.open_count(colour=WarningLevel.RED),
            yellow=metrics.open_count(colour=WarningLevel.YELLOW),
            green=metrics.open_count(colour=WarningLevel.GREEN),
            open=metrics.open_count(),
        )
        .filter(open__gt=0)
        .order_by("-red", "-yellow", "town__name")
    )
    return list(rows)


# ============================================================================================
# 责任清单: each matter's responsible center/unit and person
# ============================================================================================


def responsibility_list(user: Any, f: ListFilter) -> QuerySet[Case]:
    qs = restrict(Case.objects.filter(status__in=OPEN_STATES), user).filter(_case_filter(f))
    return (
        qs.select_related("town", "owning_center", "owning_unit", "registered_by")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=CaseAssignment.objects.filter(is_active=True).select_related("user"),
                to_attr="active_assignments",
            ),
            Prefetch(
                "leader_packages",
                queryset=LeaderPackage.objects.filter(is_active=True).select_related("leader"),
                to_attr="active_packages",
            ),
        )
        .annotate(colour_order=COLOUR_ORDER)
        .order_by("town__path", "owning_center__name", "colour_order", "due_at", "pk")
    )


# ============================================================================================
# 任务清单: what each unit must do by when
# ============================================================================================

STEP_TASKS = {
    Status.REGISTERED: "受理",
    Status.ACCEPTED: "交办",
    Status.ASSIGNED: "开始办理",
    Status.IN_PROGRESS: "办理化解",
    Status.RESOLVED: "回访办结",
    Status.UNRESOLVED: "回访并依法分流",
}


@dataclass(frozen=True)
class Task:
    source: str  # 办理环节 / 督办单 / 会议任务 / 包案汇报
    due: dt.datetime
    what: str
    center: str
    unit: str
    person: str
    case: Case | None
    url: str

    @property
    def overdue(self) -> bool:
        from django.utils import timezone

        return self.due <= timezone.now()


TASK_LIMIT = 5000  # per source; the page shows the first rows, the Excel file all of them


def task_list(
    user: Any,
    f: ListFilter,
    *,
    within_days: int | None = None,
    now: dt.datetime | None = None,
    limit: int = TASK_LIMIT,
) -> tuple[list[Task], bool]:
    """(tasks sorted by deadline, whether a source was cut at `limit`).

    Sources: open steps with a running clock, open supervision orders, unfinished meeting tasks and
    leader packages' report-back dates; each through the jurisdiction gate.
    """
    from django.utils import timezone

    now = now or timezone.now()
    horizon = now + dt.timedelta(days=within_days) if within_days is not None else None
    sources: list[list[Task]] = []

    steps = restrict(Case.objects.filter(status__in=CLOCK_STATES, due_at__isnull=False), user).filter(
        _case_filter(f)
    )
    if horizon:
        steps = steps.filter(due_at__lte=horizon)
    steps = (
        steps.select_related("owning_center", "owning_unit")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=CaseAssignment.objects.filter(is_active=True).select_related("user"),
                to_attr="active_assignments",
            )
        )
        .order_by("due_at", "pk")[: limit + 1]
    )
    steps = list(steps)
    cut = len(steps) > limit
    sources.append(
        [
            Task(
                "办理环节",
                c.due_at,
                f"{STEP_TASKS.get(c.status, c.get_status_display())}：{c.title}",
                c.owning_center.name,
                c.owning_unit.name if c.owning_unit else "",
                "、".join(a.user.display_name for a in c.active_assignments),
                c,
                f"/cases/{c.pk}/",
            )
            for c in steps[:limit]
        ]
    )

    orders = restrict(SupervisionOrder.objects.filter(status=SupervisionStatus.OPEN), user)
    if f.town is not None:
        orders = orders.filter(case__town=f.town)
    if f.unit is not None:
        orders = orders.filter(supervised_unit=f.unit)
    if horizon:
        orders = orders.filter(due_at__lte=horizon)
    orders = list(
        orders.select_related("case", "supervised_center", "supervised_unit", "issuing_center").order_by(
            "due_at", "pk"
        )[: limit + 1]
    )
    cut = cut or len(orders) > limit
    sources.append(
        [
            Task(
                "督办单",
                o.due_at,
                f"反馈{o.issuing_center.name}{o.get_kind_display()}：{o.demand[:80]}",
                o.supervised_center.name,
                o.supervised_unit.name if o.supervised_unit else "",
                "",
                o.case,
                f"/cases/supervision/orders/{o.pk}/",
            )
            for o in orders[:limit]
        ]
    )

    meetings = restrict(JointMeeting.objects.all(), user).values("pk")
    scope = scope_for(user)
    mq = Q(meeting__in=meetings)
    if scope.unit_ids:
        mq |= Q(unit_id__in=sorted(scope.unit_ids))
    tasks = MeetingTask.objects.filter(mq, done_at__isnull=True)
    if f.town is not None:
        tasks = tasks.filter(
            Q(meeting__case__town=f.town) | Q(meeting__center__region__path__startswith=f.town.path)
        )
    if f.unit is not None:
        tasks = tasks.filter(unit=f.unit)
    if horizon:
        tasks = tasks.filter(due_on__lte=horizon.astimezone(LOCAL).date())
    tasks = list(
        tasks.select_related("meeting__center", "meeting__case", "unit", "assignee").order_by("due_on", "pk")[
            : limit + 1
        ]
    )
    cut = cut or len(tasks) > limit
    sources.append(
        [
            Task(
                "会议任务",
                end_of_day(t.due_on),
                f"{t.task}（{t.meeting.title}）",
                t.meeting.center.name,
                t.unit.name if t.unit else "",
                t.assignee.display_name if t.assignee else "",
                t.meeting.case,
                f"/cases/{t.meeting.case_id}/" if t.meeting.case_id else "",
            )
            for t in tasks[:limit]
        ]
    )

    packages = LeaderPackage.objects.filter(
        is_active=True,
        case__in=restrict(Case.objects.filter(status__in=OPEN_STATES), user).filter(_case_filter(f)),
    )
    if horizon:
        packages = packages.filter(report_back_on__lte=horizon.astimezone(LOCAL).date())
    packages = list(
        packages.select_related("case__owning_center", "case__owning_unit", "leader").order_by(
            "report_back_on", "pk"
        )[: limit + 1]
    )
    cut = cut or len(packages) > limit
    sources.append(
        [
            Task(
                "包案汇报",
                end_of_day(p.report_back_on),
                f"向包案领导 {p.leader.display_name} 汇报化解进展",
                p.case.owning_center.name,
                p.case.owning_unit.name if p.case.owning_unit else "",
                p.leader.display_name,
                p.case,
                f"/cases/{p.case_id}/",
            )
            for p in packages[:limit]
        ]
    )
    return list(heapq.merge(*sources, key=lambda t: t.due)), cut


# ============================================================================================
# Supervision orders and leader instructions
# ============================================================================================


def orders_for_user(
    user: Any, *, status: str = "", overdue_only: bool = False, now: dt.datetime | None = None
) -> QuerySet[SupervisionOrder]:
    from django.utils import timezone

    qs = restrict(SupervisionOrder.objects.all(), user)
    if status:
        qs = qs.filter(status=status)
    if overdue_only:
        qs = qs.filter(status=SupervisionStatus.OPEN, due_at__lte=now or timezone.now())
    return qs.select_related(
        "case", "issuing_center", "supervised_center", "supervised_unit", "issued_by", "responded_by"
    ).order_by("status", "due_at", "pk")


def order_get_for_user(user: Any, pk: int) -> SupervisionOrder:
    qs = SupervisionOrder.objects.select_related(
        "case__owning_center__region",
        "issuing_center__region",
        "supervised_center__region",
        "supervised_unit",
        "issued_by",
        "responded_by",
        "parent__issuing_center",
    )
    return get_for_user_or_404(qs, user, pk=pk)


def case_supervision(case: Case) -> dict[str, Any]:
    """What the case page shows at its top: leader instructions and supervision orders."""
    return {
        "instructions": list(
            LeaderInstruction.objects.filter(case=case).select_related("leader", "recorded_by")
        ),
        "orders": list(
            SupervisionOrder.objects.filter(case=case)
            .select_related(
                "issuing_center", "supervised_center", "supervised_unit", "issued_by", "responded_by"
            )
            .order_by("-created_at", "-id")
        ),
    }


# ============================================================================================
# 季考评: scores and ranking
# ============================================================================================


@dataclass
class Standing:
    subject: Region | Unit
    score: Decimal
    events: int
    by_kind: dict[str, int]
    rank: int = 0


def _rank(rows: list[Standing]) -> list[Standing]:
    """Highest score first; equal scores share a rank (1, 2, 2, 4), then by name."""
    rows.sort(key=lambda s: (-s.score, getattr(s.subject, "path", ""), s.subject.name))
    previous, rank = None, 0
    for i, s in enumerate(rows, start=1):
        if s.score != previous:
            rank, previous = i, s.score
        s.rank = rank
    return rows


def _kind_counts(row: dict[str, Any]) -> dict[str, int]:
    return {k: row[f"n_{k}"] for k in PointKind.values if row.get(f"n_{k}")}


def _annotations() -> dict[str, Any]:
    out: dict[str, Any] = {"score": metrics.score(), "events": metrics.count_if()}
    out.update({f"n_{k}": metrics.count_if(Q(kind=k)) for k in PointKind.values})
    return out


def town_ranking(user: Any, period: metrics.Period) -> list[Standing]:
    """Each visible town's score for the period: its town center's and village stations' events."""
    towns = {t.pk: t for t in towns_for_user(user)}
    events = restrict(PointEvent.objects.filter(period.q("at"), town__in=list(towns)), user)
    rows = {r["town"]: r for r in events.order_by().values("town").annotate(**_annotations())}
    out = [
        Standing(
            t,
            rows[t.pk]["score"] if t.pk in rows else Decimal("0"),
            rows.get(t.pk, {}).get("events", 0),
            _kind_counts(rows.get(t.pk, {})),
        )
        for t in towns.values()
    ]
    return _rank(out)


def unit_ranking(user: Any, period: metrics.Period) -> list[Standing]:
    """Each visible department's score for the period."""
    units = {u.pk: u for u in units_for_user(user)}
    events = restrict(PointEvent.objects.filter(period.q("at"), unit__in=list(units)), user)
    rows = {r["unit"]: r for r in events.order_by().values("unit").annotate(**_annotations())}
    out = [
        Standing(
            u,
            rows[u.pk]["score"] if u.pk in rows else Decimal("0"),
            rows.get(u.pk, {}).get("events", 0),
            _kind_counts(rows.get(u.pk, {})),
        )
        for u in units.values()
    ]
    return _rank(out)


def point_events(
    user: Any, period: metrics.Period, *, town: Region | None = None, unit: Unit | None = None
) -> QuerySet[PointEvent]:
    """The events behind a score (a town's, a unit's, or all visible)."""
    qs = restrict(PointEvent.objects.filter(period.q("at")), user)
    if town is not None:
        qs = qs.filter(town=town)
    if unit is not None:
        qs = qs.filter(unit=unit)
    return qs.select_related("center", "unit", "town", "case", "supervision_order").order_by("-at", "-id")


def point_total(qs: QuerySet[PointEvent]) -> Decimal:
    return qs.aggregate(total=metrics.score())["total"]
