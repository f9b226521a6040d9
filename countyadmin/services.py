"""Writes of county administration: accounts, handover. One function per write, in one transaction.

Sheets (imports) live in `importer.py`, the county's settings in `county_settings.py`; both log
through `log()` here.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.models import (
    OPEN_STATES,
    Case,
    CaseAssignment,
    LeaderPackage,
    MeetingTask,
    SupervisionOrder,
    SupervisionStatus,
)
from cases.services import HandoverResult, NotAllowed, case_hand_over
from centers.models import Center, Membership, User
from centers.services import DomainError, membership_end

from . import access
from .models import AdminAction, AdminLog

# Readable and unambiguous (no 0/O, 1/l/I): the administrator reads it out over the phone.
_READABLE_CHARS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def log(
    *,
    by: User | None,
    action: str,
    summary: str,
    reason: str = "",
    target_user: User | None = None,
    center: Center | None = None,
    subject: str = "",
    data: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> AdminLog:
    if center is None and target_user is not None:
        center = access.home_center_of(target_user)
    return AdminLog.objects.create(
        at=now or timezone.now(),
        by=by,
        action=action,
        summary=summary[:300],
        reason=(reason or "")[:300],
        target_user=target_user,
        center=center,
        subject=subject[:200],
        data=data or {},
    )


def _require_admin(by: User, user: User, what: str) -> None:
    if not access.can_administer(by, user):
        raise NotAllowed(f"您无权{what}该账号：只能管理本中心（含下级）的工作人员。")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写原因。")
    return reason[:300]


# ============================================================================================
# Accounts without email
# ============================================================================================


def temporary_password(user: User) -> str:
    """A random temporary password that passes the password validators."""
    while True:
        candidate = "".join(secrets.choice(_READABLE_CHARS) for _ in range(10))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            try:
                validate_password(candidate, user=user)
            except ValidationError:
                continue
            return candidate


@transaction.atomic
def account_password_reset(*, by: User, user: User, reason: str, password: str = "") -> str:
    """Set a temporary password the user must change at first login; also lifts a lockout.

    Returns the temporary password, shown once to the administrator, who tells the user in person
    or by phone (there is no email). Other sessions of the user end (their session hash changes).
    """
    _require_admin(by, user, "重置")
    reason = _reason(reason)
    if not user.is_active:
        raise DomainError("该账号已停用，请先恢复账号。")
    if password:
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            raise DomainError("；".join(exc.messages)) from exc
    else:
        password = temporary_password(user)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    unlocked = axes_reset(username=user.username)
    log(
        by=by,
        action=AdminAction.PASSWORD_RESET,
        target_user=user,
        reason=reason,
        subject=user.username,
        summary=f"重置 {user.display_name}（{user.username}）的密码，首次登录须修改"
        + ("，并解除锁定" if unlocked else ""),
    )
    return password


def is_locked(user: User) -> bool:
    return AccessAttempt.objects.filter(
        username=user.username, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    ).exists()


def locked_usernames(usernames: Sequence[str] | None = None) -> set[str]:
    qs = AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
    if usernames is not None:
        qs = qs.filter(username__in=list(usernames))
    return set(qs.values_list("username", flat=True))


@transaction.atomic
def account_unlock(*, by: User, user: User, reason: str) -> int:
    """Lift the lockout after repeated failed logins (django-axes, locked by username)."""
    _require_admin(by, user, "解锁")
    reason = _reason(reason)
    if not is_locked(user):
        raise DomainError("该账号未被锁定。")
    removed = axes_reset(username=user.username)
    log(
        by=by,
        action=AdminAction.UNLOCK,
        target_user=user,
        reason=reason,
        subject=user.username,
        summary=f"解除 {user.display_name}（{user.username}）的登录锁定",
    )
    return removed


@transaction.atomic
def account_deactivate(*, by: User, user: User, reason: str, successor: User | None = None) -> dict[str, Any]:
    """Stop an account, keeping every record: the user row, their posts (ended, not deleted),
    their grid posts and everything they did stay, with their history.

    Open work must go to a successor first (in the same transaction, when `successor` is given):
    nothing is left without an owner.
    """
    _require_admin(by, user, "停用")
    reason = _reason(reason)
    if not user.is_active:
        raise DomainError("该账号已停用。")
    handed = None
    if holdings_of(user).total:
        if successor is None:
            raise DomainError("该人员仍有在办事项、承办分工或督办单，请先选择接手人办理工作移交。")
        handed = handover(by=by, from_user=user, to_user=successor, reason=f"停用账号：{reason}")
    ended = end_posts(user=user, reason=f"停用账号：{reason}")
    user.is_active = False
    user.save(update_fields=["is_active"])
    axes_reset(username=user.username)
    log(
        by=by,
        action=AdminAction.DEACTIVATE,
        target_user=user,
        reason=reason,
        subject=user.username,
        summary=f"停用 {user.display_name}（{user.username}），结束岗位 {len(ended['memberships'])} 个"
        + (f"，工作移交给 {successor.display_name}" if successor is not None and handed else ""),
        data=ended,
    )
    return {"ended": ended, "handover": handed}


def end_posts(*, user: User, reason: str, memberships: QuerySet | None = None) -> dict[str, list[int]]:
    """End `user`'s active posts (all, or `memberships`) and their grid posts; rows are kept."""
    from grids.models import GridTeamMember

    qs = memberships if memberships is not None else Membership.objects.filter(user=user, is_active=True)
    ids = []
    for m in qs.filter(is_active=True).select_related("user"):
        m._change_reason = reason[:100]
        membership_end(membership=m)
        ids.append(m.pk)
    grid_ids = []
    if memberships is None:
        for member in GridTeamMember.objects.filter(user=user, is_active=True):
            member.is_active = False
            member._change_reason = reason[:100]
            member.save(update_fields=["is_active"])
            grid_ids.append(member.pk)
    return {"memberships": ids, "grid_posts": grid_ids}


