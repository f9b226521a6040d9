"""The one definition of every figure the centers report (shared/ARCHITECTURE.md).

Each figure is an ORM expression, so the database computes it inside the caller's GROUP BY
(per committee, mediator, town, unit, category, month …); nothing loops over rows in Python.
Mediation, grids, petitions, the supervision lists, the assessment, the dashboards, reports and
the API annotate with these functions and never write a formula of their own
(tests/cases/test_one_formula.py fails when one appears elsewhere).

每个统计口径只在这里定义一次。函数返回 ORM 表达式，由数据库在调用方的分组查询中计算；调解、网格、
信访、督办、考评、大屏、报表和接口都调用这里的函数，不得另写公式（有测试检查）。

Conventions / 约定
------------------
- 百分比为 0–100 的浮点数；分母为 0 时结果为 NULL，页面显示“—”，不是 0%，也不是 100%。
  Rates are percentages (0–100, float); NULL when the denominator is 0 (shown as "—").
- 统计期间 `Period` 为 [lo, hi)：含起点，不含终点；按本地（北京时间）自然日划分。
  A period is [lo, hi) in aware datetimes, built from local calendar dates.
- 已合并（merged）的事项是重复登记，不进入任何事项口径的分子或分母。
  Merged cases are duplicates of another record and count in no case figure.
- `prefix` 让同一口径用于 1:1 明细表（如 `Mediation`、`Hazard` 的查询用 prefix="case__"）。
  `prefix` applies a Case figure to a detail model's queryset ("case__").
- 每个口径都只读登记时、办理时已存储的事实（时间、办结时是否按期、回访满意度、办理记录），
  从不按现行时限规则重算历史：修改时限规则不会改变已发生事项的统计结果。
  Figures read facts stored when things happened, never today's clock rules.

Case figures / 事项口径
-----------------------
received_count(period)          受理件数 = 期内登记的事项数（不含已合并）。
    Matters registered in the period (created_at in period), merged duplicates excluded.

resolution_rate(period)         化解率 = 期内受理事项中已化解的件数 ÷ 期内受理件数 × 100。
    Resolution rate = of the matters received in the period, those resolved (resolved_at set,
    whenever that happened up to now) ÷ those received × 100. The seeds' 878 受理 / 869 化解 =
    98.9 %. Still-open matters count in the denominator only, so a recent period's rate rises as
    its matters are resolved; a matter that failed (未化解) and was closed counts as not resolved;
    a reopened matter loses its resolved_at until it is resolved again.

on_time_close_rate(period)      按期办结率 = 期内办结且按期的件数 ÷ 期内办结件数 × 100。
    Closed-on-time rate = cases closed in the period (closed_at in period, status closed) whose
    stored `closed_on_time` is true ÷ those whose `closed_on_time` is known. `closed_on_time` is
    written once, at closing, by the engine (no step ever overdue and closed before the last
    deadline; a kind may define it for its own closing, e.g. petitions). Closed cases with an
    unknown value (NULL, e.g. imported history) count in neither.

step_on_time_rate(period)       环节按期率 = 期内结束的办理环节中按期的个数 ÷ 期内结束且有时限的环节数 × 100.
    Over timeline rows (TimelineEntry): every step that ended in the period (`at` in period) and
    had a deadline stores `met_deadline`; rows without a deadline (NULL) count in neither.

satisfaction_rate(period)       满意率 = (满意 + 基本满意) ÷ 期内办结且已回访评价的件数 × 100.
    Satisfaction = closed in the period with satisfaction "satisfied" or "basic" ÷ closed in the
    period with any satisfaction recorded; closed without a recorded answer count in neither.

repeat_petition_rate(repeat, period)  重复信访率 = 期内受理的信访事项中被认定为重复信访的件数 ÷ 期内受理的信访事项数 × 100.
    Repeat-petition rate = petitions (kind "petition") received in the period for which `repeat`
    holds ÷ petitions received in the period. Which petition is a repeat is decided by the
    petitions app (its flag), so the caller passes `repeat` as a Q on Case (the cases app never
    depends on petitions), e.g. Q(petition__flags__kind="repeated"); it is evaluated in a subquery,
    so a to-many join neither counts a case twice nor disturbs the other figures.

average_days_to_resolve(period) 平均化解用时（天）= 期内化解事项的 (化解时间 − 登记时间) 的平均值。
    Mean of (resolved_at − created_at) over cases resolved in the period (resolved_at in
    period), calendar days with fractions (waiting time included: it is the citizen's wait).
    NULL when none. The database returns a duration; `to_days()` converts it.

median_days_to_resolve(period)  化解用时中位数（天），同上口径取中位数。
    Median of the same durations. PostgreSQL: percentile_cont(0.5) WITHIN GROUP (ORDER BY …),
    i.e. the mean of the two middle values for an even count. SQLite (the demo mode): the same
    definition through an aggregate function registered on the connection (ZZ_MEDIAN), so
    grouped queries work there too.

escalation_rate(period)         上交率（升级率）= 期内受理事项中曾被上报到上级中心的件数 ÷ 期内受理件数 × 100.
    Cases received in the period that were ever moved up to a higher center — escalated by
    hand (escalate), by the sweep when overdue (overdue with a change of center) or taken over
    by a higher center (take_over) — ÷ cases received. 矛盾不上交 wants this low. Supervision
    where a case stands (a petition overdue at its handling organ) is not an escalation.

overdue_count(now)              超期件数 = 当前在办且已超期的事项数（时点数，不按期间）。
    Open cases (not closed or merged) that are overdue now: the current step's deadline has
    passed while its clock runs, or an earlier step went overdue (overdue_count > 0; the sweep
    then moved it up and restarted its clock). Paused cases count only through the latter.

open_count(colour)              在办件数（可按颜色）。Open cases, optionally of one warning colour.

Mediation figures / 调解口径 (on mediation.Mediation; prefix "mediation__" from Case)
----------------------------------------------------------------------------------
The fields are named as strings, so cases never imports mediation. A mediation "concludes" when
its agreement is signed (success) or its failure is recorded (failed); `ended_at` is that moment
and is what the period filters.

mediation_success_rate(period)  调解成功率 = 期内调解成功件数 ÷ 期内调解终结件数（成功 + 不成）× 100.
    Success rate = mediations concluded in the period (ended_at in period) with a signed
    agreement ÷ those concluded either way. Still-pending mediations count in neither. The seeds'
    878 调解 / 869 调成 = 98.9 %.

average_days_to_agreement(period)  平均调解用时（天）= 期内达成协议的调解 (签署时间 − 受理调解时间) 的平均值.
    Mean of (ended_at − assigned_at) over the mediations that succeeded in the period: from the
    committee taking the matter on (assigned_at) to the agreement taking effect. `to_days` converts.

median_days_to_agreement(period)  调解用时中位数（天），口径同上。

mediation_amount_involved(period)  涉及金额 = 期内调解终结事项的涉及金额（Case.amount）之和。
mediation_amount_agreed(period)    协议金额 = 期内调解成功事项的协议金额（Agreement.amount）之和。
mediation_amount_performed(period) 已履行金额 = 期内调解成功事项经履行回访确认的已履行金额之和。
wages_recovered(period)            追回欠薪 = 期内调解成功的劳动争议（欠薪）协议金额之和。
workers_paid(period)               欠薪受益人数 = 期内调解成功的劳动争议协议所载受益人数之和。
    Sums are 0 (not NULL) without rows. Amounts in yuan.

mediation_figure_annotations(period) / mediation_figures / mediation_figures_by
    All of the above at once, plus: assigned (受理调解件数, assigned_at in period), concluded,
    succeeded, failed (in the period), pending (调解中, a snapshot), confirmation_applied and
    confirmed (司法确认: agreements applied for / confirmed whose mediation concluded in the
    period) — grouped by committee, mediator, domain (case category) or month by the caller.

referral_on_time_report_rate(period)  委派调解按期反馈率 = 期内反馈且按期的件数 ÷ 期内反馈件数 × 100.
    Over mediation.Referral rows reported in the period (reported_at in period) whose stored
    `report_on_time` (written once, when the report is given) is known.

referral_figure_annotations(period) / referral_figures_by
    received (referrals received in the period), reported, on-time report rate, success rate of
    the referred mediations (mediation_success_rate with prefix "case__mediation__").

Generic building blocks / 通用函数 (kept for mediation and others)
----------------------------------------------------------------
success_rate(success=Q, concluded=Q)
    成功率（如调解成功率）= 成功件数 ÷ 已终结件数 × 100。仍在办理的事项既不进分子也不进分母；
    "终结"与"成功"的条件由调用方给出（调解：成功 = 达成协议，终结 = 成功或调解不成）。
    Success rate = successes ÷ concluded × 100; open matters count in neither.

rate(numerator, denominator)    通用比率 = 分子 ÷ 分母 × 100；分母为 0 时为 NULL。

average_days(start=, end=, filter=Q)
    平均用时 = 满足条件记录的 (end − start) 平均值（时长）；任一端为空的记录不计；无记录为 NULL。
    `to_days()` 换算为天数（含小数）。

median_duration(start=, end=, filter=Q)  用时中位数（时长），口径同上。

amount_sum(field, filter=Q)
    金额合计 = 满足条件的记录金额之和；空值不计，没有记录时为 0（不是 NULL）。

count_if(filter=Q)              条件计数。

score(filter=Q)                 考评得分 = 期内考评事件分值之和（PointEvent.points），无事件为 0。
    Assessment score = sum of the points of the subject's events in the period; 0 without
    events. Each event keeps the points it was given, so a later change of weights rewrites
    nothing.
Grid work figures / 网格口径 (grids' pages call these; grids passes its own querysets in)
-----------------------------------------------------------------------------------
visit_count(period)             走访次数 = 期内入户走访记录数（visited_at 在期内）。
    Household visits (grids.HouseholdVisit rows) whose `visited_at` lies in the period.

grid_found_count(kind, period)  网格发现件数 = 期内由网格上报（渠道“网格上报”）登记的该类事项数（不含已合并）。
    Cases of `kind` ("dispute" 矛盾纠纷 / "hazard" 安全隐患, or any kind when None) received in the
    period through the grid channel. 化解率 and 平均化解用时 of grid work are `resolution_rate` and
    `average_days_to_resolve` over the same grid-reported cases (`grid_report_q`); a hazard is
    resolved when its rectification is recorded (resolved_at), and loses it when verification
    sends it back. `grid_figure_annotations` gives all of them at once, for a GROUP BY per grid
    (region) or per grid worker (registered_by).

last_activity_at(rows, at=, link=)  最近一次走访时间 = 与外层记录关联的记录中 `at` 的最大值（相关子查询，走索引）。
    The latest `at` of `rows` whose `link` equals the outer row's key (a correlated subquery
    that reads one index entry per outer row); NULL when there is none.

idle_q(last=, now=, days=)      无走访预警 = 从未走访，或最近一次走访早于 now − days 天（N 天未走访的网格）。
    A grid is idle when its last visit is NULL or earlier than `now − days`.

task_completion_rate()          排查完成率 = 已填报完成的网格任务数 ÷ 网格任务数 × 100（grids.SweepTask，completed_at 非空即完成）。
    Sweep tasks with a completion report ÷ all tasks; NULL without tasks.

Dashboard and report figures / 大屏与报表口径
------------------------------------------
red_count(period)               红色预警件数 = 期内受理的事项中当前（或办结时）为红色预警的件数。
    Matters received in the period whose warning colour is red now (or was when they closed:
    a closed matter keeps its last colour). Merged duplicates excluded.

case_success_rate(period)       办结成功率 = 期内办结的事项中已化解的件数 ÷ 期内办结件数 × 100.
    Of the matters closed in the period, those resolved (resolved_at set) ÷ those closed; a
    matter closed as 未化解 counts in the denominator only; still-open matters count in neither.

mediated_case_success_rate(period)  调解事项成功率（事项口径）= case_success_rate over the mediated kinds
    (MEDIATED_KINDS: 矛盾纠纷、委派调解、联调联处). The mediation app's engine transitions resolve a
    case on an agreement and fail it when mediation breaks down, so this is 调解成功 ÷ 调解终结.

change_rate(current, previous)  同比/环比增减率 = (本期 − 上期) ÷ 上期 × 100；上期为 0 时为 None。
    Year-on-year (or period-on-period) change of two counts, e.g. petitions this year to date
    against the same dates last year (the seeds: −36.15 %).

per_thousand_year(count, population, days)  每千人年化发生率 = 件数 ÷ 实有人口 × 1000 × 365 ÷ 天数。
    Incidence per 1,000 residents per year, so months, quarters and years compare; None when
    the population is unknown (0) or the period is empty.

active_worker_count(period)     走访网格员人数 = 期内有入户走访记录的网格员人数（按人去重）。
    The distinct grid workers (HouseholdVisit.worker) with a visit in the period.

rollup_rate(numerator, denominator)  汇总表比率 = Σ分子列 ÷ Σ分母列 × 100 over rollup rows. The
    dashboards' rollup tables store, per day or month and place, the counts of the per-matter
    facts in `case_facts()`; summing them over a period of whole local days gives exactly the
    count figures above (a test recomputes every rollup figure from the base tables).

case_facts()                    每件事项的口径事实（0/1），汇总表逐列求和：received, resolved, red,
    escalated (by the day registered); closed, closed_resolved, closed_on_time, on_time_known,
    satisfied, satisfaction_known (by the day closed); open (by colour, now).

Safety index / 平安指数
-------------------
safety_index(values, indicators)  平安指数（0–100，越高越平安）= Σ 权重 × 指标得分 ÷ Σ 权重。
    Each indicator's raw value (SAFETY_INDICATORS: disputes, incidents and petitions per 1,000
    residents per year, red warnings per 1,000 per year, 化解率, 重复信访率) becomes a score by
    linear interpolation between its `worst` value (score 0) and its `best` value (score 100),
    clamped to 0–100; the direction follows from best < worst (lower is better) or best > worst.
    Indicators without a value in the period (no population, nothing received) are left out and
    the remaining weights carry the index; None when none has a value or the weights sum to 0.
    The weights, best and worst values are the county's (dashboards.SafetyIndicator, editable);
    each computed index stores the values, scores and weights it used.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Coalesce, NullIf

LOCAL = ZoneInfo(settings.TIME_ZONE)


# ============================================================================================
# Periods
# ============================================================================================


@dataclass(frozen=True)
class Period:
    """[lo, hi) in aware datetimes; either end may be open (None)."""

    lo: dt.datetime | None = None
    hi: dt.datetime | None = None

    @classmethod
    def from_dates(cls, start: dt.date | None, end: dt.date | None) -> Period:
        """Local calendar dates [start, end], both inclusive."""
        lo = dt.datetime.combine(start, dt.time.min, tzinfo=LOCAL) if start else None
        hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL) if end else None
        return cls(lo, hi)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise ValueError("quarter must be 1–4")
        start = dt.date(year, 3 * quarter - 2, 1)
        end_month = 3 * quarter + 1
        end = dt.date(year + 1, 1, 1) if end_month > 12 else dt.date(year, end_month, 1)
        return cls.from_dates(start, end - dt.timedelta(days=1))

    def q(self, field: str) -> Q:
        """Rows whose `field` lies in the period (and is set)."""
        q = Q(**{f"{field}__isnull": False})
        if self.lo is not None:
            q &= Q(**{f"{field}__gte": self.lo})
        if self.hi is not None:
            q &= Q(**{f"{field}__lt": self.hi})
        return q

    @property
    def label(self) -> str:
        lo = self.lo.astimezone(LOCAL).date().isoformat() if self.lo else "…"
        hi = (self.hi.astimezone(LOCAL).date() - dt.timedelta(days=1)).isoformat() if self.hi else "…"
        return f"{lo} 至 {hi}"


ALL_TIME = Period()


def current_quarter(today: dt.date) -> tuple[int, int]:
    return today.year, (today.month - 1) // 3 + 1


# ============================================================================================
# Generic building blocks
# ============================================================================================


def count_if(filter: Q | None = None) -> Count:  # noqa: A002 - mirrors the ORM's own keyword
    return Count("pk", filter=filter)


def rate(numerator: Combinable, denominator: Combinable) -> Combinable:
    """numerator ÷ denominator × 100, NULL when the denominator is 0."""
    return ExpressionWrapper(
        Cast(numerator, FloatField()) * Value(100.0) / NullIf(Cast(denominator, FloatField()), Value(0.0)),
        output_field=FloatField(),
    )


def success_rate(*, success: Q, concluded: Q) -> Combinable:
    """成功率 = 成功 ÷ 已终结 × 100 (see the module docstring for the edge cases)."""
    return rate(count_if(success & concluded), count_if(concluded))


def _duration(start: str, end: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def average_days(*, start: str, end: str, filter: Q | None = None) -> Avg:  # noqa: A002
    """Average of (end − start) over the matching rows, as a duration; `to_days` converts it."""
    return Avg(_duration(start, end), filter=filter)


class Median(Aggregate):
    """The median of an expression: percentile_cont(0.5) on PostgreSQL, ZZ_MEDIAN on SQLite."""

    name = "Median"
    function = "percentile_cont"
    template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def as_sqlite(self, compiler, connection, **extra_context):
        _register_sqlite_median(connection)
        # On a copy, not as a `template=` keyword: Aggregate.as_sql passes its own `template=` when it
        # adds the FILTER clause, and the two clash for a filtered median (every figure has a filter).
        clone = self.copy()
        clone.template = "ZZ_MEDIAN(%(expressions)s)"
        return super(Median, clone).as_sql(compiler, connection, **extra_context)


class _SqliteMedian:
    """sqlite3 aggregate: the median of the non-NULL values (mean of the middle two when even)."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: Any) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def _register_sqlite_median(connection) -> None:
    connection.ensure_connection()
    raw = connection.connection
    if not getattr(raw, "_zz_median", False):
        raw.create_aggregate("ZZ_MEDIAN", 1, _SqliteMedian)
        try:
            raw._zz_median = True
        except AttributeError:  # sqlite3.Connection takes no attributes: registering again is harmless
            pass


