"""The county's settings: clock rules, the working-day calendar, warning thresholds, points weights.

Each change is one service call that records who and why (an `AdminLog` row with the values
before and after, and the change reason on the model's own simple-history row), and recomputes
what it affects:

- a clock rule (added, edited, switched off) → the deadlines and colours of the open cases it
  can match, through the engine's own deadline computation (`cases.services.case_clocks_recompute`);
- the calendar (a year's holiday notice entered as lists of dates) → the open cases whose running
  working-day clock spans the changed dates;
- the warning thresholds → the colours of the open cases whose red triggers flip;
- the points weights → nothing to recompute: every point event keeps the points it was given
  (cases.assessment), a changed weight counts from now on.

Up to `RECOMPUTE_SYNC_LIMIT` cases are recomputed at once (the page shows the result); more go
to a Celery task with the same arguments.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cases import assessment
from cases.clocks import LOCAL, end_of_day
from cases.models import (
    OPEN_STATES,
    CalendarYear,
    Case,
    ClockRule,
    LimitUnit,
    PointKind,
    PointWeight,
    Status,
    WarningPolicy,
    WorkDay,
)
from cases.services import NotAllowed, case_clocks_recompute
from centers.models import Membership, RegionKind, Role, User
from centers.services import DomainError

from .models import AdminAction
from .services import log

RECOMPUTE_SYNC_LIMIT = 5000
COUNTY_KINDS = (RegionKind.COUNTY, RegionKind.CITY, RegionKind.PROVINCE)
SETTINGS_ROLES = (Role.SYSADMIN, Role.CENTER_LEADER)


def can_edit(user: Any) -> bool:
    """The county's administrators (系统管理员, 中心领导 of a county-level center or above)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, is_active=True, role__in=SETTINGS_ROLES, center__region__kind__in=COUNTY_KINDS
    ).exists()


def _require(by: User) -> None:
    if not can_edit(by):
        raise NotAllowed("只有县级中心的系统管理员或中心领导可以修改县级设置。")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写修改原因。")
    return reason[:300]


def _stamp(obj: Any, by: User, reason: str) -> None:
    """Who and why on the model's own history row (django-simple-history)."""
    obj._history_user = by
    obj._change_reason = reason[:100]


# ============================================================================================
# Recomputing what a change affects
# ============================================================================================


def candidates(spec: dict[str, Any]) -> QuerySet[Case]:
    """The open cases a change can affect (narrow: the recompute touches only these)."""
    qs = Case.objects.filter(status__in=OPEN_STATES)
    if "rules" in spec:
        q = Q(clock_rule_id__in=[r["id"] for r in spec["rules"] if r.get("id")])
        for r in spec["rules"]:
            # The cases the rule can match (now or before the edit); a paused case's clock ran in
            # the status before the pause, so it is a candidate too.
            match = Q(status__in=[r["status"], Status.WAITING])
            for f in ("kind", "level", "category", "phase"):
                if r.get(f):
                    match &= Q(**{f: r[f]})
            q |= match
        return qs.filter(q)
    if "dates" in spec:
        first = dt.date.fromisoformat(min(spec["dates"]))
        last = dt.date.fromisoformat(max(spec["dates"]))
        start = dt.datetime.combine(first, dt.time.min, tzinfo=LOCAL)
        # A running working-day clock that started before the last changed date and whose deadline
        # is not before the first one; a lengthened count may also reach past its old deadline.
        return qs.filter(
            clock_rule__unit=LimitUnit.WORKDAYS, step_started_at__lt=end_of_day(last), due_at__gte=start
        )
    if "warning" in spec:
        old, new = spec["warning"]["old"], spec["warning"]["new"]
        q = Q(pk__in=[])
        lo, hi = sorted((old["group_size"], new["group_size"]))
        if lo != hi:
            q |= Q(people_count__gte=lo, people_count__lt=hi)
        lo, hi = sorted((Decimal(old["amount_threshold"]), Decimal(new["amount_threshold"])))
        if lo != hi:
            q |= Q(amount__gte=lo, amount__lt=hi)
        lo, hi = sorted((old["failed_mediations"], new["failed_mediations"]))
        if lo != hi:
            q |= Q(failed_mediations__gte=lo, failed_mediations__lt=hi)
        return qs.filter(q)
    raise ValueError(f"unknown recompute spec {spec!r}")