@transaction.atomic
def account_reactivate(*, by: User, user: User, reason: str) -> int:
    """Restore a deactivated account and the posts its deactivation ended; a new password is
    needed (reset) before the user signs in again."""
    _require_admin(by, user, "恢复")
    reason = _reason(reason)
    if user.is_active:
        raise DomainError("该账号未停用。")
    last = (
        AdminLog.objects.filter(target_user=user, action=AdminAction.DEACTIVATE)
        .order_by("-at", "-pk")
        .first()
    )
    ids = (last.data or {}).get("memberships", []) if last else []
    restored = 0
    from centers.services import membership_create

    for m in Membership.objects.filter(pk__in=ids, is_active=False).select_related("center", "unit"):
        membership_create(user=user, role=m.role, center=m.center, unit=m.unit, title=m.title)
        restored += 1
    user.is_active = True
    user.must_change_password = True
    user.save(update_fields=["is_active", "must_change_password"])
    log(
        by=by,
        action=AdminAction.REACTIVATE,
        target_user=user,
        reason=reason,
        subject=user.username,
        summary=f"恢复 {user.display_name}（{user.username}）的账号，恢复岗位 {restored} 个；须重置密码后登录",
    )
    return restored


# ============================================================================================
# Handover (工作移交)
# ============================================================================================


@dataclass
class Holdings:
    """What one person holds on open matters."""

    assignments: QuerySet
    first_responder: QuerySet  # open cases they registered (首问负责)
    packages: QuerySet
    supervision_orders: QuerySet  # open orders they issued and follow
    meeting_tasks: QuerySet
    case_ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.case_ids)


