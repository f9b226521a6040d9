"""Supervision (督办) and leader instructions (领导批示): writes.

A supervision order (督办单) is issued by a higher center or a leader on a case: a demand, a
deadline for the response, the supervised center and unit. The supervised side responds; an
order whose deadline passes without a response escalates like any clock — the sweep
(`sweep_orders_batch`, called by cases.services.sweep) hands it to the issuing center's parent,
which issues a follow-up order with a new deadline; at the top the order stays open, overdue, and
the top center's leaders are told. When a case turns red it is supervised automatically, once
per case, by the center above its owner (`auto_supervise`, called next to the red response).

Every write runs in one transaction, writes a timeline row on the case, the assessment points
(cases.assessment) and the notices (cases.services.notify).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from centers.models import Center, Membership, Unit, User
from centers.selectors import ancestor_paths, parent_center, staff_of
from centers.services import DomainError

from . import assessment, lifecycle
from .bulk import bulk_insert_rows, bulk_update_rows, history_snapshot
from .clocks import LOCAL, WorkCalendar, end_of_day, fmt, local_date
from .models import (
    DONE_STATES,
    Case,
    CaseAssignment,
    LeaderInstruction,
    SupervisionKind,
    SupervisionOrder,
    SupervisionPolicy,
    SupervisionStatus,
    TimelineEntry,
)

LEADER_ROLES = lifecycle.LEADER_ROLES
_ORDER_FIELDS = [f.attname for f in SupervisionOrder._meta.concrete_fields if not f.primary_key]
_ENTRY_FIELDS = [f.attname for f in TimelineEntry._meta.concrete_fields if not f.primary_key]


# ============================================================================================
# Who may do what
# ============================================================================================


def _leader_centers(user: User) -> list[Center]:
    return [
        m.center
        for m in Membership.objects.filter(
            user=user, is_active=True, role__in=LEADER_ROLES, center__isnull=False
        ).select_related("center__region")
    ]


def issuing_center_for(user: User, case: Case) -> Center | None:
    """The center in whose name `user` supervises `case`, or None when they may not.

    A dispatcher or leader of a center above the owning center supervises in that center's name
    (the nearest one); a leader of the owning center supervises its own staff and units.
    """
    owner_path = case.owning_center.region.path
    best: Center | None = None
    for m in Membership.objects.filter(user=user, is_active=True, center__isnull=False).select_related(
        "center__region"
    ):
        path = m.center.region.path
        above = (
            m.role in lifecycle.ABOVE_ROLES and owner_path.startswith(path) and len(owner_path) > len(path)
        )
        own_leader = m.role in LEADER_ROLES and m.center_id == case.owning_center_id
        if (above or own_leader) and (best is None or len(path) > len(best.region.path)):
            best = m.center
    if best is None and user.is_superuser:
        best = parent_center(case.owning_center) or case.owning_center
    return best


def can_supervise(user: User, case: Case) -> bool:
    return case.is_open and issuing_center_for(user, case) is not None


def can_respond(user: User, order: SupervisionOrder) -> bool:
    """Staff of the supervised center or unit, or a handler assigned to the case."""
    if user.is_superuser:
        return True
    memberships = Membership.objects.filter(user=user, is_active=True)
    if memberships.filter(center_id=order.supervised_center_id, role__in=lifecycle.OWNER_ROLES).exists():
        return True
    if order.supervised_unit_id and memberships.filter(unit_id=order.supervised_unit_id).exists():
        return True
    return CaseAssignment.objects.filter(case_id=order.case_id, user=user, is_active=True).exists()


def can_record_instruction(user: User, case: Case) -> bool:
    """Leaders record their own instructions; the owning center's or a higher center's staff record them on a leader's behalf."""
    return bool(lifecycle.relations(user, case) & {lifecycle.OWNER, lifecycle.ABOVE}) or user.is_superuser


def instructing_leaders(case: Case) -> list[User]:
    """Leaders of the owning center or of a center above it (who may give an instruction)."""
    paths = ancestor_paths(case.owning_center.region.path)
    return list(
        User.objects.filter(
            memberships__is_active=True,
            memberships__role__in=LEADER_ROLES,
            memberships__center__region__path__in=paths,
            is_active=True,
        )
        .distinct()
        .order_by("full_name", "username")
    )


# ============================================================================================
# Helpers
# ============================================================================================