def recompute(
    *, spec: dict[str, Any], by: User | None, reason: str, log_id: int | None = None
) -> dict[str, Any]:
    """Recompute now (small) or hand it to Celery (large); the log row gets the result."""
    qs = candidates(spec)
    count = qs.count()
    if count > RECOMPUTE_SYNC_LIMIT:
        from .tasks import recompute_clocks

        by_id = by.pk if by else None
        transaction.on_commit(
            lambda: recompute_clocks.delay(spec=spec, by_id=by_id, reason=reason, log_id=log_id)
        )
        return {"queued": count}
    return recompute_now(spec=spec, by=by, reason=reason, log_id=log_id)


def recompute_now(
    *, spec: dict[str, Any], by: User | None, reason: str, log_id: int | None = None
) -> dict[str, Any]:
    result = case_clocks_recompute(cases=candidates(spec), by=by, reason=reason)
    out = {
        "examined": result.examined,
        "deadlines_changed": result.deadlines_changed,
        "colours_changed": result.colours_changed,
    }
    if log_id is not None:
        from .models import AdminLog

        entry = AdminLog.objects.filter(pk=log_id).first()
        if entry is not None:
            entry.data = {**entry.data, "recomputed": out}
            entry.save(update_fields=["data"])
    return out


# ============================================================================================
# Clock rules
# ============================================================================================

RULE_FIELDS = (
    "kind",
    "status",
    "phase",
    "level",
    "category",
    "limit",
    "unit",
    "yellow_ratio",
    "note",
    "is_active",
)


def _rule_values(rule: ClockRule) -> dict[str, Any]:
    return {f: (str(getattr(rule, f)) if f == "yellow_ratio" else getattr(rule, f)) for f in RULE_FIELDS} | {
        "id": rule.pk
    }


def _check_rule(values: dict[str, Any]) -> None:
    if values["status"] not in Status.values or values["status"] in (
        Status.CLOSED,
        Status.MERGED,
        Status.WAITING,
    ):
        raise DomainError("请选择计时的环节（状态）。")
    if values["unit"] not in LimitUnit.values:
        raise DomainError("请选择时限单位。")
    if not 1 <= int(values["limit"]) <= 10000:
        raise DomainError("时限须在 1 到 10000 之间。")
    ratio = Decimal(str(values["yellow_ratio"]))
    if not Decimal("0.1") <= ratio <= Decimal("0.99"):
        raise DomainError("黄色预警比例须在 0.10 到 0.99 之间。")


@transaction.atomic
def clock_rule_save(
    *, by: User, reason: str, rule: ClockRule | None = None, **values: Any
) -> tuple[ClockRule, dict]:
    """Add a rule (rule=None) or change one; recompute the open clocks it affects."""
    _require(by)
    reason = _reason(reason)
    if rule is not None:
        rule = ClockRule.objects.select_for_update().get(pk=rule.pk)
        before = _rule_values(rule)
        merged = {**{f: getattr(rule, f) for f in RULE_FIELDS}, **values}
    else:
        before = None
        merged = {
            "phase": "",
            "kind": "",
            "level": "",
            "category": "",
            "note": "",
            "is_active": True,
            "yellow_ratio": Decimal("0.7"),
            **values,
        }
    _check_rule(merged)
    target = rule or ClockRule()
    for f in RULE_FIELDS:
        setattr(target, f, merged[f])
    target.phase = (target.phase or "").strip()[:32]
    target.note = (target.note or "").strip()[:200]
    _stamp(target, by, reason)
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as exc:
        raise DomainError(
            "已有相同条件（事项类型、环节、阶段、层级、类别）的启用规则，请修改那一条。"
        ) from exc
    after = _rule_values(target)
    if before == after:
        raise DomainError("没有修改任何内容。")
    verb = "新增" if before is None else ("停用" if before["is_active"] and not target.is_active else "修改")
    entry = log(
        by=by,
        action=AdminAction.CLOCK_RULE,
        reason=reason,
        subject=str(target)[:200],
        summary=f"{verb}时限规则：{target}",
        data={"before": before, "after": after},
    )
    spec = {"rules": [r for r in (before, after) if r]}
    result = recompute(spec=spec, by=by, reason=f"时限规则调整（{reason}）", log_id=entry.pk)
    return target, result