def holdings_of(user: User) -> Holdings:
    open_case = Q(case__status__in=OPEN_STATES)
    assignments = CaseAssignment.objects.filter(open_case, user=user, is_active=True).select_related(
        "case__owning_center"
    )
    first = Case.objects.filter(status__in=OPEN_STATES, registered_by=user).select_related("owning_center")
    packages = (
        LeaderPackage.objects.filter(open_case, is_active=True)
        .filter(Q(leader=user) | Q(task_force=user))
        .distinct()
        .select_related("case")
    )
    orders = SupervisionOrder.objects.filter(
        open_case, issued_by=user, status=SupervisionStatus.OPEN
    ).select_related("case", "supervised_center")
    tasks = MeetingTask.objects.filter(
        meeting__case__status__in=OPEN_STATES, assignee=user, done_at__isnull=True
    ).select_related("meeting__case")
    ids: set[int] = set(assignments.values_list("case_id", flat=True))
    ids |= set(first.values_list("pk", flat=True))
    ids |= set(packages.values_list("case_id", flat=True))
    ids |= set(orders.values_list("case_id", flat=True))
    ids |= set(tasks.values_list("meeting__case_id", flat=True))
    return Holdings(assignments, first, packages, orders, tasks, sorted(ids))


def _successor_ok(by: User, to_user: User) -> None:
    if not to_user.is_active or not Membership.objects.filter(user=to_user, is_active=True).exists():
        raise DomainError("接手人须为在岗人员（账号启用且有岗位）。")
    if not access.staff_in_area(by).filter(pk=to_user.pk).exists():
        raise NotAllowed("接手人须为您管理范围内的工作人员。")


@transaction.atomic
def handover(
    *, by: User, from_user: User, to_user: User, reason: str, case_ids: Sequence[int] | None = None
) -> dict[str, int]:
    """Hand a person's open work (all, or the cases in `case_ids`) to a successor in one action.

    One transaction: either every case moves, each with its timeline row, or none does.
    """
    _require_admin(by, from_user, "移交")
    _successor_ok(by, to_user)
    reason = _reason(reason)
    if from_user.pk == to_user.pk:
        raise DomainError("接手人不能是移交人本人。")
    held = holdings_of(from_user).case_ids
    todo = held if case_ids is None else [pk for pk in held if pk in set(case_ids)]
    if not todo:
        raise DomainError("没有需要移交的在办事项。")
    now = timezone.now()
    totals = HandoverResult()
    for pk in todo:
        r = case_hand_over(case=pk, by=by, from_user=from_user, to_user=to_user, comment=reason, now=now)
        totals.assignments += r.assignments
        totals.first_responder |= r.first_responder
        totals.packages += r.packages
        totals.supervision_orders += r.supervision_orders
        totals.meeting_tasks += r.meeting_tasks
    counts = {
        "cases": len(todo),
        "assignments": totals.assignments,
        "packages": totals.packages,
        "supervision_orders": totals.supervision_orders,
        "meeting_tasks": totals.meeting_tasks,
    }
    log(
        by=by,
        action=AdminAction.HANDOVER,
        target_user=from_user,
        reason=reason,
        now=now,
        subject=f"{from_user.username} → {to_user.username}",
        summary=f"{from_user.display_name} 的 {len(todo)} 件在办事项移交给 {to_user.display_name}",
        data={**counts, "to": to_user.pk, "case_ids": todo[:500]},
    )
    return counts


# ============================================================================================
# Orphans: open matters nobody active answers for
# ============================================================================================


def _live(user_field: str) -> Q:
    """`user_field` is an active user with an active post."""
    return Q(**{f"{user_field}__is_active": True}) & Exists(
        Membership.objects.filter(user=OuterRef(user_field), is_active=True)
    )