def median_duration(*, start: str, end: str, filter: Q | None = None) -> Median:  # noqa: A002
    """Median of (end − start) over the matching rows, as a duration; `to_days` converts it."""
    return Median(_duration(start, end), filter=filter, output_field=DurationField())


def to_days(value: dt.timedelta | float | None) -> float | None:
    """A duration from `average_days`/`median_duration` in (fractional) days; None stays None."""
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 86400
    return float(value) / 86400 / 1_000_000  # SQLite may hand back raw microseconds


def amount_sum(field: str, filter: Q | None = None) -> Coalesce:  # noqa: A002
    return Coalesce(
        Sum(field, filter=filter),
        Value(Decimal("0")),
        output_field=DecimalField(max_digits=18, decimal_places=2),
    )


def score(filter: Q | None = None, *, prefix: str = "") -> Coalesce:  # noqa: A002
    """考评得分: the sum of the events' points (0 without events)."""
    return Coalesce(
        Sum(f"{prefix}points", filter=filter),
        Value(Decimal("0")),
        output_field=DecimalField(max_digits=10, decimal_places=1),
    )


# ============================================================================================
# Case facts (each a Q on Case, or on a detail model with prefix="case__")
# ============================================================================================


def _and(*parts: Q | None) -> Q:
    out = Q()
    for p in parts:
        if p is not None:
            out &= p
    return out