# ============================================================================================
# Working-day calendar
# ============================================================================================

_DATE = r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
_LINE = re.compile(rf"^\s*{_DATE}(?:\s*(?:至|~|～|-|—|到)\s*{_DATE})?\s*(.*)$")


def parse_dates(text: str, year: int, label: str) -> dict[dt.date, str]:
    """Lines of "2027-10-01 国庆节" or "2027-10-01至2027-10-07 国庆节" (also 、，; separated)."""
    out: dict[dt.date, str] = {}
    parts = [p for p in re.split(r"[\n\r;；、，,]+", text or "") if p.strip()]
    for part in parts:
        m = _LINE.match(part)
        if not m:
            raise DomainError(
                f"{label}中「{part.strip()[:30]}」不是日期（如 {year}-10-01 或 {year}-10-01至{year}-10-07 国庆节）。"
            )
        y1, m1, d1, y2, m2, d2, name = m.groups()
        try:
            first = dt.date(int(y1), int(m1), int(d1))
            last = dt.date(int(y2), int(m2), int(d2)) if y2 else first
        except ValueError as exc:
            raise DomainError(f"{label}中「{part.strip()[:30]}」不是有效日期。") from exc
        if last < first or (last - first).days > 31:
            raise DomainError(f"{label}中「{part.strip()[:30]}」的日期范围不对。")
        day = first
        while day <= last:
            if day.year != year:
                raise DomainError(f"{label}中的 {day:%Y-%m-%d} 不在 {year} 年。")
            out[day] = (name or "").strip()[:50]
            day += dt.timedelta(days=1)
    return out


@transaction.atomic
def calendar_year_enter(
    *, by: User, year: int, holidays: str, workdays: str, reason: str
) -> tuple[dict[str, int], dict]:
    """Enter a year's State Council holiday notice: the days off and the 调休 working weekends.

    The year's rows are replaced by the notice (rows that no longer apply are deleted, with
    history); only dates that differ from Mon–Fri are stored. Open working-day clocks that span
    a changed date are recomputed.
    """
    _require(by)
    reason = _reason(reason)
    if not 2000 <= year <= 2100:
        raise DomainError("年份不对。")
    off = parse_dates(holidays, year, "放假日期")
    on = parse_dates(workdays, year, "调休上班日期")
    if not off:
        raise DomainError("请填写放假日期。")
    both = sorted(set(off) & set(on))
    if both:
        raise DomainError(f"{both[0]:%Y-%m-%d} 同时出现在放假日期和调休上班日期中。")
    wanted: dict[dt.date, tuple[bool, str]] = {}
    for day, name in off.items():
        if day.weekday() < 5:
            wanted[day] = (False, name)
    for day, name in on.items():
        if day.weekday() >= 5:
            wanted[day] = (True, name or "调休上班")
    existing = {w.date: w for w in WorkDay.objects.select_for_update().filter(date__year=year)}
    changed: set[dt.date] = set()
    for day, w in existing.items():
        if day not in wanted:
            _stamp(w, by, reason)
            w.delete()
            changed.add(day)
    for day, (is_workday, name) in wanted.items():
        w = existing.get(day)
        if w is not None and (w.is_workday, w.name, w.source) == (is_workday, name, WorkDay.Source.COUNTY):
            continue
        if w is None or w.is_workday != is_workday:
            changed.add(day)  # a new meaning (not only a new label or source): clocks may move
        w = w or WorkDay(date=day)
        w.is_workday, w.name, w.source = is_workday, name, WorkDay.Source.COUNTY
        _stamp(w, by, reason)
        w.save()
    known = CalendarYear.objects.filter(year=year).first()
    CalendarYear.objects.update_or_create(year=year, defaults={"source": WorkDay.Source.COUNTY})
    if known is None:
        # A year counted as weekends-only until now: every running clock into it may move.
        changed |= {dt.date(year, 1, 1), dt.date(year, 12, 31)}
    counts = {
        "holidays": sum(1 for v in wanted.values() if not v[0]),
        "workdays": sum(1 for v in wanted.values() if v[0]),
        "changed_dates": len(changed),
    }
    entry = log(
        by=by,
        action=AdminAction.CALENDAR,
        reason=reason,
        subject=f"{year} 年",
        summary=f"录入 {year} 年放假安排：工作日放假 {counts['holidays']} 天，周末调休上班 {counts['workdays']} 天",
        data={
            "year": year,
            **counts,
            "off": sorted(d.isoformat() for d in off),
            "on": sorted(d.isoformat() for d in on),
        },
    )
    result = {"examined": 0, "deadlines_changed": 0, "colours_changed": 0}
    if changed:
        spec = {"dates": sorted(d.isoformat() for d in changed)}
        result = recompute(spec=spec, by=by, reason=f"工作日历调整（{reason}）", log_id=entry.pk)
    return counts, result