def due_in_workdays(now: dt.datetime, workdays: int, calendar: WorkCalendar | None = None) -> dt.datetime:
    """24:00 of the n-th working day after today (the day itself not counted, as clocks count)."""
    calendar = calendar or WorkCalendar()
    day, _ = calendar.add_workdays(local_date(now), max(workdays, 1))
    return end_of_day(day)


def _unit_staff(unit_ids: Sequence[int]) -> dict[int, list[User]]:
    out: dict[int, list[User]] = {}
    if not unit_ids:
        return out
    for m in Membership.objects.filter(
        unit_id__in=unit_ids, is_active=True, user__is_active=True
    ).select_related("user"):
        out.setdefault(m.unit_id, []).append(m.user)
    return out


def _assignees(case_ids: Sequence[int]) -> dict[int, list[User]]:
    out: dict[int, list[User]] = {}
    for a in CaseAssignment.objects.filter(case_id__in=case_ids, is_active=True).select_related("user"):
        out.setdefault(a.case_id, []).append(a.user)
    return out


def _center_staff(center: Center, cache: Any = None) -> list[User]:
    roles = (*lifecycle.LEADER_ROLES, "dispatcher")
    if cache is not None:
        return cache.staff(center, roles)
    return list(staff_of(center, *roles))


def _supervised_people(order: SupervisionOrder, cache: Any = None, units=None, assignees=None) -> list[User]:
    units = (
        units
        if units is not None
        else _unit_staff([order.supervised_unit_id] if order.supervised_unit_id else [])
    )
    assignees = assignees if assignees is not None else _assignees([order.case_id])
    people = _center_staff(order.supervised_center, cache)
    people += units.get(order.supervised_unit_id, []) if order.supervised_unit_id else []
    people += assignees.get(order.case_id, [])
    return people


def _target_text(order: SupervisionOrder) -> str:
    if order.supervised_unit_id:
        return f"{order.supervised_center.name}／{order.supervised_unit.name}"
    return order.supervised_center.name


def _order_url(order: SupervisionOrder) -> str:
    return f"/cases/supervision/orders/{order.pk}/"