def _p(prefix: str, q: dict[str, Any]) -> Q:
    return Q(**{f"{prefix}{k}": v for k, v in q.items()})


def received_q(prefix: str = "", period: Period = ALL_TIME) -> Q:
    """Registered in the period, merged duplicates excluded."""
    return period.q(f"{prefix}created_at") & ~_p(prefix, {"status": "merged"})


def resolved_q(prefix: str = "") -> Q:
    return _p(prefix, {"resolved_at__isnull": False}) & ~_p(prefix, {"status": "merged"})


def closed_q(prefix: str = "", period: Period = ALL_TIME) -> Q:
    return _p(prefix, {"status": "closed"}) & period.q(f"{prefix}closed_at")


def open_q(prefix: str = "") -> Q:
    from .models import OPEN_STATES

    return _p(prefix, {"status__in": OPEN_STATES})


ESCALATION_ACTIONS = ("escalate", "overdue", "take_over")


def escalated_q(prefix: str = "") -> Q:
    """Ever moved up to a higher center (escalated, overdue and moved, taken over)."""
    from .models import TimelineEntry

    moves = TimelineEntry.objects.filter(
        case_id=OuterRef(f"{prefix}pk"),
        action__in=ESCALATION_ACTIONS,
        from_center__isnull=False,
        to_center__isnull=False,
    ).exclude(from_center=F("to_center"))
    return Q(Exists(moves))