def orphan_cases(qs: QuerySet | None = None) -> QuerySet[Case]:
    """Open cases whose handlers are all gone, or, without handlers, whose owner has nobody left.

    - assigned cases: every active assignee is deactivated or holds no active post;
    - unassigned cases: the owning unit (when there is one), else the owning center, had staff who
      may act on its cases and none of them is still in post with an active account.
    One query; the partial conditions are EXISTS subqueries on indexed columns.
    """
    qs = qs if qs is not None else Case.objects.all()
    assignments = CaseAssignment.objects.filter(case=OuterRef("pk"), is_active=True)
    live_assignee = Exists(assignments.filter(_live("user")))
    any_assignee = Exists(assignments)
    from cases.lifecycle import OWNER_ROLES

    unit_posts = Membership.objects.filter(unit=OuterRef("owning_unit"))
    center_posts = Membership.objects.filter(center=OuterRef("owning_center"), role__in=list(OWNER_ROLES))
    live = Q(is_active=True, user__is_active=True)
    # "Gone": the owner had people and none is left (a village station that never had a dispatcher
    # is the town's to watch, not an orphan of a departure).
    unit_gone = Exists(unit_posts) & ~Exists(unit_posts.filter(live))
    center_gone = Exists(center_posts) & ~Exists(center_posts.filter(live))
    owner_gone = (Q(owning_unit__isnull=False) & unit_gone) | (Q(owning_unit__isnull=True) & center_gone)
    return qs.filter(status__in=OPEN_STATES).filter(
        (any_assignee & ~live_assignee) | (~any_assignee & owner_gone)
    )


def orphan_orders(qs: QuerySet | None = None) -> QuerySet[SupervisionOrder]:
    """Open supervision orders whose issuer (who receives the response) is gone."""
    qs = qs if qs is not None else SupervisionOrder.objects.all()
    return qs.filter(status=SupervisionStatus.OPEN, issued_by__isnull=False).exclude(_live("issued_by"))


def orphan_packages(qs: QuerySet | None = None) -> QuerySet[LeaderPackage]:
    qs = qs if qs is not None else LeaderPackage.objects.all()
    return qs.filter(is_active=True, case__status__in=OPEN_STATES).exclude(_live("leader"))


def orphans_notify(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The daily check: tell each owning center's administrators (or the nearest above) how many
    orphaned matters they have, once a day per center. Counts are one GROUP BY per kind."""
    from django.db.models import Count
    from django.urls import reverse

    from cases.services import notify

    now = now or timezone.now()
    per_center: dict[int, dict[str, int]] = {}
    for label, rows in (
        (
            "cases",
            orphan_cases().values("owning_center").annotate(n=Count("id")).values_list("owning_center", "n"),
        ),
        (
            "orders",
            orphan_orders()
            .values("case__owning_center")
            .annotate(n=Count("id"))
            .values_list("case__owning_center", "n"),
        ),
        (
            "packages",
            orphan_packages()
            .values("case__owning_center")
            .annotate(n=Count("id"))
            .values_list("case__owning_center", "n"),
        ),
    ):
        for center_id, n in rows:
            per_center.setdefault(center_id, {"cases": 0, "orders": 0, "packages": 0})[label] += n
    day = timezone.localdate(now).isoformat()
    url = reverse("countyadmin:orphans")
    told = 0
    for center in Center.objects.filter(pk__in=list(per_center)).select_related("region"):
        counts = per_center[center.pk]
        admins = access.administrators_of(center)
        if not admins:
            continue
        parts = [f"{counts['cases']} 件事项无人承办"] if counts["cases"] else []
        if counts["orders"]:
            parts.append(f"{counts['orders']} 件督办单无人跟踪")
        if counts["packages"]:
            parts.append(f"{counts['packages']} 件包案领导已离岗")
        told += notify(
            users=admins,
            case=None,
            kind="orphans",
            now=now,
            url=url,
            title=f"{center.name}：{'，'.join(parts)}",
            body="承办人或责任人已停用或离岗，请在“工作移交”中指定接手人。",
            dedupe_key=f"orphans:{center.pk}:{day}",
        )
    return {"centers": len(per_center), "notified": told}
