"""The safety index (平安指数) of every town and village (and the county) per month, quarter, year.

The indicators and the formula are defined once in cases.metrics (`SAFETY_INDICATORS`,
`safety_index`); the county's weights and scales are `SafetyIndicator` rows. The raw values come
from the base tables in one GROUP BY per level (the matters' materialized path cut at that
level's length), so the index never depends on a rollup's freshness. Each computed index is
stored with the values, scores and weights it used (history stays comparable after a change).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Substr
from django.utils import timezone

from cases import metrics
from cases.assessment import can_edit_weights
from cases.models import Case, CaseKind, Channel
from centers.models import Region, RegionKind, User
from centers.services import DomainError

from .models import PeriodKind, RollupState, SafetyIndex, SafetyIndicator

# The levels that get an index.
INDEX_KINDS = (RegionKind.PROVINCE, RegionKind.CITY, RegionKind.COUNTY, RegionKind.TOWN, RegionKind.VILLAGE)
STATE = "safety_index"  # its RollupState row
# Which petitions are repeats: decided by the petitions app's flag.
REPEAT = Q(petition__flags__kind="repeated")


# ============================================================================================
# Periods
# ============================================================================================


def period_bounds(kind: str, start: dt.date) -> tuple[dt.date, dt.date]:
    """[first, last] local dates of the period that begins on `start`."""
    if kind == PeriodKind.MONTH:
        nxt = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    elif kind == PeriodKind.QUARTER:
        month = start.month + 3
        nxt = dt.date(start.year + (month > 12), (month - 1) % 12 + 1, 1)
    elif kind == PeriodKind.YEAR:
        nxt = dt.date(start.year + 1, 1, 1)
    else:
        raise ValueError(kind)
    return start, nxt - dt.timedelta(days=1)


def period_start(kind: str, day: dt.date) -> dt.date:
    if kind == PeriodKind.MONTH:
        return day.replace(day=1)
    if kind == PeriodKind.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def previous_start(kind: str, start: dt.date) -> dt.date:
    return period_start(kind, start - dt.timedelta(days=1))


def period_label(kind: str, start: dt.date) -> str:
    if kind == PeriodKind.MONTH:
        return f"{start.year}年{start.month}月"
    if kind == PeriodKind.QUARTER:
        return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
    return f"{start.year}年"


def periods_to_compute(today: dt.date) -> list[tuple[str, dt.date]]:
    """The current and the previous month, quarter and year (the previous ones settle late data)."""
    out = []
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR):
        current = period_start(kind, today)
        out += [(kind, current), (kind, previous_start(kind, current))]
    return out


# ============================================================================================
# Indicator values
# ============================================================================================


def _annotations(period: metrics.Period) -> dict[str, Any]:
    return {
        "received": metrics.received_count(period=period),
        "resolved": metrics.resolved_count(period=period),
        "resolution": metrics.resolution_rate(period=period),
        "disputes": metrics.received_count(period=period, filter=Q(kind=CaseKind.DISPUTE)),
        "incidents": metrics.received_count(period=period, filter=Q(channel=Channel.POLICE_110)),
        "petitions": metrics.received_count(period=period, filter=Q(kind=CaseKind.PETITION)),
        "red": metrics.red_count(period=period),
        "repeat": metrics.repeat_petition_rate(repeat=REPEAT, period=period),
    }


def counts_by_region(regions: list[Region], period: metrics.Period) -> dict[int, dict[str, Any]]:
    """Per region: the counts and rates of the matters placed under it, received in the period."""
    by_path = {r.path: r for r in regions}
    out: dict[int, dict[str, Any]] = {}
    for length in sorted({len(p) for p in by_path}):
        rows = (
            Case.objects.filter(period.q("created_at"))
            .order_by()
            .values(p=Substr("region_path", 1, length))
            .annotate(**_annotations(period))
        )
        for row in rows:
            region = by_path.get(row["p"])
            # A matter placed above this level has a shorter path: it belongs to another level.
            if region is not None and len(region.path) == length:
                out[region.pk] = row
    return out


def indicator_values(counts: dict[str, Any] | None, *, population: int, days: int) -> dict[str, float | None]:
    """The raw value of each indicator from a region's counts (None where there is no basis)."""
    c = counts or {}

    def per_thousand(key: str) -> float | None:
        return metrics.per_thousand_year(c.get(key, 0), population, days)

    return {
        "disputes": per_thousand("disputes"),
        "incidents": per_thousand("incidents"),
        "petitions": per_thousand("petitions"),
        "red": per_thousand("red"),
        "resolution": c.get("resolution"),
        "repeat": c.get("repeat"),
    }