# ============================================================================================
# Warning thresholds
# ============================================================================================


def _policy_values(p: WarningPolicy) -> dict[str, Any]:
    return {
        "group_size": p.group_size,
        "amount_threshold": str(p.amount_threshold),
        "failed_mediations": p.failed_mediations,
    }


@transaction.atomic
def warning_policy_update(
    *, by: User, reason: str, group_size: int, amount_threshold: Decimal, failed_mediations: int
) -> dict:
    _require(by)
    reason = _reason(reason)
    if not 2 <= group_size <= 10000:
        raise DomainError("群体人数阈值须在 2 到 10000 之间。")
    if not 1 <= failed_mediations <= 20:
        raise DomainError("调解未成次数阈值须在 1 到 20 之间。")
    try:
        amount_threshold = Decimal(str(amount_threshold)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError("金额阈值须为数字。") from exc
    if amount_threshold <= 0:
        raise DomainError("金额阈值须大于 0。")
    WarningPolicy.current()
    policy = WarningPolicy.objects.select_for_update().get(pk=1)
    before = _policy_values(policy)
    policy.group_size, policy.amount_threshold, policy.failed_mediations = (
        group_size,
        amount_threshold,
        failed_mediations,
    )
    after = _policy_values(policy)
    if before == after:
        raise DomainError("没有修改任何内容。")
    _stamp(policy, by, reason)
    policy.save()
    entry = log(
        by=by,
        action=AdminAction.WARNING_POLICY,
        reason=reason,
        subject="预警阈值",
        summary=(
            f"预警阈值：群体 {before['group_size']}→{group_size} 人，金额 {before['amount_threshold']}→"
            f"{after['amount_threshold']} 元，调解未成 {before['failed_mediations']}→{failed_mediations} 次"
        ),
        data={"before": before, "after": after},
    )
    return recompute(
        spec={"warning": {"old": before, "new": after}},
        by=by,
        reason=f"预警阈值调整（{reason}）",
        log_id=entry.pk,
    )


# ============================================================================================
# Points weights (季考评)
# ============================================================================================


@transaction.atomic
def point_weights_update(*, by: User, reason: str, points: dict[str, Any]) -> int:
    """Through cases.assessment (the weights' owner); events already counted keep their points."""
    _require(by)
    reason = _reason(reason)
    before = {k: str(v) for k, v in PointWeight.objects.values_list("kind", "points")}
    changed = assessment.point_weights_update(by=by, points=points, reason=reason)
    after = {k: str(v) for k, v in PointWeight.objects.values_list("kind", "points")}
    if not changed:
        raise DomainError("没有修改任何分值。")
    diffs = [
        f"{PointKind(k).label.split('（')[0]} {before.get(k)}→{after[k]}"
        for k in after
        if before.get(k) != after[k]
    ]
    log(
        by=by,
        action=AdminAction.POINT_WEIGHTS,
        reason=reason,
        subject="考评分值",
        summary=f"修改考评分值：{'；'.join(diffs)}"[:300],
        data={"before": before, "after": after},
    )
    return changed


def now_local_year() -> int:
    return timezone.localdate().year
