"""Grid work (网格化管理) on the level-4 cells of the place tree.

A grid cell is a `centers.Region` of kind "grid" under a village; it has no center of its own
(its village's 综治工作站 owns what is found there). This app adds what only grid work needs:

- the cell's 3+N team (乡镇指导员, 网格员, 党小组长, N 信息员) and its contact card and counts
  (`GridProfile`, `GridTeamMember`); a grid worker may serve several cells;
- household visits (`HouseholdVisit`, 入户走访);
- hazards (`Hazard`, 安全隐患), each 1:1 with a `cases.Case` of kind "hazard", so that they share
  the engine's clock, colour, timeline, escalation and jurisdiction gate;
- patrol sweeps (`Sweep`, 排查: 县一月一排查、乡镇半月一排查) with one task per cell and its
  completion report (`SweepTask`).

Disputes a grid worker reports are plain `cases.Case` rows (kind "dispute", channel "grid"):
nothing of them lives here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from centers.jurisdiction import Jurisdiction
from centers.models import Region, Unit


class TeamRole(models.TextChoices):
    """The 3+N of a grid team: three fixed posts plus N information collectors."""

    INSTRUCTOR = "instructor", "乡镇指导员"
    GRID_WORKER = "grid_worker", "网格员"
    PARTY_LEADER = "party_leader", "党小组长"
    INFO_COLLECTOR = "info_collector", "信息员"


# Posts a grid has at most one active holder of (the grid worker and the collectors may be several:
# a full-time and a part-time grid worker, N collectors).
SINGLE_POSTS = (TeamRole.INSTRUCTOR, TeamRole.PARTY_LEADER)


class GridProfile(models.Model):
    """The contact card and counts of one grid cell, beyond what `Region` holds.

    `Region.population` (实有人口) and `Region.households` (实有户数) stay on the region, where the
    village/town/county totals are summed; this adds 实有房屋 and the card's contact lines.
    """

    grid = models.OneToOneField(
        Region,
        on_delete=models.CASCADE,
        related_name="grid_profile",
        verbose_name="网格",
        limit_choices_to={"kind": "grid"},
    )
    houses = models.PositiveIntegerField("实有房屋（栋/套）", default=0)
    floating_population = models.PositiveIntegerField("流动人口", default=0)
    boundary = models.CharField("四至范围", max_length=200, blank=True)
    service_phone = models.CharField("网格服务电话", max_length=30, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path="grid__path")

    class Meta:
        verbose_name = "网格概况"
        verbose_name_plural = "网格概况"

    def __str__(self) -> str:
        return f"{self.grid} 概况"


class GridTeamMember(models.Model):
    """One post in a grid's 3+N team.

    Grid workers (and instructors who log in) are users; party group leaders and information
    collectors are often villagers without an account, so `user` is optional and the contact
    card's name and phone are stored on the row either way.
    """

    grid = models.ForeignKey(
        Region,
        on_delete=models.CASCADE,
        related_name="team_members",
        verbose_name="网格",
        limit_choices_to={"kind": "grid"},
    )
    grid_path = models.CharField(
        max_length=255, db_index=True, editable=False
    )  # copy of grid.path for the gate
    role = models.CharField("岗位", max_length=20, choices=TeamRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grid_posts",
        verbose_name="账号",
    )
    name = models.CharField("姓名", max_length=50)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    title = models.CharField("职务/说明", max_length=50, blank=True)
    is_active = models.BooleanField("在岗", default=True)
    since = models.DateField("到岗日期", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path="grid_path")

    class Meta:
        verbose_name = "网格团队成员"
        verbose_name_plural = "网格团队成员"
        ordering = ["grid_id", "role", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "user", "role"],
                condition=Q(is_active=True, user__isnull=False),
                name="grid_team_member_once",
            ),
            models.UniqueConstraint(
                fields=["grid", "role"],
                condition=Q(is_active=True, role__in=[r.value for r in SINGLE_POSTS]),
                name="grid_team_single_post",
            ),
        ]
        indexes = [models.Index(fields=["user", "is_active"], name="grid_team_user_idx")]

    def __str__(self) -> str:
        return f"{self.grid} · {self.get_role_display()} · {self.name}"


def visit_photo_path(instance: HouseholdVisit, filename: str) -> str:
    return f"grids/visits/{instance.grid_id}/{filename}"


class VisitFinding(models.TextChoices):
    NORMAL = "normal", "无异常"
    DISPUTE = "dispute", "发现矛盾纠纷"
    HAZARD = "hazard", "发现安全隐患"
    NEEDS = "needs", "民生诉求/帮扶需求"
    OTHER = "other", "其他情况"


class HouseholdVisit(models.Model):
    """入户走访: a grid worker's visit to one household."""

    grid = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="household_visits", verbose_name="网格"
    )
    # Copy of grid.path: the jurisdiction filter over years of visits is one indexed LIKE 'prefix%'.
    grid_path = models.CharField(max_length=255, db_index=True, editable=False)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="household_visits",
        verbose_name="走访人",
    )
    visited_at = models.DateTimeField("走访时间")
    household = models.CharField("户主/住户", max_length=50)
    address = models.CharField("门牌地址", max_length=200)
    finding = models.CharField(
        "走访结果", max_length=16, choices=VisitFinding.choices, default=VisitFinding.NORMAL
    )
    notes = models.TextField("走访情况", blank=True)
    photo = models.ImageField("现场照片", upload_to=visit_photo_path, blank=True)
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="household_visits",
        verbose_name="上报事项",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)
    # As Case.sync_txid: the writing transaction, set by a trigger; pages the API's visit feed
    # (/api/v1/visits/, index visit_sync_idx) below the sync horizon (apiauth.sync).
    sync_txid = models.BigIntegerField(default=0, db_default=0, editable=False)
    history = HistoricalRecords(excluded_fields=["sync_txid"])

    JURISDICTION = Jurisdiction(path="grid_path")

    class Meta:
        verbose_name = "入户走访"
        verbose_name_plural = "入户走访"
        ordering = ["-visited_at", "-pk"]
        indexes = [
            # "Last visit per grid" (the no-visit warning) and per-grid counts over a period.
            models.Index(fields=["grid", "visited_at"], name="visit_grid_at_idx"),
            models.Index(fields=["worker", "visited_at"], name="visit_worker_at_idx"),
            models.Index(fields=["sync_txid", "id"], name="visit_sync_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.visited_at:%Y-%m-%d}"


# --------------------------------------------------------------------------------------------
# Hazards
# --------------------------------------------------------------------------------------------


class HazardType(models.TextChoices):
    FIRE = "fire", "消防安全"
    TRAFFIC = "traffic", "道路交通"
    BUILDING = "building", "危房/建筑施工"
    GAS = "gas", "燃气使用"
    ELECTRICITY = "electricity", "用电安全"
    GEOLOGY = "geology", "地质灾害"
    WATER = "water", "防溺水/水域"
    BUSINESS = "business", "生产经营场所"
    FOOD = "food", "食品安全"
    PUBLIC_ORDER = "public_order", "治安隐患"
    OTHER = "other", "其他"


class Severity(models.TextChoices):
    """Severity sets the hazard's clocks: it is stored as the case's `phase` (see grids.lifecycle)."""

    GENERAL = "general", "一般隐患"
    MAJOR = "major", "较大隐患"
    SERIOUS = "serious", "重大隐患"


class Hazard(models.Model):
    """安全隐患: the hazard-only facts of a `cases.Case` of kind "hazard".

    Its steps are the case's statuses (grids.lifecycle): registered = reported, waiting to be
    handed to a responsible unit; in_progress = the unit is rectifying (整改); resolved = rectified,
    waiting for the grid worker to verify; closed = verified (销号). Rejected verification sends it
    back to in_progress with a new clock.
    """

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="hazard", verbose_name="事项"
    )
    hazard_type = models.CharField("隐患类型", max_length=20, choices=HazardType.choices)
    severity = models.CharField("严重程度", max_length=10, choices=Severity.choices, default=Severity.GENERAL)
    responsible_unit = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hazards",
        verbose_name="整改责任单位",
    )
    requirement = models.TextField("整改要求", blank=True)
    photo = models.ForeignKey(
        "cases.Attachment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="隐患照片",
    )
    rectification = models.TextField("整改情况", blank=True)
    evidence = models.ForeignKey(
        "cases.Attachment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="整改佐证",
    )
    rectified_at = models.DateTimeField("整改完成时间", null=True, blank=True)
    rectified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="整改登记人",
    )
    verified_at = models.DateTimeField("核查销号时间", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="核查人",
    )
    rejections = models.PositiveSmallIntegerField("核查退回次数", default=0)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(
        path="case__region_path",
        center="case__owning_center",
        unit="case__owning_unit",
        perm_model="cases.CaseUserObjectPermission",
        perm_target="case_id",
    )

    class Meta:
        verbose_name = "安全隐患"
        verbose_name_plural = "安全隐患"

    def __str__(self) -> str:
        return f"{self.get_hazard_type_display()} · {self.case}"