def overdue_q(now: dt.datetime, prefix: str = "") -> Q:
    from .models import CLOCK_STATES

    return open_q(prefix) & (
        _p(prefix, {"overdue_count__gt": 0}) | _p(prefix, {"status__in": CLOCK_STATES, "due_at__lte": now})
    )


# ============================================================================================
# Case figures
# ============================================================================================


def received_count(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Count:  # noqa: A002
    """受理件数."""
    return count_if(_and(received_q(prefix, period), filter))


def resolved_count(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Count:  # noqa: A002
    """化解件数: of the matters received in the period, those resolved (the numerator of 化解率)."""
    return count_if(_and(received_q(prefix, period), resolved_q(prefix), filter))


def resolution_rate(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Combinable:  # noqa: A002
    """化解率 = 已化解 ÷ 受理 × 100 over the matters received in the period."""
    return rate(
        resolved_count(period=period, prefix=prefix, filter=filter),
        received_count(period=period, prefix=prefix, filter=filter),
    )


def closed_count(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Count:  # noqa: A002
    """办结件数: closed in the period."""
    return count_if(_and(closed_q(prefix, period), filter))


def on_time_close_rate(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Combinable:  # noqa: A002
    """按期办结率 from the stored `closed_on_time` of the cases closed in the period."""
    base = _and(closed_q(prefix, period), filter)
    return rate(
        count_if(base & _p(prefix, {"closed_on_time": True})),
        count_if(base & _p(prefix, {"closed_on_time__isnull": False})),
    )


def satisfaction_rate(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Combinable:  # noqa: A002
    """满意率 = (满意 + 基本满意) ÷ 已回访评价, over the cases closed in the period."""
    base = _and(closed_q(prefix, period), filter)
    return rate(
        count_if(base & _p(prefix, {"satisfaction__in": ("satisfied", "basic")})),
        count_if(base & ~_p(prefix, {"satisfaction": ""})),
    )


def repeat_petition_rate(
    *,
    repeat: Q,
    period: Period = ALL_TIME,
    prefix: str = "",
    filter: Q | None = None,  # noqa: A002
) -> Combinable:
    """重复信访率 = 重复信访 ÷ 信访受理 over the petitions received in the period.

    `repeat` is evaluated in its own subquery, so a Q across a to-many relation neither
    duplicates a case here nor multiplies the other figures of the same query.
    """
    from .models import Case

    base = _and(received_q(prefix, period), _p(prefix, {"kind": "petition"}), filter)
    is_repeat = Q(Exists(Case.objects.filter(repeat, pk=OuterRef(f"{prefix}pk"))))
    return rate(count_if(base & is_repeat), count_if(base))


def average_days_to_resolve(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Avg:  # noqa: A002
    """平均化解用时 (a duration; `to_days` converts) over the cases resolved in the period."""
    return average_days(
        start=f"{prefix}created_at",
        end=f"{prefix}resolved_at",
        filter=_and(resolved_q(prefix), period.q(f"{prefix}resolved_at"), filter),
    )


def median_days_to_resolve(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Median:  # noqa: A002
    """化解用时中位数 (a duration; `to_days` converts) over the cases resolved in the period."""
    return median_duration(
        start=f"{prefix}created_at",
        end=f"{prefix}resolved_at",
        filter=_and(resolved_q(prefix), period.q(f"{prefix}resolved_at"), filter),
    )


def escalation_rate(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Combinable:  # noqa: A002
    """上交率 = 曾上报上级 ÷ 受理 over the matters received in the period."""
    base = _and(received_q(prefix, period), filter)
    return rate(count_if(base & escalated_q(prefix)), count_if(base))


def overdue_count(*, now: dt.datetime, prefix: str = "", filter: Q | None = None) -> Count:  # noqa: A002
    """超期件数 (a snapshot at `now`)."""
    return count_if(_and(overdue_q(now, prefix), filter))


def open_count(*, colour: str | None = None, prefix: str = "", filter: Q | None = None) -> Count:  # noqa: A002
    """在办件数, optionally of one warning colour."""
    q = open_q(prefix)
    if colour:
        q &= _p(prefix, {"warning_level": colour})
    return count_if(_and(q, filter))


def step_on_time_rate(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Combinable:  # noqa: A002
    """环节按期率 over TimelineEntry rows (prefix "timeline__" from Case) that ended a step in the period."""
    base = _and(period.q(f"{prefix}at"), _p(prefix, {"met_deadline__isnull": False}), filter)
    return rate(count_if(base & _p(prefix, {"met_deadline": True})), count_if(base))


# ============================================================================================
# All case figures at once
# ============================================================================================


def case_figure_annotations(
    *, period: Period = ALL_TIME, now: dt.datetime, prefix: str = "", repeat: Q | None = None
) -> dict[str, Any]:
    """The figures of a set of cases as aggregate expressions (for `.aggregate` or a GROUP BY)."""
    from .models import WarningLevel

    out: dict[str, Any] = {
        "received": received_count(period=period, prefix=prefix),
        "resolved": resolved_count(period=period, prefix=prefix),
        "resolution_rate": resolution_rate(period=period, prefix=prefix),
        "closed": closed_count(period=period, prefix=prefix),
        "on_time_close_rate": on_time_close_rate(period=period, prefix=prefix),
        "satisfaction_rate": satisfaction_rate(period=period, prefix=prefix),
        "avg_days_to_resolve": average_days_to_resolve(period=period, prefix=prefix),
        "median_days_to_resolve": median_days_to_resolve(period=period, prefix=prefix),
        "escalation_rate": escalation_rate(period=period, prefix=prefix),
        "overdue": overdue_count(now=now, prefix=prefix),
        "open": open_count(prefix=prefix),
        "open_red": open_count(colour=WarningLevel.RED, prefix=prefix),
        "open_yellow": open_count(colour=WarningLevel.YELLOW, prefix=prefix),
        "open_green": open_count(colour=WarningLevel.GREEN, prefix=prefix),
    }
    if repeat is not None:
        out["repeat_petition_rate"] = repeat_petition_rate(repeat=repeat, period=period, prefix=prefix)
    return out


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("avg_days_to_resolve", "median_days_to_resolve"):
        if key in row:
            row[key] = to_days(row[key])
    return row


def case_figures(
    qs: QuerySet, *, period: Period = ALL_TIME, now: dt.datetime, prefix: str = "", repeat: Q | None = None
) -> dict[str, Any]:
    """Every case figure of `qs` (already narrowed by the jurisdiction gate) in one query."""
    return _finish(
        qs.aggregate(**case_figure_annotations(period=period, now=now, prefix=prefix, repeat=repeat))
    )


def case_figures_by(
    qs: QuerySet,
    group_by: str | list[str],
    *,
    period: Period = ALL_TIME,
    now: dt.datetime,
    prefix: str = "",
    repeat: Q | None = None,
) -> list[dict[str, Any]]:
    """The same figures per group (one GROUP BY query), e.g. group_by="town"."""
    keys = [group_by] if isinstance(group_by, str) else list(group_by)
    rows = (
        qs.order_by()
        .values(*keys)
        .annotate(**case_figure_annotations(period=period, now=now, prefix=prefix, repeat=repeat))
        .order_by(*keys)
    )
    return [_finish(dict(r)) for r in rows]


# ============================================================================================
# Grid work figures (grids passes its querysets and field names: cases never imports grids)
# ============================================================================================

GRID_CHANNEL = "grid"


def visit_count(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Count:  # noqa: A002
    """走访次数: household visits whose `visited_at` lies in the period."""
    return Count(f"{prefix}pk" if prefix else "pk", filter=_and(period.q(f"{prefix}visited_at"), filter))


def grid_report_q(prefix: str = "") -> Q:
    """Registered through the grid channel (网格上报)."""
    return _p(prefix, {"channel": GRID_CHANNEL})


def grid_found_count(
    *, kind: str | None = None, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None  # noqa: A002
) -> Count:
    """网格发现件数: grid-reported cases (of `kind`) received in the period."""
    q = grid_report_q(prefix)
    if kind:
        q &= _p(prefix, {"kind": kind})
    return received_count(period=period, prefix=prefix, filter=_and(q, filter))


def grid_figure_annotations(*, period: Period = ALL_TIME, prefix: str = "") -> dict[str, Any]:
    """发现纠纷、发现隐患、化解、化解率、平均化解用时 of grid-reported cases, for `.aggregate` or a GROUP BY."""
    grid = grid_report_q(prefix)
    return {
        "disputes_found": grid_found_count(kind="dispute", period=period, prefix=prefix),
        "hazards_found": grid_found_count(kind="hazard", period=period, prefix=prefix),
        "found": grid_found_count(period=period, prefix=prefix),
        "resolved": resolved_count(period=period, prefix=prefix, filter=grid),
        "resolution_rate": resolution_rate(period=period, prefix=prefix, filter=grid),
        "avg_days_to_resolve": average_days_to_resolve(period=period, prefix=prefix, filter=grid),
    }


def grid_figures_by(qs: QuerySet, group_by: str, *, period: Period = ALL_TIME) -> dict[Any, dict[str, Any]]:
    """The grid figures of the cases in `qs` per value of `group_by` (one GROUP BY query)."""
    rows = (
        qs.filter(grid_report_q())
        .order_by()
        .values(group_by)
        .annotate(**grid_figure_annotations(period=period))
    )
    return {r.pop(group_by): _finish(dict(r)) for r in rows}


def last_activity_at(rows: QuerySet, *, at: str, link: str, outer: str = "pk") -> Subquery:
    """最近一次活动时间: the latest `at` of `rows` whose `link` is the outer row's `outer`."""
    return Subquery(rows.filter(**{link: OuterRef(outer)}).order_by(f"-{at}").values(at)[:1])


def last_activity_max(field: str, filter: Q | None = None) -> Max:  # noqa: A002
    """The latest `field` in a GROUP BY (e.g. a grid worker's last visit)."""
    return Max(field, filter=filter)


def idle_since(*, now: dt.datetime, days: int) -> dt.datetime:
    """The cut-off of the N-days-without-a-visit warning."""
    return now - dt.timedelta(days=days)


def idle_q(*, last: str, now: dt.datetime, days: int) -> Q:
    """无走访预警: never visited, or the last visit lies more than `days` days before `now`."""
    return Q(**{f"{last}__isnull": True}) | Q(**{f"{last}__lt": idle_since(now=now, days=days)})


def task_completion_rate(*, done: str = "completed_at", prefix: str = "") -> Combinable:
    """排查完成率 = tasks with a completion report ÷ all tasks × 100."""
    key = f"{prefix}pk" if prefix else "pk"
    return rate(Count(key, filter=Q(**{f"{prefix}{done}__isnull": False})), Count(key))


# ============================================================================================
# Dashboard and report figures
# ============================================================================================

# The kinds whose handling is mediation (their engine transitions resolve on an agreement and
# fail when mediation breaks down).
MEDIATED_KINDS = ("dispute", "referral", "joint")


def red_q(prefix: str = "") -> Q:
    return _p(prefix, {"warning_level": "red"})


def red_count(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Count:  # noqa: A002
    """红色预警件数: received in the period and red (now, or when closed)."""
    return count_if(_and(received_q(prefix, period), red_q(prefix), filter))


def case_success_rate(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Combinable:  # noqa: A002
    """办结成功率 = 期内办结且已化解 ÷ 期内办结."""
    base = _and(closed_q(prefix, period), filter)
    return rate(count_if(base & resolved_q(prefix)), count_if(base))


def mediated_case_success_rate(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Combinable:  # noqa: A002
    """调解类事项办结成功率（事项口径）: case_success_rate over the mediated kinds. The mediation
    organisations' own 调解成功率 (on mediation outcomes) is `mediation_success_rate` below."""
    return case_success_rate(
        period=period, prefix=prefix, filter=_and(_p(prefix, {"kind__in": MEDIATED_KINDS}), filter)
    )


def change_rate(current: float | int | None, previous: float | int | None) -> float | None:
    """同比增减率 = (current − previous) ÷ previous × 100; None when there is no base."""
    if current is None or not previous:
        return None
    return (float(current) - float(previous)) * 100.0 / float(previous)


def per_thousand_year(count: float | int | None, population: int | None, days: float) -> float | None:
    """每千人年化发生率 = count ÷ population × 1000 × 365 ÷ days."""
    if count is None or not population or days <= 0:
        return None
    return float(count) * 1000.0 * 365.0 / (float(population) * float(days))


def active_worker_count(*, period: Period = ALL_TIME, filter: Q | None = None) -> Count:  # noqa: A002
    """走访网格员人数: distinct workers with a household visit in the period."""
    return Count("worker", distinct=True, filter=_and(period.q("visited_at"), filter))


def rollup_rate(numerator: str, denominator: str) -> Combinable:
    """Σ numerator ÷ Σ denominator × 100 over rollup rows (NULL when the denominator sums to 0)."""
    return rate(Sum(numerator), Sum(denominator))


def case_facts(prefix: str = "") -> dict[str, Q]:
    """The per-matter facts the dashboards' rollups count (each a Q on Case).

    received/resolved/red/escalated belong to the day the matter was registered, the closed_*
    facts to the day it was closed, `open` to now (by colour). A rollup column is the number of
    matters with the fact, so its sum over whole days equals the count figure of the same name.
    """
    closed = closed_q(prefix)
    received = received_q(prefix)
    return {
        "received": received,
        "resolved": received & resolved_q(prefix),
        "red": received & red_q(prefix),
        "escalated": received & escalated_q(prefix),
        "closed": closed,
        "closed_resolved": closed & resolved_q(prefix),
        "closed_on_time": closed & _p(prefix, {"closed_on_time": True}),
        "on_time_known": closed & _p(prefix, {"closed_on_time__isnull": False}),
        "satisfied": closed & _p(prefix, {"satisfaction__in": ("satisfied", "basic")}),
        "satisfaction_known": closed & ~_p(prefix, {"satisfaction": ""}),
        "open": open_q(prefix),
    }


# ============================================================================================
# Safety index (平安指数)
# ============================================================================================


@dataclass(frozen=True)
class SafetyIndicatorSpec:
    code: str
    label: str
    unit: str
    weight: Decimal
    best: Decimal
    worst: Decimal
    note: str


# The indicators and their defaults (the county edits weights, best and worst values).
SAFETY_INDICATORS: tuple[SafetyIndicatorSpec, ...] = (
    SafetyIndicatorSpec(
        "disputes", "矛盾纠纷发生率", "件/千人·年", Decimal("25"), Decimal("0"), Decimal("30"),
        "期内受理的矛盾纠纷（事项类型：矛盾纠纷）÷ 实有人口 × 1000，按年折算",
    ),
    SafetyIndicatorSpec(
        "incidents", "非警务警情发生率", "件/千人·年", Decimal("15"), Decimal("0"), Decimal("10"),
        "期内受理的 110 非警务类警情（来源渠道：110）÷ 实有人口 × 1000，按年折算",
    ),
    SafetyIndicatorSpec(
        "petitions", "信访发生率", "件/千人·年", Decimal("15"), Decimal("0"), Decimal("10"),
        "期内受理的信访事项 ÷ 实有人口 × 1000，按年折算",
    ),
    SafetyIndicatorSpec(
        "red", "红色预警发生率", "件/千人·年", Decimal("15"), Decimal("0"), Decimal("5"),
        "期内受理且为红色预警的事项 ÷ 实有人口 × 1000，按年折算",
    ),
    SafetyIndicatorSpec(
        "resolution", "化解率", "%", Decimal("20"), Decimal("100"), Decimal("80"),
        "期内受理事项中已化解的比例（与大屏、报表的化解率同一口径）",
    ),
    SafetyIndicatorSpec(
        "repeat", "重复信访率", "%", Decimal("10"), Decimal("0"), Decimal("30"),
        "期内受理的信访事项中被认定为重复信访的比例",
    ),
)


def indicator_score(value: float | None, *, best: float, worst: float) -> float | None:
    """0–100: `worst` scores 0, `best` scores 100, linear between, clamped; None stays None."""
    if value is None or best == worst:
        return None
    share = (float(worst) - float(value)) / (float(worst) - float(best))
    return max(0.0, min(1.0, share)) * 100.0


def safety_index(
    values: dict[str, float | None], indicators: Sequence[Any]
) -> tuple[float | None, dict[str, float | None]]:
    """(平安指数, score per indicator). `indicators` have code, weight, best, worst."""
    scores: dict[str, float | None] = {}
    weighted = 0.0
    weights = 0.0
    for ind in indicators:
        s = indicator_score(values.get(ind.code), best=float(ind.best), worst=float(ind.worst))
        scores[ind.code] = s
        if s is not None and float(ind.weight) > 0:
            weighted += float(ind.weight) * s
            weights += float(ind.weight)
    return (weighted / weights if weights else None), scores


# ============================================================================================
# Mediation figures (on mediation.Mediation, or prefix "mediation__" from Case)
# ============================================================================================

MEDIATION_CONCLUDED = ("success", "failed")


def mediation_concluded_q(prefix: str = "", period: Period = ALL_TIME) -> Q:
    """Concluded (agreement signed or failure recorded) in the period."""
    return _p(prefix, {"outcome__in": MEDIATION_CONCLUDED}) & period.q(f"{prefix}ended_at")


def mediation_success_q(prefix: str = "") -> Q:
    return _p(prefix, {"outcome": "success"})


def mediation_success_rate(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Combinable:  # noqa: A002
    """调解成功率 = 调解成功 ÷ 调解终结 over the mediations concluded in the period."""
    return success_rate(success=mediation_success_q(prefix), concluded=_and(mediation_concluded_q(prefix, period), filter))


def _agreed(prefix: str, period: Period, filter: Q | None) -> Q:  # noqa: A002
    return _and(mediation_concluded_q(prefix, period), mediation_success_q(prefix), filter)


def average_days_to_agreement(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Avg:  # noqa: A002
    """平均调解用时 (a duration; `to_days` converts): assigned_at → agreement signed."""
    return average_days(start=f"{prefix}assigned_at", end=f"{prefix}ended_at", filter=_agreed(prefix, period, filter))


def median_days_to_agreement(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Median:  # noqa: A002
    """调解用时中位数 (a duration; `to_days` converts)."""
    return median_duration(start=f"{prefix}assigned_at", end=f"{prefix}ended_at", filter=_agreed(prefix, period, filter))


def mediation_amount_involved(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Coalesce:  # noqa: A002
    """涉及金额 of the mediations concluded in the period (the case's amount)."""
    return amount_sum(f"{prefix}case__amount", filter=_and(mediation_concluded_q(prefix, period), filter))


def mediation_amount_agreed(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Coalesce:  # noqa: A002
    """协议金额 of the mediations that succeeded in the period."""
    return amount_sum(f"{prefix}agreement__amount", filter=_agreed(prefix, period, filter))


def mediation_amount_performed(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Coalesce:  # noqa: A002
    """已履行金额 (recorded at the follow-up visit) of the mediations that succeeded in the period."""
    return amount_sum(f"{prefix}agreement__performed_amount", filter=_agreed(prefix, period, filter))


def _labour(prefix: str) -> Q:
    return _p(prefix, {"case__category": "labour"})


def wages_recovered(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Coalesce:  # noqa: A002
    """追回欠薪: agreed amounts of the labour (欠薪) mediations that succeeded in the period."""
    return mediation_amount_agreed(period=period, prefix=prefix, filter=_and(_labour(prefix), filter))


def workers_paid(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Coalesce:  # noqa: A002
    """欠薪受益人数: workers named in the labour agreements that succeeded in the period."""
    return Coalesce(
        Sum(f"{prefix}agreement__beneficiaries", filter=_agreed(prefix, period, _and(_labour(prefix), filter))),
        Value(0),
    )


def mediation_figure_annotations(*, period: Period = ALL_TIME, prefix: str = "") -> dict[str, Any]:
    concluded = mediation_concluded_q(prefix, period)
    return {
        "assigned": count_if(period.q(f"{prefix}assigned_at")),
        "concluded": count_if(concluded),
        "succeeded": count_if(concluded & mediation_success_q(prefix)),
        "failed": count_if(concluded & _p(prefix, {"outcome": "failed"})),
        "pending": count_if(_p(prefix, {"outcome": "pending"})),
        "success_rate": mediation_success_rate(period=period, prefix=prefix),
        "avg_days_to_agreement": average_days_to_agreement(period=period, prefix=prefix),
        "median_days_to_agreement": median_days_to_agreement(period=period, prefix=prefix),
        "amount_involved": mediation_amount_involved(period=period, prefix=prefix),
        "amount_agreed": mediation_amount_agreed(period=period, prefix=prefix),
        "amount_performed": mediation_amount_performed(period=period, prefix=prefix),
        "wages_recovered": wages_recovered(period=period, prefix=prefix),
        "workers_paid": workers_paid(period=period, prefix=prefix),
        "confirmation_applied": count_if(
            concluded & _p(prefix, {"agreement__confirmation__in": ("applied", "confirmed", "rejected")})
        ),
        "confirmed": count_if(concluded & _p(prefix, {"agreement__confirmation": "confirmed"})),
    }


def _finish_mediation(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("avg_days_to_agreement", "median_days_to_agreement"):
        if key in row:
            row[key] = to_days(row[key])
    return row


def mediation_figures(qs: QuerySet, *, period: Period = ALL_TIME, prefix: str = "") -> dict[str, Any]:
    """Every mediation figure of `qs` (already narrowed by the jurisdiction gate) in one query."""
    return _finish_mediation(qs.aggregate(**mediation_figure_annotations(period=period, prefix=prefix)))


def mediation_figures_by(
    qs: QuerySet, group_by: str | list[str], *, period: Period = ALL_TIME, prefix: str = ""
) -> list[dict[str, Any]]:
    """The same figures per group (one GROUP BY query), e.g. per committee, mediator, category, month."""
    keys = [group_by] if isinstance(group_by, str) else list(group_by)
    rows = (
        qs.order_by()
        .values(*keys)
        .annotate(**mediation_figure_annotations(period=period, prefix=prefix))
        .order_by(*keys)
    )
    return [_finish_mediation(dict(r)) for r in rows]


def referral_on_time_report_rate(*, period: Period = ALL_TIME, prefix: str = "", filter: Q | None = None) -> Combinable:  # noqa: A002
    """委派调解按期反馈率 from the stored `report_on_time` of the referrals reported in the period."""
    base = _and(period.q(f"{prefix}reported_at"), _p(prefix, {"report_on_time__isnull": False}), filter)
    return rate(count_if(base & _p(prefix, {"report_on_time": True})), count_if(base))


def referral_figure_annotations(*, period: Period = ALL_TIME, prefix: str = "") -> dict[str, Any]:
    return {
        "received": count_if(period.q(f"{prefix}received_at")),
        "reported": count_if(period.q(f"{prefix}reported_at")),
        "on_time_report_rate": referral_on_time_report_rate(period=period, prefix=prefix),
        "success_rate": mediation_success_rate(period=period, prefix=f"{prefix}case__mediation__"),
    }


def referral_figures_by(
    qs: QuerySet, group_by: str | list[str], *, period: Period = ALL_TIME, prefix: str = ""
) -> list[dict[str, Any]]:
    keys = [group_by] if isinstance(group_by, str) else list(group_by)
    rows = (
        qs.order_by()
        .values(*keys)
        .annotate(**referral_figure_annotations(period=period, prefix=prefix))
        .order_by(*keys)
    )
    return [dict(r) for r in rows]