# ============================================================================================
# Computing and storing
# ============================================================================================


def compute(kind: str, start: dt.date, *, now: dt.datetime | None = None) -> int:
    """Compute and store the index of every region for one period. Returns the rows written."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    first, last = period_bounds(kind, start)
    if first > today:
        return 0
    days = (min(last, today) - first).days + 1
    period = metrics.Period.from_dates(first, last)
    indicators = list(SafetyIndicator.objects.all())
    regions = list(Region.objects.filter(kind__in=INDEX_KINDS).only("pk", "path", "population", "kind"))
    counts = counts_by_region(regions, period)
    rows = []
    for region in regions:
        c = counts.get(region.pk)
        values = indicator_values(c, population=region.population, days=days)
        index, scores = metrics.safety_index(values, indicators)
        components: dict[str, Any] = {
            ind.code: {
                "label": ind.label,
                "unit": ind.unit,
                "value": values.get(ind.code),
                "score": scores.get(ind.code),
                "weight": float(ind.weight),
                "best": float(ind.best),
                "worst": float(ind.worst),
            }
            for ind in indicators
        }
        components["_basis"] = {
            "population": region.population,
            "days": days,
            "counts": {
                k: (c or {}).get(k, 0)
                for k in ("received", "resolved", "disputes", "incidents", "petitions", "red")
            },
        }
        rows.append(
            SafetyIndex(
                region=region,
                region_path=region.path,
                period_kind=kind,
                period_start=first,
                period_end=last,
                value=None if index is None else Decimal(str(round(index, 1))),
                components=components,
                computed_at=now,
            )
        )
    with transaction.atomic():
        # The screen caches its figures per rollup generation: a new index is a new generation.
        RollupState.objects.get_or_create(name=STATE)
        RollupState.objects.filter(name=STATE).update(
            generation=F("generation") + 1, refreshed_at=now, watermark=now
        )
        SafetyIndex.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["region", "period_kind", "period_start"],
            update_fields=["region_path", "period_end", "value", "components", "computed_at"],
            batch_size=500,
        )
    return len(rows)


def compute_current(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    return sum(compute(kind, start, now=now) for kind, start in periods_to_compute(today))


# ============================================================================================
# The county's weights
# ============================================================================================


@transaction.atomic
def safety_indicators_update(*, by: User, data: dict[str, dict[str, Any]]) -> int:
    """Set weights and scales ({code: {"weight", "best", "worst"}}); recompute after commit."""
    if not can_edit_weights(by):
        from cases.services import NotAllowed

        raise NotAllowed("只有县级中心领导可以修改平安指数权重。")
    current = {i.code: i for i in SafetyIndicator.objects.select_for_update()}
    changed = 0
    for code, fields in data.items():
        ind = current.get(code)
        if ind is None:
            raise DomainError(f"未知的指标：{code}")
        try:
            weight = Decimal(str(fields["weight"])).quantize(Decimal("0.01"))
            best = Decimal(str(fields["best"])).quantize(Decimal("0.01"))
            worst = Decimal(str(fields["worst"])).quantize(Decimal("0.01"))
        except (InvalidOperation, KeyError, ValueError) as exc:
            raise DomainError(f"「{ind.label}」的权重、满分值和零分值须为数字。") from exc
        if not Decimal("0") <= weight <= Decimal("100"):
            raise DomainError(f"「{ind.label}」的权重须在 0 到 100 之间。")
        if best == worst:
            raise DomainError(f"「{ind.label}」的满分值与零分值不能相同。")
        if (ind.weight, ind.best, ind.worst) != (weight, best, worst):
            ind.weight, ind.best, ind.worst = weight, best, worst
            ind.save()
            changed += 1
    if sum((i.weight for i in current.values()), Decimal("0")) <= 0:
        raise DomainError("各指标权重之和须大于 0。")
    if changed:
        from .tasks import compute_safety_index

        transaction.on_commit(compute_safety_index.delay)
    return changed
