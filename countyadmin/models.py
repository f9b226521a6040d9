"""County administration: staff identity for imports, staff import batches and the admin log.

- `StaffProfile`: what a staff account needs beyond `centers.User` for the county's own records —
  the resident ID number, encrypted at rest with a keyed hash for exact lookup (as `cases.Person`
  does), so that a re-imported sheet finds the same person by ID number (or phone).
- `StaffImport`: one uploaded sheet (centers, units, staff, grid workers, or moves), its preview
  report with row-level errors, then the import of its good rows.
- `AdminLog`: who did what to whom and why — password resets, unlocks, deactivations, moves,
  handovers and changes of the county's settings. Field-level history stays with
  django-simple-history on the models themselves; this is the readable account of the action.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cases import crypto
from centers.jurisdiction import Jurisdiction
from centers.models import Center


class StaffProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile", verbose_name="账号"
    )
    id_number_enc = models.TextField("身份证号（密文）", blank=True, editable=False)
    id_number_hash = models.CharField("身份证号索引", max_length=64, blank=True, editable=False)
    id_number_masked = models.CharField("身份证号", max_length=32, blank=True, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "工作人员档案"
        verbose_name_plural = "工作人员档案"
        constraints = [
            # One account per ID number: the import finds people by it.
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=~models.Q(id_number_hash=""),
                name="staff_profile_id_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.id_number_masked}"

    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_enc)

    def set_id_number(self, value: str) -> None:
        value = crypto.normalize_id_number(value)
        self.id_number_enc = crypto.encrypt(value)
        self.id_number_hash = crypto.lookup_hash("staff-id", value)
        self.id_number_masked = crypto.mask_id_number(value)


def id_number_hash(value: str) -> str:
    return crypto.lookup_hash("staff-id", crypto.normalize_id_number(value))


class SheetKind(models.TextChoices):
    CENTERS = "centers", "综治中心（乡镇、村/社区）"
    UNITS = "units", "职能部门"
    STAFF = "staff", "工作人员"
    GRID_WORKERS = "grid_workers", "网格员及网格"
    MOVES = "moves", "人员调动"


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", "待确认"
    RUNNING = "running", "导入中"
    DONE = "done", "已导入"
    FAILED = "failed", "导入失败"


def import_file_path(instance: StaffImport, filename: str) -> str:
    return f"countyadmin/imports/{instance.created_at:%Y/%m}/{filename}"


class StaffImport(models.Model):
    """One uploaded sheet: its preview (row-level errors, what would change), then its import.

    Idempotent: people are found by ID number or phone, places by code, units by (place, name),
    posts by (person, center/unit, role); importing the same sheet twice changes nothing.
    """

    kind = models.CharField("表格", max_length=16, choices=SheetKind.choices)
    file = models.FileField("文件", upload_to=import_file_path, blank=True)
    file_name = models.CharField("文件名", max_length=200)
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="+", verbose_name="导入单位")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="导入人",
    )
    # The initial password of the accounts this sheet creates, hashed once for the whole sheet
    # (3,500 PBKDF2 hashes would take many minutes); every new account must change it at first
    # login. Cleared when the import is done.
    password_hash = models.CharField(max_length=200, blank=True, editable=False)
    reason = models.CharField("说明", max_length=200, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    created_at = models.DateTimeField("上传时间")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    good_rows = models.PositiveIntegerField("有效行", default=0)
    bad_rows = models.PositiveIntegerField("错误行", default=0)
    new_rows = models.PositiveIntegerField("新增", default=0)
    changed_rows = models.PositiveIntegerField("变更", default=0)
    unchanged_rows = models.PositiveIntegerField("无变化", default=0)
    # [{"row": 3, "key": "…", "errors": ["手机号：…"]}]
    errors = models.JSONField("错误明细", default=list, blank=True)
    preview = models.JSONField("预览", default=list, blank=True)
    result = models.JSONField("导入结果", default=dict, blank=True)
    message = models.TextField("说明", blank=True)

    JURISDICTION = Jurisdiction(path="center__region__path", center="center")

    class Meta:
        verbose_name = "人员与机构导入"
        verbose_name_plural = "人员与机构导入"
        ordering = ["-created_at", "-id"]


class AdminAction(models.TextChoices):
    PASSWORD_RESET = "password_reset", "重置密码"
    UNLOCK = "unlock", "解除锁定"
    DEACTIVATE = "deactivate", "停用账号"
    REACTIVATE = "reactivate", "恢复账号"
    MOVE = "move", "人员调动"
    HANDOVER = "handover", "工作移交"
    IMPORT = "import", "导入"
    CLOCK_RULE = "clock_rule", "时限规则"
    CALENDAR = "calendar", "工作日历"
    WARNING_POLICY = "warning_policy", "预警阈值"
    POINT_WEIGHTS = "point_weights", "考评分值"
    WALL_DISPLAY = "wall_display", "大屏展示链接"


class AdminLog(models.Model):
    """One administrative action: who, when, on whom or what, why, and what it changed."""

    at = models.DateTimeField("时间", db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="操作人",
    )
    action = models.CharField("操作", max_length=32, choices=AdminAction.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="对象账号",
    )
    center = models.ForeignKey(
        Center, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="所属中心"
    )
    subject = models.CharField("对象", max_length=200, blank=True)
    reason = models.CharField("原因", max_length=300, blank=True)
    summary = models.CharField("摘要", max_length=300)
    data = models.JSONField("明细", default=dict, blank=True)  # before/after, counts, ids

    JURISDICTION = Jurisdiction(path="center__region__path", center="center")

    class Meta:
        verbose_name = "管理操作记录"
        verbose_name_plural = "管理操作记录"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["action", "at"], name="adminlog_action_at_idx")]


class WallDisplayLink(models.Model):
    """大屏展示链接: a long random link that shows one region's big screen on a wall display,
    without signing in and without a session that could expire.

    Only a hash of the token is stored: the full link is shown once, when it is created. The link
    opens that region's screen and its data, read-only, and nothing else (it is no login and no API
    token). Revoked links answer 404. Every opening is logged (`WallDisplayAccess`); the screen's
    periodic data requests are counted on the link.
    """

    region = models.ForeignKey(
        "centers.Region", on_delete=models.PROTECT, related_name="+", verbose_name="展示辖区"
    )
    label = models.CharField("名称", max_length=100, help_text="如“县指挥中心主屏”")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField("链接尾号", max_length=8, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="创建人"
    )
    created_at = models.DateTimeField("创建时间")
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="撤销人",
    )
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    requests = models.PositiveBigIntegerField("数据请求次数", default=0)

    JURISDICTION = Jurisdiction(path="region__path")

    class Meta:
        verbose_name = "大屏展示链接"
        verbose_name_plural = "大屏展示链接"
        ordering = ["revoked_at", "-created_at"]

    def __str__(self) -> str:
        return f"{self.label}（{self.region}）"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WallDisplayAccess(models.Model):
    """One opening of a wall-display link (or a refused one, for a revoked link)."""

    link = models.ForeignKey(WallDisplayLink, on_delete=models.CASCADE, related_name="accesses")
    at = models.DateTimeField("时间", db_index=True)
    what = models.CharField("内容", max_length=16)  # page / refused
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    user_agent = models.CharField("浏览器", max_length=300, blank=True)

    class Meta:
        verbose_name = "大屏链接访问记录"
        verbose_name_plural = "大屏链接访问记录"
        ordering = ["-at", "-id"]
