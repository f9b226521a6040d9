"""Points for the quarterly assessment (季考评): written where the events happen, once each.

Each event of supervision carries points with a direction (shared/ANCHORS.md lesson 7: a yellow
card costs 5, a red card 10). The weights are data (`PointWeight`, seeded by migration, edited by
the county); each `PointEvent` keeps the points it was given, so a later change of weights never
rewrites a past quarter. Who an event counts for: the unit handling the case when there is one,
otherwise the center; a town's score collects its town center's and its village stations' events.

Where each kind is written:
- yellow_card: the sweep, when a step's clock passes its yellow threshold (once per case and step);
  also a transition that notices it first.
- red_card: the sweep, for each overdue event (once per case, step and deadline), to whoever owned
  the step that ran late.
- supervised: a manual or leader supervision order (cases.supervision), to the supervised side.
- supervision_overdue: the sweep, when a supervision order's response deadline passes.
- closed_on_time / satisfied / unsatisfied: the engine, when any transition closes a case (all
  kinds), from the stored `closed_on_time` and `satisfaction`.
- repeat_petition: `points_record_repeat_petition`, called by the petitions app when it flags a
  repeated petition (cases does not import petitions); it counts for the town where the matter is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from centers.models import Center, Membership, RegionKind, Role, User
from centers.services import DomainError

from .models import Case, PointEvent, PointKind, PointWeight, Satisfaction, Status, SupervisionOrder

# The kinds of center whose events count in their town's score.
TOWN_KINDS = frozenset({RegionKind.TOWN, RegionKind.VILLAGE, RegionKind.GRID})


class PointBook:
    """The current weights, loaded once per sweep or write."""

    def __init__(self, weights: dict[str, Decimal] | None = None) -> None:
        if weights is None:
            weights = dict(PointWeight.objects.values_list("kind", "points"))
        self.weights = weights

    def points(self, kind: str) -> Decimal:
        return self.weights.get(kind, Decimal("0"))


def _event(
    *,
    book: PointBook,
    kind: str,
    case: Case | None,
    center: Center | None,
    unit_id: int | None,
    at: dt.datetime,
    reason: str,
    key: str,
    order: SupervisionOrder | None = None,
) -> dict | None:
    """The event row, or None when its weight is 0 (nothing to count)."""
    points = book.points(kind)
    if not points:
        return None
    if unit_id is not None:
        center_id, town_id = None, None
    else:
        if center is None:
            return None
        center_id = center.pk
        town_id = case.town_id if case is not None and center.region.kind in TOWN_KINDS else None
    # A plain row (PointEvent's attnames), not an instance: a sweep writes a thousand at once.
    return {
        "kind": kind,
        "points": points,
        "center_id": center_id,
        "unit_id": unit_id,
        "town_id": town_id,
        "case_id": case.pk if case is not None else None,
        "supervision_order_id": order.pk if order is not None else None,
        "at": at,
        "reason": reason[:300],
        "event_key": key[:200],
    }


def insert(rows: Iterable[dict | None]) -> int:
    """Insert the event rows (from the functions below); one already written (same event_key) is skipped."""
    from .bulk import bulk_insert_rows

    rows = [r for r in rows if r is not None]
    bulk_insert_rows(PointEvent, rows, ignore_conflicts=True)
    return len(rows)


# ============================================================================================
# The events
# ============================================================================================


def yellow_card(*, case: Case, now: dt.datetime, book: PointBook) -> dict | None:
    """Once per case and step: the step's clock passed its yellow threshold."""
    return _event(
        book=book,
        kind=PointKind.YELLOW_CARD,
        case=case,
        center=case.owning_center,
        unit_id=case.owning_unit_id,
        at=now,
        reason=f"{case.tracking_no}「{case.get_status_display()}」环节临近期限仍未办结",
        key=f"yellow_card:{case.pk}:{case.step_no}",
    )


def red_card(
    *,
    case: Case,
    center: Center,
    unit_id: int | None,
    step_no: int,
    due: dt.datetime,
    now: dt.datetime,
    book: PointBook,
    status_label: str,
) -> dict | None:
    """Once per overdue event (case, step, deadline), to whoever owned the step that ran late."""
    from .clocks import fmt

    return _event(
        book=book,
        kind=PointKind.RED_CARD,
        case=case,
        center=center,
        unit_id=unit_id,
        at=now,
        reason=f"{case.tracking_no}「{status_label}」环节超期（期限 {fmt(due)}）",
        key=f"red_card:{case.pk}:{step_no}:{due.isoformat()}",
    )


def is_clock_yellow(case: Case, now: dt.datetime) -> bool:
    """Whether the running clock of the current step has passed its yellow threshold (not its deadline)."""
    from .models import CLOCK_STATES

    return (
        case.status in CLOCK_STATES
        and case.yellow_at is not None
        and case.due_at is not None
        and case.yellow_at <= now < case.due_at
    )