# --------------------------------------------------------------------------------------------
# Patrol sweeps (排查)
# --------------------------------------------------------------------------------------------


class Rhythm(models.TextChoices):
    MONTHLY = "monthly", "县级月排查"
    HALF_MONTHLY = "half_monthly", "乡镇半月排查"
    SPECIAL = "special", "专项排查"


class Sweep(models.Model):
    """排查: a task set for every grid cell under `region` (a county or a town), due on `due_on`.

    The county sweeps monthly and each town half-monthly (县一月一排查、乡镇半月一排查); the
    periodic task creates those on schedule, keyed by (region, rhythm, period_start) so a second
    run creates nothing. Special sweeps (专项排查) are created from the page at any time.
    """

    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="sweeps", verbose_name="排查范围"
    )
    rhythm = models.CharField("排查类型", max_length=16, choices=Rhythm.choices)
    title = models.CharField("名称", max_length=100)
    focus = models.TextField("排查重点", blank=True)
    period_start = models.DateField("开始日期")
    due_on = models.DateField("完成时限")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="发起人",
    )
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path="region__path")

    class Meta:
        verbose_name = "排查任务"
        verbose_name_plural = "排查任务"
        ordering = ["-period_start", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "rhythm", "period_start"],
                condition=~Q(rhythm="special"),
                name="sweep_once_per_period",
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("period_start")), name="sweep_due_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SweepTask(models.Model):
    """One grid cell's part of a sweep, and its completion report (who, when, what was found)."""

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="tasks", verbose_name="排查任务")
    grid = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="sweep_tasks", verbose_name="网格"
    )
    grid_path = models.CharField(max_length=255, db_index=True, editable=False)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="完成人",
    )
    households_checked = models.PositiveIntegerField("排查户数", default=0)
    other_findings = models.PositiveIntegerField("其他发现（当场处置、未立案）", default=0)
    findings_count = models.PositiveIntegerField("发现问题数", default=0)
    summary = models.TextField("排查情况", blank=True)
    cases = models.ManyToManyField(
        "cases.Case", blank=True, related_name="sweep_tasks", verbose_name="关联事项"
    )
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path="grid_path")

    class Meta:
        verbose_name = "网格排查"
        verbose_name_plural = "网格排查"
        ordering = ["grid_path"]
        constraints = [models.UniqueConstraint(fields=["sweep", "grid"], name="sweep_task_once_per_grid")]
        indexes = [
            models.Index(fields=["grid", "completed_at"], name="sweep_task_grid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sweep} · {self.grid}"

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None
