"""Rollup tables, their refresh state, the safety index and its weights.

The big screen and the reports read small pre-aggregated tables instead of grouping a million
matters per request (shared/ARCHITECTURE.md: median < 100 ms at 1M, rollups at most 60 s old).

- `CaseFact`: one narrow row per matter: where it counts (`area`: its town, or its own place when
  it lies above any town), the local days it was registered and closed, its kind, channel,
  category, colour, and the 0/1 facts of `cases.metrics.case_facts()` as the database evaluated
  them at the last refresh. It is the ledger that makes refreshes incremental: a refresh takes the
  matters changed since the last one (`Case.updated_at`, index case_updated_idx), subtracts what
  their old fact rows contributed to the rollups, adds what the new ones contribute, and stores
  the new fact rows. The cost follows the number of changed matters, not the table's size.
- `FlowRollup`: per day and per month of registration, area and one dimension (all / kind /
  channel / category): received, resolved, red, escalated.
- `ClosedRollup`: per day and month of closing, area and dimension (all / kind / category):
  closed, closed as resolved, on time (and known), satisfied (and known).
- `OpenRollup`: open matters now per area, kind, category and colour.
- `GridActivityRollup`: household visits per local day and town (visits, findings, workers).

Rows that fall to zero stay (they change no sum); a full rebuild (nightly, and whenever the
ledger is empty) removes them. Every rollup's figures equal the base tables' (tests/dashboards).
"""

from __future__ import annotations

from django.db import models

from centers.jurisdiction import Jurisdiction
from centers.models import Region


class Granularity(models.TextChoices):
    DAY = "day", "日"
    MONTH = "month", "月"


class Dimension(models.TextChoices):
    ALL = "all", "合计"
    KIND = "kind", "事项类型"
    CHANNEL = "channel", "来源渠道"
    CATEGORY = "category", "纠纷类别"


class CaseFact(models.Model):
    """The ledger row of one matter (see the module docstring). Written only by dashboards.rollups."""

    case_id = models.BigIntegerField(primary_key=True)
    area = models.ForeignKey(Region, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    created_day = models.DateField()
    created_month = models.DateField()
    closed_day = models.DateField(null=True)
    closed_month = models.DateField(null=True)
    kind = models.CharField(max_length=20)
    channel = models.CharField(max_length=20)
    category = models.CharField(max_length=20)
    warning_level = models.CharField(max_length=8)
    received = models.PositiveSmallIntegerField(default=0)
    resolved = models.PositiveSmallIntegerField(default=0)
    red = models.PositiveSmallIntegerField(default=0)
    escalated = models.PositiveSmallIntegerField(default=0)
    closed = models.PositiveSmallIntegerField(default=0)
    closed_resolved = models.PositiveSmallIntegerField(default=0)
    closed_on_time = models.PositiveSmallIntegerField(default=0)
    on_time_known = models.PositiveSmallIntegerField(default=0)
    satisfied = models.PositiveSmallIntegerField(default=0)
    satisfaction_known = models.PositiveSmallIntegerField(default=0)
    open = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "事项统计台账"
        verbose_name_plural = "事项统计台账"


FLOW_COUNTS = ("received", "resolved", "red", "escalated")
CLOSED_COUNTS = (
    "closed",
    "closed_resolved",
    "closed_on_time",
    "on_time_known",
    "satisfied",
    "satisfaction_known",
)


class FlowRollup(models.Model):
    """Matters by the day/month they were registered (see the module docstring)."""

    granularity = models.CharField(max_length=8, choices=Granularity.choices)
    start = models.DateField("期间起日")
    area = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+", verbose_name="区域")
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    value = models.CharField(max_length=20, blank=True)
    received = models.IntegerField("受理", default=0)
    resolved = models.IntegerField("化解", default=0)
    red = models.IntegerField("红色预警", default=0)
    escalated = models.IntegerField("上交", default=0)

    JURISDICTION = Jurisdiction(path="area__path")

    class Meta:
        verbose_name = "受理汇总"
        verbose_name_plural = "受理汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["granularity", "start", "area", "dimension", "value"], name="flow_rollup_key"
            )
        ]
        indexes = [models.Index(fields=["granularity", "dimension", "start"], name="flow_rollup_period_idx")]


class ClosedRollup(models.Model):
    """Matters by the day/month they were closed (see the module docstring)."""

    granularity = models.CharField(max_length=8, choices=Granularity.choices)
    start = models.DateField("期间起日")
    area = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+", verbose_name="区域")
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    value = models.CharField(max_length=20, blank=True)
    closed = models.IntegerField("办结", default=0)
    closed_resolved = models.IntegerField("办结且化解", default=0)
    closed_on_time = models.IntegerField("按期办结", default=0)
    on_time_known = models.IntegerField("按期与否已知", default=0)
    satisfied = models.IntegerField("满意", default=0)
    satisfaction_known = models.IntegerField("已回访评价", default=0)

    JURISDICTION = Jurisdiction(path="area__path")

    class Meta:
        verbose_name = "办结汇总"
        verbose_name_plural = "办结汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["granularity", "start", "area", "dimension", "value"], name="closed_rollup_key"
            )
        ]
        indexes = [
            models.Index(fields=["granularity", "dimension", "start"], name="closed_rollup_period_idx")
        ]