def _timeline_row(
    case: Case,
    *,
    action: str,
    summary: str,
    actor: User | None,
    now: dt.datetime,
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    return TimelineEntry(
        case=case, at=now, actor=actor, action=action, summary=summary[:300], comment=comment, data=data or {}
    )


# ============================================================================================
# Automatic supervision when a case turns red
# ============================================================================================


def _auto_order(
    case: Case, issuer: Center, now: dt.datetime, policy: SupervisionPolicy, calendar: WorkCalendar
) -> SupervisionOrder:
    due = due_in_workdays(now, policy.auto_response_workdays, calendar)
    reasons = "；".join(case.warning_reasons) or "红色预警"
    return SupervisionOrder(
        case=case,
        kind=SupervisionKind.AUTO_RED,
        issuing_center=issuer,
        issued_by=None,
        supervised_center=case.owning_center,
        supervised_unit=case.owning_unit,
        created_at=now,
        due_at=due,
        demand=f"事项转为红色预警（{reasons}）。请立即落实稳控措施，于 {fmt(due)} 前报告化解进展。",
    )


def auto_supervise(*, case: Case, now: dt.datetime) -> SupervisionOrder | None:
    """Supervise a case that turned red, once per case (the caller holds the case's row lock)."""
    if SupervisionOrder.objects.filter(case=case, kind=SupervisionKind.AUTO_RED).exists():
        return None
    issuer = parent_center(case.owning_center) or case.owning_center
    order = _auto_order(case, issuer, now, SupervisionPolicy.current(), WorkCalendar())
    order.save()
    _timeline_row(
        case,
        action="supervise",
        actor=None,
        now=now,
        data={"order": order.pk, "kind": order.kind},
        summary=f"红色预警自动督办：{issuer.name} 督办 {_target_text(order)}，{fmt(order.due_at)} 前反馈",
    ).save()
    from .services import notify

    notify(
        users=_supervised_people(order),
        case=case,
        kind="supervision",
        sms=True,
        now=now,
        url=_order_url(order),
        title=f"督办：{case.tracking_no} 红色预警，{fmt(order.due_at)} 前反馈",
        body=order.demand,
        dedupe_key=f"supervision:{order.pk}",
    )
    return order


def auto_supervise_bulk(
    *, cases: Sequence[Case], now: dt.datetime, cache: Any, calendar: WorkCalendar
) -> list:
    """`auto_supervise` for a sweep batch (rows locked by the sweep); returns the notices to insert."""
    from .services import notification_rows, timeline_row

    if not cases:
        return []
    done = set(
        SupervisionOrder.objects.filter(case_id__in=[c.pk for c in cases], kind=SupervisionKind.AUTO_RED).values_list(
            "case_id", flat=True
        )
    )
    todo = [c for c in {c.pk: c for c in cases}.values() if c.pk not in done]
    if not todo:
        return []
    policy = SupervisionPolicy.current()
    orders = [
        _auto_order(c, cache.parent(c.owning_center) or c.owning_center, now, policy, calendar) for c in todo
    ]
    # Plain rows, as the sweep writes (cases.bulk); the unique constraint keeps it once per case.
    bulk_insert_rows(
        SupervisionOrder, [{f: getattr(o, f) for f in _ORDER_FIELDS} for o in orders], ignore_conflicts=True
    )
    ids = dict(
        SupervisionOrder.objects.filter(case_id__in=[c.pk for c in todo], kind=SupervisionKind.AUTO_RED).values_list(
            "case_id", "pk"
        )
    )
    for o in orders:
        o.pk = o.id = ids[o.case_id]
    history_snapshot(SupervisionOrder, orders, reason="红色预警自动督办", date=now)
    entries = [
        timeline_row(
            o.case_id,
            action="supervise",
            now=now,
            data={"order": o.pk, "kind": o.kind},
            summary=f"红色预警自动督办：{o.issuing_center.name} 督办 {_target_text(o)}，{fmt(o.due_at)} 前反馈",
        )
        for o in orders
    ]
    bulk_insert_rows(TimelineEntry, entries)
    units = _unit_staff([o.supervised_unit_id for o in orders if o.supervised_unit_id])
    assignees = _assignees([o.case_id for o in orders])
    notices: list = []
    for o in orders:
        notices += notification_rows(
            users=_supervised_people(o, cache, units, assignees),
            case=o.case,
            kind="supervision",
            sms=True,
            now=now,
            title=f"督办：{o.case.tracking_no} 红色预警，{fmt(o.due_at)} 前反馈",
            body=o.demand,
            dedupe_key=f"supervision:{o.pk}",
            url=_order_url(o),
        )
    return notices


# ============================================================================================
# Manual and leader supervision, responses, leader instructions
# ============================================================================================


@transaction.atomic
def supervision_order_issue(
    *,
    case: Case,
    by: User,
    demand: str,
    due_on: dt.date | None = None,
    supervised_unit: Unit | None = None,
    now: dt.datetime | None = None,
) -> SupervisionOrder:
    """督办 from the case page: by a higher center's staff, or by a leader of the owning center.

    `due_on` is the last day for the response (24:00); by default the policy's working days.
    The supervised side is the owning center and `supervised_unit` (default: the owning unit).
    """
    from .services import _lock, notify

    now = now or timezone.now()
    locked = _lock(case)
    if not locked.is_open:
        raise DomainError("该事项已办结，不能督办。")
    issuer = issuing_center_for(by, locked)
    if issuer is None:
        from .services import NotAllowed

        raise NotAllowed("只有上级中心或本中心领导可以督办该事项。")
    demand = (demand or "").strip()
    if not demand:
        raise DomainError("请填写督办要求。")
    today = local_date(now)
    if due_on is None:
        due_at = due_in_workdays(now, SupervisionPolicy.current().default_response_workdays)
    else:
        if due_on < today:
            raise DomainError("反馈期限不能早于今天。")
        if due_on > today + dt.timedelta(days=90):
            raise DomainError("反馈期限不能超过 90 天。")
        due_at = end_of_day(due_on)
    if supervised_unit is None:
        supervised_unit = locked.owning_unit
    elif not supervised_unit.is_active:
        raise DomainError("该部门已停用。")
    is_leader = Membership.objects.filter(user=by, is_active=True, role__in=LEADER_ROLES).exists()
    order = SupervisionOrder.objects.create(
        case=locked,
        kind=SupervisionKind.LEADER if is_leader else SupervisionKind.MANUAL,
        issuing_center=issuer,
        issued_by=by,
        supervised_center=locked.owning_center,
        supervised_unit=supervised_unit,
        demand=demand,
        created_at=now,
        due_at=due_at,
    )
    _timeline_row(
        locked,
        action="supervise",
        actor=by,
        now=now,
        comment=demand,
        data={"order": order.pk, "kind": order.kind},
        summary=f"{order.get_kind_display()}：{issuer.name} 督办 {_target_text(order)}，{fmt(due_at)} 前反馈",
    ).save()
    assessment.insert([assessment.supervised(order=order)])
    notify(
        users=_supervised_people(order),
        case=locked,
        kind="supervision",
        sms=True,
        now=now,
        url=_order_url(order),
        title=f"{order.get_kind_display()}：{locked.tracking_no}，{fmt(due_at)} 前反馈",
        body=demand,
        dedupe_key=f"supervision:{order.pk}",
    )
    return order


@transaction.atomic
def supervision_order_respond(
    *, order: SupervisionOrder, by: User, response: str, now: dt.datetime | None = None
) -> SupervisionOrder:
    """督办反馈: the supervised side reports what it did; whether it was in time is stored."""
    from .services import NotAllowed, notify

    now = now or timezone.now()
    locked = (
        SupervisionOrder.objects.select_for_update(of=("self",))
        .select_related(
            "case", "issuing_center__region", "supervised_center__region", "supervised_unit", "issued_by"
        )
        .get(pk=order.pk)
    )
    if locked.status == SupervisionStatus.ESCALATED:
        newer = SupervisionOrder.objects.filter(parent=locked).select_related("issuing_center").first()
        where = f"{newer.issuing_center.name}的" if newer else "新的"
        raise DomainError(f"该督办单逾期未反馈，已升级为{where}督办单，请在新督办单上反馈。")
    if locked.status == SupervisionStatus.RESPONDED:
        raise DomainError("该督办单已反馈。")
    if locked.status == SupervisionStatus.LAPSED:
        raise DomainError("事项已办结，该督办单已结束。")
    if not can_respond(by, locked):
        raise NotAllowed("只有被督办的中心、部门或承办人可以反馈。")
    response = (response or "").strip()
    if not response:
        raise DomainError("请填写反馈情况。")
    late = int((now - locked.due_at).total_seconds())
    locked.status = SupervisionStatus.RESPONDED
    locked.response, locked.responded_at, locked.responded_by = response, now, by
    locked.met_deadline, locked.late_seconds = late <= 0, max(late, 0)
    locked.save()
    on_time = "按期" if late <= 0 else f"逾期 {late // 3600} 小时"
    _timeline_row(
        locked.case,
        action="supervision_response",
        actor=by,
        now=now,
        comment=response,
        data={"order": locked.pk, "met_deadline": late <= 0, "late_seconds": max(late, 0)},
        summary=f"督办反馈（{locked.issuing_center.name}督办单，{on_time}）",
    ).save()
    recipients = [locked.issued_by] if locked.issued_by else _center_staff(locked.issuing_center)
    notify(
        users=recipients,
        case=locked.case,
        kind="supervision_response",
        now=now,
        url=_order_url(locked),
        title=f"督办已反馈：{locked.case.tracking_no}（{on_time}）",
        body=response[:200],
        dedupe_key=f"supervision_response:{locked.pk}",
    )
    return locked


@transaction.atomic
def leader_instruction_add(
    *, case: Case, by: User, leader: User, text: str, instructed_at: dt.datetime | None = None
) -> LeaderInstruction:
    """领导批示: a leader's instruction on a case (recorded by the leader or on their behalf)."""
    from .services import NotAllowed, notify

    now = timezone.now()
    if not can_record_instruction(by, case):
        raise NotAllowed("您无权为该事项录入领导批示。")
    text = (text or "").strip()
    if not text:
        raise DomainError("请填写批示内容。")
    if leader.pk not in {u.pk for u in instructing_leaders(case)}:
        raise DomainError("批示领导须为本中心或上级中心的领导。")
    instructed_at = instructed_at or now
    if instructed_at > now + dt.timedelta(minutes=5):
        raise DomainError("批示时间不能晚于现在。")
    instruction = LeaderInstruction.objects.create(
        case=case, leader=leader, text=text, instructed_at=instructed_at, recorded_by=by, recorded_at=now
    )
    _timeline_row(
        case,
        action="leader_instruction",
        actor=by,
        now=now,
        comment=text,
        data={"instruction": instruction.pk},
        summary=f"领导批示：{leader.display_name}（{timezone.localtime(instructed_at, LOCAL):%Y-%m-%d %H:%M}）",
    ).save()
    people = _center_staff(case.owning_center)
    if case.owning_unit_id:
        people += _unit_staff([case.owning_unit_id]).get(case.owning_unit_id, [])
    people += _assignees([case.pk]).get(case.pk, [])
    notify(
        users=[u for u in people if u.pk != by.pk],
        case=case,
        kind="leader_instruction",
        sms=True,
        now=now,
        title=f"领导批示：{case.tracking_no}（{leader.display_name}）",
        body=text[:200],
        dedupe_key=f"instruction:{instruction.pk}",
    )
    return instruction


# ============================================================================================
# The sweep's third batch: supervision orders whose response is overdue
# ============================================================================================


def sweep_orders_batch(ctx: Any, run: Any, cache: Any, batch_size: int) -> int:
    """Escalate open orders past their deadline (cases.services.sweep, through supervision_due_sweep_idx).

    Idempotent like the other batches: an order leaves the index when `overdue_at` is set in the
    same transaction that escalates it, under the rows' locks (SKIP LOCKED on PostgreSQL), and an
    order has at most one follow-up (`parent` is one-to-one).
    """
    from .services import _for_update, notification_rows, notifications_insert

    now = ctx.now
    with transaction.atomic():
        qs = SupervisionOrder.objects.filter(
            status=SupervisionStatus.OPEN, overdue_at__isnull=True, due_at__lte=now
        ).order_by("due_at")
        batch = list(_for_update(qs.select_related("case", "supervised_unit"))[:batch_size])
        if not batch:
            return 0
        run.examined += len(batch)
        policy, book = SupervisionPolicy.current(), assessment.PointBook()
        units = _unit_staff(list({o.supervised_unit_id for o in batch if o.supervised_unit_id}))
        assignees = _assignees([o.case_id for o in batch])
        children: list[SupervisionOrder] = []
        entries: list[TimelineEntry] = []
        cards: list[Any] = []
        notices: list = []
        for order in batch:
            order.issuing_center = cache.center(order.issuing_center_id)
            order.supervised_center = cache.center(order.supervised_center_id)
            order.overdue_at = now
            if order.case.status in DONE_STATES:
                order.status = SupervisionStatus.LAPSED  # the matter ended first: nothing to chase
                continue
            run.supervision_overdue += 1
            cards.append(assessment.supervision_overdue(order=order, now=now, book=book))
            parent = cache.parent(order.issuing_center)
            supervised = _supervised_people(order, cache, units, assignees)
            if parent is not None:
                order.status = SupervisionStatus.ESCALATED
                due = due_in_workdays(now, policy.escalated_response_workdays, ctx.calendar)
                child = SupervisionOrder(
                    case=order.case,
                    kind=SupervisionKind.ESCALATED,
                    issuing_center=parent,
                    issued_by=None,
                    supervised_center=order.supervised_center,
                    supervised_unit=order.supervised_unit,
                    created_at=now,
                    due_at=due,
                    parent=order,
                    level=order.level + 1,
                    demand=(
                        f"{order.demand}\n（{order.issuing_center.name}督办单 {fmt(order.due_at)} 前未反馈，"
                        f"由 {parent.name} 升级督办，请于 {fmt(due)} 前反馈。）"
                    ),
                )
                children.append(child)
                summary = f"督办逾期未反馈（期限 {fmt(order.due_at)}），升级由 {parent.name} 督办，{fmt(due)} 前反馈"
                users = supervised + _center_staff(parent, cache)
                title = f"升级督办：{order.case.tracking_no}，{fmt(due)} 前反馈"
            else:
                summary = (
                    f"督办逾期未反馈（{order.issuing_center.name}，期限 {fmt(order.due_at)}），已在最高层级"
                )
                users = supervised + _center_staff(order.issuing_center, cache)
                title = f"督办逾期未反馈：{order.case.tracking_no}"
            entries.append(
                _timeline_row(
                    order.case,
                    action="supervision_overdue",
                    actor=None,
                    now=now,
                    summary=summary,
                    data={"order": order.pk},
                )
            )
            notices += notification_rows(
                users=users,
                case=order.case,
                kind="supervision_overdue",
                sms=True,
                now=now,
                title=title,
                body=order.case.title,
                dedupe_key=f"supervision_overdue:{order.pk}",
                url=_order_url(order),
            )
        bulk_update_rows(SupervisionOrder, batch, ["status", "overdue_at"])
        history_snapshot(SupervisionOrder, batch, reason="督办逾期", date=now)
        bulk_create_with_history(
            children, SupervisionOrder, default_change_reason="升级督办", default_date=now
        )
        bulk_insert_rows(TimelineEntry, [{f: getattr(e, f) for f in _ENTRY_FIELDS} for e in entries])
        assessment.insert(cards)
        notifications_insert(notices)
    return len(batch)