def points_on_close(*, case: Case, now: dt.datetime, book: PointBook | None = None) -> int:
    """The closing events of a case, from its stored facts (any kind's closing transition)."""
    if case.status != Status.CLOSED or case.closed_at is None:
        return 0
    book = book or PointBook()
    stamp = case.closed_at.isoformat()
    rows = []
    if case.closed_on_time:
        rows.append(
            _event(
                book=book,
                kind=PointKind.CLOSED_ON_TIME,
                case=case,
                center=case.owning_center,
                unit_id=case.owning_unit_id,
                at=now,
                reason=f"{case.tracking_no} 按期办结",
                key=f"closed_on_time:{case.pk}:{stamp}",
            )
        )
    kind = {Satisfaction.SATISFIED: PointKind.SATISFIED, Satisfaction.UNSATISFIED: PointKind.UNSATISFIED}.get(
        case.satisfaction
    )
    if kind is not None:
        rows.append(
            _event(
                book=book,
                kind=kind,
                case=case,
                center=case.owning_center,
                unit_id=case.owning_unit_id,
                at=now,
                reason=f"{case.tracking_no} 回访{case.get_satisfaction_display()}",
                key=f"satisfaction:{case.pk}:{stamp}",
            )
        )
    return insert(rows)


def supervised(*, order: SupervisionOrder, book: PointBook | None = None) -> dict | None:
    book = book or PointBook()
    return _event(
        book=book,
        kind=PointKind.SUPERVISED,
        case=order.case,
        center=order.supervised_center,
        unit_id=order.supervised_unit_id,
        at=order.created_at,
        order=order,
        reason=f"{order.case.tracking_no} 被{order.issuing_center.name}{order.get_kind_display()}",
        key=f"supervised:{order.pk}",
    )


def supervision_overdue(*, order: SupervisionOrder, now: dt.datetime, book: PointBook) -> dict | None:
    from .clocks import fmt

    return _event(
        book=book,
        kind=PointKind.SUPERVISION_OVERDUE,
        case=order.case,
        center=order.supervised_center,
        unit_id=order.supervised_unit_id,
        at=now,
        order=order,
        reason=f"{order.case.tracking_no} 督办单（{order.issuing_center.name}）{fmt(order.due_at)} 前未反馈",
        key=f"supervision_overdue:{order.pk}",
    )


@transaction.atomic
def points_record_repeat_petition(*, case: Case, reason: str = "", at: dt.datetime | None = None) -> bool:
    """重复信访: the petitions app calls this when it flags a case as a repeated petition.

    A repeat petition says the matter was not settled where it arose (属地): it counts for the
    center of the town where the matter is (its town center), or for the owning center when the
    place lies in no town. Once per case; True when newly recorded.
    """
    return points_record_repeat_petitions(items=[(case, reason)], at=at) == 1


@transaction.atomic
def points_record_repeat_petitions(
    *, items: Sequence[tuple[Case, str]], at: dt.datetime | None = None
) -> int:
    """`points_record_repeat_petition` for many cases at once (channel imports); returns how many are new."""
    at = at or timezone.now()
    ids = {c.pk: r for c, r in items}
    cases = list(Case.objects.select_related("owning_center__region").filter(pk__in=list(ids)))
    town_centers = {
        c.region_id: c
        for c in Center.objects.select_related("region").filter(
            region_id__in={c.town_id for c in cases if c.town_id}
        )
    }
    book = PointBook()
    rows = [
        _event(
            book=book,
            kind=PointKind.REPEAT_PETITION,
            case=case,
            center=town_centers.get(case.town_id) or case.owning_center,
            unit_id=None,
            at=at,
            reason=ids[case.pk] or f"{case.tracking_no} 重复信访",
            key=f"repeat_petition:{case.pk}",
        )
        for case in cases
    ]
    rows = [r for r in rows if r is not None]
    known = set(
        PointEvent.objects.filter(event_key__in=[r["event_key"] for r in rows]).values_list(
            "event_key", flat=True
        )
    )
    return insert([r for r in rows if r["event_key"] not in known])


# ============================================================================================
# Weights
# ============================================================================================


def can_edit_weights(user: User) -> bool:
    """The county sets the weights: superusers, and leaders and system administrators of a
    county-level (or higher) center."""
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user,
        is_active=True,
        role__in=(Role.CENTER_LEADER, Role.LEADERSHIP, Role.SYSADMIN),
        center__region__kind__in=(RegionKind.COUNTY, RegionKind.CITY, RegionKind.PROVINCE),
    ).exists()


@transaction.atomic
def point_weights_update(
    *, by: User, points: dict[str, str | Decimal], notes: dict[str, str] | None = None, reason: str = ""
) -> int:
    """Set the weights; applies to events from now on. Returns how many changed."""
    if not can_edit_weights(by):
        from .services import NotAllowed

        raise NotAllowed("只有县级中心领导可以修改考评分值。")
    notes = notes or {}
    changed = 0
    current = {w.kind: w for w in PointWeight.objects.select_for_update()}
    for kind, raw in points.items():
        if kind not in PointKind.values:
            raise DomainError(f"未知的考评事件：{kind}")
        try:
            value = Decimal(str(raw)).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError) as exc:
            raise DomainError(f"「{PointKind(kind).label}」的分值须为数字。") from exc
        if abs(value) > 100:
            raise DomainError(f"「{PointKind(kind).label}」的分值须在 −100 到 100 之间。")
        is_new = kind not in current
        weight = current.get(kind) or PointWeight(kind=kind, points=value)
        note = notes.get(kind, weight.note).strip()[:200]
        if is_new or weight.points != value or weight.note != note:
            weight.points, weight.note = value, note
            weight._change_reason = (reason or f"{by.display_name} 修改")[:100]
            weight._history_user = by
            weight.save()
            changed += 1
    return changed