class OpenRollup(models.Model):
    """Open matters now, per area, kind, category and colour."""

    area = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+", verbose_name="区域")
    kind = models.CharField(max_length=20)
    category = models.CharField(max_length=20)
    warning_level = models.CharField(max_length=8)
    open = models.IntegerField("在办", default=0)

    JURISDICTION = Jurisdiction(path="area__path")

    class Meta:
        verbose_name = "在办汇总"
        verbose_name_plural = "在办汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["area", "kind", "category", "warning_level"], name="open_rollup_key"
            )
        ]


class GridActivityRollup(models.Model):
    """Household visits per local day and town (grids.HouseholdVisit)."""

    day = models.DateField("日期")
    area = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+", verbose_name="区域")
    visits = models.IntegerField("走访次数", default=0)
    disputes_found = models.IntegerField("发现矛盾纠纷", default=0)
    hazards_found = models.IntegerField("发现安全隐患", default=0)
    workers = models.IntegerField("走访网格员", default=0)

    JURISDICTION = Jurisdiction(path="area__path")

    class Meta:
        verbose_name = "网格走访汇总"
        verbose_name_plural = "网格走访汇总"
        constraints = [models.UniqueConstraint(fields=["day", "area"], name="grid_activity_rollup_key")]


class RollupState(models.Model):
    """How fresh a family of rollups is. `watermark`: every change before it is included."""

    name = models.CharField(max_length=32, primary_key=True)
    watermark = models.DateTimeField("数据截至", null=True)
    refreshed_at = models.DateTimeField("刷新时间", null=True)
    rebuilt_at = models.DateTimeField("全量重建时间", null=True)
    last_changed = models.PositiveIntegerField("上次刷新处理事项数", default=0)
    last_ms = models.PositiveIntegerField("上次刷新耗时（毫秒）", default=0)
    # Bumped by every refresh: part of the screen's cache key (dashboards.selectors.screen_data).
    generation = models.PositiveBigIntegerField("刷新次数", default=0)

    class Meta:
        verbose_name = "汇总表状态"
        verbose_name_plural = "汇总表状态"


# --------------------------------------------------------------------------------------------
# Safety index (平安指数)
# --------------------------------------------------------------------------------------------


class SafetyIndicator(models.Model):
    """One indicator of the safety index with the county's weight and scale (defaults in
    cases.metrics.SAFETY_INDICATORS, seeded by migration). A change applies to indexes computed
    from then on; each stored index keeps the weights it used."""

    code = models.CharField("指标", max_length=20, primary_key=True)
    label = models.CharField("名称", max_length=50)
    unit = models.CharField("单位", max_length=20)
    weight = models.DecimalField("权重", max_digits=6, decimal_places=2)
    best = models.DecimalField("满分值（得 100 分）", max_digits=10, decimal_places=2)
    worst = models.DecimalField("零分值（得 0 分）", max_digits=10, decimal_places=2)
    note = models.CharField("口径说明", max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "平安指数指标"
        verbose_name_plural = "平安指数指标"
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.label


class PeriodKind(models.TextChoices):
    MONTH = "month", "月度"
    QUARTER = "quarter", "季度"
    YEAR = "year", "年度"


class SafetyIndex(models.Model):
    """The safety index of one region for one period, computed by dashboards.tasks.compute_safety_index."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+", verbose_name="区域")
    region_path = models.CharField(max_length=255, db_index=True, editable=False)
    period_kind = models.CharField("期间类型", max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField("期间起日")
    period_end = models.DateField("期间止日")
    value = models.DecimalField("平安指数", max_digits=5, decimal_places=1, null=True)
    # {"disputes": {"value": 12.3, "score": 59.0, "weight": 25, "best": 0, "worst": 30,
    #  "count": 41}, …} plus "population".
    components = models.JSONField("指标明细", default=dict)
    computed_at = models.DateTimeField("计算时间")

    JURISDICTION = Jurisdiction(path="region_path")

    class Meta:
        verbose_name = "平安指数"
        verbose_name_plural = "平安指数"
        constraints = [
            models.UniqueConstraint(
                fields=["region", "period_kind", "period_start"], name="safety_index_once"
            )
        ]
        indexes = [
            models.Index(fields=["period_kind", "period_start"], name="safety_index_period_idx"),
        ]
