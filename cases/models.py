"""Every matter with a clock is one Case (shared/ARCHITECTURE.md).

A dispute, a petition, a hazard, a referral, a consultation, a matter settled at the window: each
is a `Case` with a `kind`, one tracking-number sequence, one lifecycle, one clock, one warning
colour, one timeline and one jurisdiction gate. What only one kind needs lives in that kind's app,
in a detail model 1:1 with its Case.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from centers.jurisdiction import Jurisdiction
from centers.models import Center, Region, Unit
from zongzhi.history import IndexOnly

from . import crypto


class CaseKind(models.TextChoices):
    DISPUTE = "dispute", "矛盾纠纷"
    PETITION = "petition", "信访事项"
    HAZARD = "hazard", "安全隐患"
    REFERRAL = "referral", "委派调解"
    LAW_LITIGATION = "law_litigation", "涉法涉诉"
    CONSULTATION = "consultation", "法律咨询"
    LEGAL_AID = "legal_aid", "法律援助"
    COUNSELLING = "counselling", "心理咨询"
    ON_THE_SPOT = "on_the_spot", "即接即办"
    JOINT = "joint", "联调联处"
    SUPERVISION = "supervision", "督办事项"


class Channel(models.TextChoices):
    VISIT = "visit", "来访"
    GRID = "grid", "网格上报"
    HOTLINE_12345 = "hotline_12345", "12345热线"
    POLICE_110 = "police_110", "110非警务警情"
    ONLINE = "online", "网上信访"
    COURT = "court", "法院诉前委派"
    PROCURATORATE = "procuratorate", "检察院移送"
    LETTER = "letter", "信件"
    LOWER_CENTER = "lower_center", "下级中心上报"
    LEADER_MAILBOX = "leader_mailbox", "领导信箱"
    PHONE = "phone", "来电"
    OTHER = "other", "其他"


class Category(models.TextChoices):
    LABOUR = "labour", "劳动争议（欠薪）"
    PROPERTY = "property", "物业纠纷"
    FAMILY = "family", "婚姻家庭"
    LAND = "land", "土地纠纷"
    DEMOLITION = "demolition", "征地拆迁"
    TRAFFIC = "traffic", "交通事故"
    MEDICAL = "medical", "医疗纠纷"
    CONSUMER = "consumer", "消费维权"
    NEIGHBOUR = "neighbour", "邻里纠纷"
    CONSTRUCTION = "construction", "工程建设（机械）"
    LENDING = "lending", "民间借贷"
    ENVIRONMENT = "environment", "环境污染"
    MILITARY = "military", "军地纠纷"
    SAFETY = "safety", "安全隐患"
    OTHER = "other", "其他"


class Status(models.TextChoices):
    REGISTERED = "registered", "待受理"
    ACCEPTED = "accepted", "已受理"
    ASSIGNED = "assigned", "已交办"
    IN_PROGRESS = "in_progress", "办理中"
    WAITING = "waiting", "暂停计时"
    RESOLVED = "resolved", "已化解（待回访）"
    UNRESOLVED = "unresolved", "未化解（待回访）"
    CLOSED = "closed", "已办结"
    MERGED = "merged", "已合并"


# Statuses whose clock runs (the sweep watches them). WAITING keeps its clock stopped.
CLOCK_STATES = (
    Status.REGISTERED,
    Status.ACCEPTED,
    Status.ASSIGNED,
    Status.IN_PROGRESS,
    Status.RESOLVED,
    Status.UNRESOLVED,
)
OPEN_STATES = (*CLOCK_STATES, Status.WAITING)
DONE_STATES = (Status.CLOSED, Status.MERGED)


class Level(models.TextChoices):
    """The handling level: the kind of the owning center's place."""

    VILLAGE = "village", "村级"
    TOWN = "town", "乡镇级"
    COUNTY = "county", "县级"
    CITY = "city", "市级"
    PROVINCE = "province", "省级"


class WarningLevel(models.TextChoices):
    GREEN = "green", "绿色"
    YELLOW = "yellow", "黄色"
    RED = "red", "红色"


WARNING_RANK = {WarningLevel.GREEN: 0, WarningLevel.YELLOW: 1, WarningLevel.RED: 2}


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------


class PersonKind(models.TextChoices):
    INDIVIDUAL = "individual", "自然人"
    ORGANISATION = "organisation", "单位/组织"


class Person(models.Model):
    """A citizen or an organisation, stored once and referenced by every matter they are party to.

    ID and phone numbers are encrypted at rest; `*_hash` (HMAC) serves exact lookup at the
    window; `*_masked` is what lists show to everyone.
    """

    kind = models.CharField("类型", max_length=16, choices=PersonKind.choices, default=PersonKind.INDIVIDUAL)
    name = models.CharField("姓名/名称", max_length=100, db_index=True)
    id_number_enc = models.TextField("证件号（密文）", blank=True, editable=False)
    id_number_hash = models.CharField("证件号索引", max_length=64, blank=True, db_index=True, editable=False)
    id_number_masked = models.CharField("证件号", max_length=32, blank=True, editable=False)
    phone_enc = models.TextField("手机号（密文）", blank=True, editable=False)
    phone_hash = models.CharField("手机号索引", max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField("手机号", max_length=32, blank=True, editable=False)
    gender = models.CharField("性别", max_length=4, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="居住地"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords(excluded_fields=["id_number_enc", "phone_enc"], no_db_index=IndexOnly("id"))

    class Meta:
        verbose_name = "当事人"
        verbose_name_plural = "当事人"

    def __str__(self) -> str:
        return self.name

    @property
    def id_number(self) -> str:
        """The full number. Only reveal it through `cases.services.person_reveal` (logged)."""
        return crypto.decrypt(self.id_number_enc)

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_enc)

    def set_id_number(self, value: str) -> None:
        value = crypto.normalize_id_number(value)
        self.id_number_enc = crypto.encrypt(value)
        self.id_number_hash = crypto.lookup_hash("id", value)
        self.id_number_masked = crypto.mask_id_number(value)

    def set_phone(self, value: str) -> None:
        value = crypto.normalize_phone(value)
        self.phone_enc = crypto.encrypt(value)
        self.phone_hash = crypto.lookup_hash("phone", value)
        self.phone_masked = crypto.mask_phone(value)


class RevealLog(models.Model):
    """Access log: every reveal of a full ID or phone number and every export."""

    class What(models.TextChoices):
        ID_NUMBER = "id_number", "身份证号"
        PHONE = "phone", "手机号"
        EXPORT = "export", "导出"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="操作人")
    what = models.CharField("内容", max_length=16, choices=What.choices)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, verbose_name="当事人")
    reason = models.CharField("事由", max_length=200, blank=True)
    filter_description = models.TextField("导出条件", blank=True)
    row_count = models.PositiveIntegerField("行数", null=True, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "敏感信息访问记录"
        verbose_name_plural = "敏感信息访问记录"


# --------------------------------------------------------------------------------------------
# The case
# --------------------------------------------------------------------------------------------


class CaseSequence(models.Model):
    """Tracking-number counters: one row per (prefix, year), bumped with a row lock."""

    prefix = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="case_sequence_unique")]


class Case(models.Model):
    tracking_no = models.CharField("受理编号", max_length=32, unique=True)
    kind = models.CharField("事项类型", max_length=20, choices=CaseKind.choices, default=CaseKind.DISPUTE)
    channel = models.CharField("来源渠道", max_length=20, choices=Channel.choices, default=Channel.VISIT)
    category = models.CharField("纠纷类别", max_length=20, choices=Category.choices, default=Category.OTHER)
    title = models.CharField("事项摘要", max_length=200)
    description = models.TextField("事项详情", blank=True)

    # Place: the most specific region known (a grid cell when known). `region_path` copies the
    # place's materialized path so the jurisdiction filter is one indexed LIKE 'prefix%'.
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="cases", verbose_name="发生地")
    region_path = models.CharField(max_length=255, db_index=True, editable=False)
    town = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="所属乡镇",
        editable=False,
    )  # denormalized for by-town rollups
    address = models.CharField("详细地址", max_length=200, blank=True)
    occurred_at = models.DateTimeField("发生时间", null=True, blank=True)

    amount = models.DecimalField("涉及金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    people_count = models.PositiveIntegerField("涉及人数", default=1)
    has_casualty = models.BooleanField("有人员伤亡", default=False)
    petition_risk = models.BooleanField("有越级上访苗头或事实", default=False)
    failed_mediations = models.PositiveSmallIntegerField("调解未成次数", default=0)
    risk_note = models.CharField("风险迹象", max_length=200, blank=True)

    level = models.CharField("处置层级", max_length=16, choices=Level.choices, default=Level.VILLAGE)
    owning_center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="owned_cases", verbose_name="责任中心"
    )
    owning_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_cases", verbose_name="责任部门"
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.REGISTERED)
    # A kind's own sub-step within a status (e.g. a petition's 复查 / 复核), keyed by that kind's
    # app; clock rules may match on it.
    phase = models.CharField("阶段", max_length=32, blank=True)

    warning_level = models.CharField(
        "预警", max_length=8, choices=WarningLevel.choices, default=WarningLevel.GREEN
    )
    warning_reasons = models.JSONField("预警原因", default=list, blank=True)
    warning_changed_at = models.DateTimeField("预警变更时间", null=True, blank=True)

    # The clock of the current step. `due_at` is swept by cases.tasks.sweep through the partial
    # index case_due_sweep_idx; `yellow_at` through case_yellow_sweep_idx.
    step_no = models.PositiveIntegerField("环节序号", default=1)
    step_started_at = models.DateTimeField("本环节开始", null=True, blank=True)
    due_at = models.DateTimeField("本环节期限", null=True, blank=True)
    yellow_at = models.DateTimeField("黄色预警时间", null=True, blank=True)
    due_explanation = models.TextField("期限计算说明", blank=True)
    clock_rule = models.ForeignKey(
        "ClockRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="时限规则"
    )
    paused_at = models.DateTimeField("暂停计时于", null=True, blank=True)
    extension_hours = models.PositiveIntegerField("本环节延期（小时）", default=0)
    overdue_fired = models.BooleanField("本环节超期已处理", default=False)
    overdue_count = models.PositiveSmallIntegerField("超期次数", default=0)

    version = models.PositiveIntegerField("版本", default=1)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="registered_cases",
        verbose_name="首问责任人",
    )
    created_at = models.DateTimeField("登记时间", db_index=True)
    updated_at = models.DateTimeField("更新时间")
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    resolved_at = models.DateTimeField("化解时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    result = models.TextField("处理结果", blank=True)
    satisfaction = models.CharField("满意度", max_length=16, choices=Satisfaction.choices, blank=True)
    closed_on_time = models.BooleanField("按期办结", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_cases", verbose_name="合并至"
    )
    related = models.ManyToManyField("self", blank=True, verbose_name="关联事项")

    # Sync: the client's own id (idempotent create) and the source system's record number.
    external_id = models.UUIDField("外部编号", null=True, blank=True, unique=True)
    source_ref = models.CharField("来源系统编号", max_length=64, blank=True)
    # The id of the transaction that last wrote this row, set by a database trigger on every
    # insert and update (whatever code path writes: services, the sweep's bulk UPDATE, imports).
    # The API's incremental sync pages through (sync_txid, id) below the oldest transaction still
    # in progress, so a row committed late can never fall behind a cursor already handed out
    # (apiauth.sync). Index case_sync_idx serves that feed.
    sync_txid = models.BigIntegerField(default=0, db_default=0, editable=False)

    # The audit page (cases.selectors_audit) reads by date, scope and tracking number.
    history = HistoricalRecords(
        excluded_fields=["warning_reasons", "due_explanation", "updated_at", "sync_txid"],
        no_db_index=IndexOnly("id", "tracking_no"),
    )

    JURISDICTION = Jurisdiction(
        path="region_path",
        center="owning_center",
        unit="owning_unit",
        perm_model="cases.CaseUserObjectPermission",
    )

    class Meta:
        verbose_name = "事项"
        verbose_name_plural = "事项"
        permissions = [("supervise_case", "督办事项")]
        indexes = [
            # The sweep (cases.tasks.sweep): overdue and soon-due open cases. Partial, so their size
            # follows the open cases and a lookup follows the due ones.
            models.Index(
                fields=["due_at"],
                name="case_due_sweep_idx",
                condition=Q(status__in=CLOCK_STATES, overdue_fired=False, due_at__isnull=False),
            ),
            models.Index(
                fields=["yellow_at"],
                name="case_yellow_sweep_idx",
                condition=Q(status__in=CLOCK_STATES, warning_level="green", yellow_at__isnull=False),
            ),
            models.Index(fields=["owning_center", "status"], name="case_owner_status_idx"),
            models.Index(fields=["status", "warning_level"], name="case_status_warning_idx"),
            models.Index(fields=["town", "status", "warning_level"], name="case_town_status_idx"),
            models.Index(fields=["updated_at", "id"], name="case_updated_idx"),
            models.Index(fields=["sync_txid", "id"], name="case_sync_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source_ref"], condition=~Q(source_ref=""), name="case_unique_source_ref"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_no} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Guardian grant on one case (an assigned mediator or handler), never granted in bulk."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", "申请人"
    RESPONDENT = "respondent", "被申请人"
    PARTY = "party", "当事人"
    REPRESENTATIVE = "representative", "代表"
    THIRD = "third", "第三人"


class CaseParty(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties", verbose_name="事项")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="parties", verbose_name="当事人")
    role = models.CharField("身份", max_length=16, choices=PartyRole.choices, default=PartyRole.APPLICANT)
    note = models.CharField("备注", max_length=200, blank=True)
    history = HistoricalRecords(no_db_index=IndexOnly("id", "case"))

    class Meta:
        verbose_name = "事项当事人"
        verbose_name_plural = "事项当事人"
        constraints = [models.UniqueConstraint(fields=["case", "person", "role"], name="case_party_unique")]


class AssignmentRole(models.TextChoices):
    HANDLER = "handler", "承办人"
    MEDIATOR = "mediator", "调解员"
    ASSISTANT = "assistant", "协办人"


class CaseAssignment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments", verbose_name="事项")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_assignments", verbose_name="承办人"
    )
    role = models.CharField("分工", max_length=16, choices=AssignmentRole.choices, default=AssignmentRole.HANDLER)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="交办人"
    )
    assigned_at = models.DateTimeField("交办时间", auto_now_add=True)
    is_active = models.BooleanField("有效", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "承办分工"
        verbose_name_plural = "承办分工"
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user", "role"], condition=Q(is_active=True), name="case_assignment_active_unique"
            )
        ]
        indexes = [models.Index(fields=["user", "is_active"], name="case_assignment_user_idx")]


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"cases/{instance.case_id}/{filename}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments", verbose_name="事项")
    file = models.FileField("文件", upload_to=attachment_path)
    name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"


# --------------------------------------------------------------------------------------------
# Timeline, warnings, escalation events
# --------------------------------------------------------------------------------------------


class TimelineEntry(models.Model):
    """A domain event users read on the case page. Written in the same transaction as the change.

    `step_due_at` / `met_deadline` / `late_seconds` are the compliance facts of the step this
    entry ended: "done in time" reports read them, so a later rule change never rewrites history.
    """

    # Indexed by timeline_case_at_idx (case, at) and timeline_sync_idx only: no page looks entries up
    # by actor or center, and each extra index cost every transition and every sweep escalation.
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="timeline", verbose_name="事项", db_index=False
    )
    at = models.DateTimeField("时间")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="操作人",
        db_index=False,
    )
    action = models.CharField("动作", max_length=32)
    summary = models.CharField("摘要", max_length=300)
    comment = models.TextField("说明", blank=True)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    from_center = models.ForeignKey(
        Center, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    to_center = models.ForeignKey(
        Center, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    step_due_at = models.DateTimeField("该环节期限", null=True, blank=True)
    met_deadline = models.BooleanField("按期", null=True, blank=True)
    late_seconds = models.IntegerField("超期秒数", null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # As Case.sync_txid: set by a trigger, pages the API's timeline feed (timeline_sync_idx).
    sync_txid = models.BigIntegerField(default=0, db_default=0, editable=False)

    JURISDICTION = Jurisdiction(
        path="case__region_path",
        center="case__owning_center",
        unit="case__owning_unit",
        perm_model="cases.CaseUserObjectPermission",
        perm_target="case_id",
    )

    class Meta:
        verbose_name = "办理记录"
        verbose_name_plural = "办理记录"
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="timeline_case_at_idx"),
            models.Index(fields=["sync_txid", "id"], name="timeline_sync_idx"),
        ]


class OverdueEvent(models.Model):
    """One row per (case, step, deadline): the sweep escalates only when it inserts the row."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="overdue_events", db_index=False)  # overdue_event_once
    step_no = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField()
    action = models.CharField(max_length=32)  # escalated / top_level_red

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "step_no", "due_at"], name="overdue_event_once"),
        ]


class SweepRun(models.Model):
    """One run of the sweep, for /healthz ("beat has run recently") and for operations."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True)
    escalated = models.PositiveIntegerField(default=0)
    turned_yellow = models.PositiveIntegerField(default=0)
    turned_red = models.PositiveIntegerField(default=0)
    examined = models.PositiveIntegerField(default=0)
    supervision_overdue = models.PositiveIntegerField(default=0)


# --------------------------------------------------------------------------------------------
# Clocks
# --------------------------------------------------------------------------------------------


class LimitUnit(models.TextChoices):
    MINUTES = "minutes", "分钟"
    HOURS = "hours", "小时"
    DAYS = "days", "自然日"
    WORKDAYS = "workdays", "工作日"


class ClockRule(models.Model):
    """The time limit of a step: state × level × category (× kind). Blank matches any.

    The most specific active rule wins. Yellow comes at `yellow_ratio` of (limit + extension).
    """

    kind = models.CharField("事项类型", max_length=20, choices=CaseKind.choices, blank=True)
    status = models.CharField("环节（状态）", max_length=16, choices=Status.choices)
    phase = models.CharField("阶段", max_length=32, blank=True, help_text="事项类型自有的阶段，如信访复查；留空匹配任何阶段")
    level = models.CharField("层级", max_length=16, choices=Level.choices, blank=True)
    category = models.CharField("类别", max_length=20, choices=Category.choices, blank=True)
    limit = models.PositiveIntegerField("时限")
    unit = models.CharField("单位", max_length=10, choices=LimitUnit.choices, default=LimitUnit.WORKDAYS)
    yellow_ratio = models.DecimalField("黄色预警比例", max_digits=3, decimal_places=2, default=0.7)
    is_active = models.BooleanField("启用", default=True)
    note = models.CharField("依据/说明", max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "时限规则"
        verbose_name_plural = "时限规则"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "status", "phase", "level", "category"], condition=Q(is_active=True),
                name="clock_rule_unique",
            )
        ]

    def __str__(self) -> str:
        parts = [self.get_kind_display() if self.kind else "全部类型", self.get_status_display()]
        parts.append(self.get_level_display() if self.level else "各层级")
        if self.category:
            parts.append(self.get_category_display())
        return f"{' · '.join(parts)}：{self.limit}{self.get_unit_display()}"

    @property
    def specificity(self) -> int:
        return (8 if self.phase else 0) + (4 if self.kind else 0) + (2 if self.category else 0) + (1 if self.level else 0)


class WorkDay(models.Model):
    """The county's working-day calendar: one row per date that differs from Mon–Fri.

    Seeded from the chinese-calendar package (holidays and 调休 working weekends) for the years it
    knows; the county edits it and enters each year's State Council notice. A date with no row
    is a working day on Mon–Fri and a rest day on weekends.
    """

    class Source(models.TextChoices):
        PACKAGE = "package", "chinese-calendar"
        COUNTY = "county", "县里录入"

    date = models.DateField("日期", primary_key=True)
    is_workday = models.BooleanField("上班")
    name = models.CharField("名称", max_length=50, blank=True)
    source = models.CharField("来源", max_length=16, choices=Source.choices, default=Source.COUNTY)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "工作日历"
        verbose_name_plural = "工作日历"
        ordering = ["date"]


class CalendarYear(models.Model):
    """Which years the calendar knows; for another year, weekends-only with a visible warning."""

    year = models.PositiveSmallIntegerField("年份", primary_key=True)
    source = models.CharField("来源", max_length=16, choices=WorkDay.Source.choices)
    entered_at = models.DateTimeField("录入时间", auto_now=True)

    class Meta:
        verbose_name = "已录入年度"
        verbose_name_plural = "已录入年度"


class WarningPolicy(models.Model):
    """Red-trigger thresholds; one row (pk=1), editable by the county."""

    group_size = models.PositiveIntegerField("群体人数阈值", default=5)
    amount_threshold = models.DecimalField("金额阈值（元）", max_digits=14, decimal_places=2, default=1000000)
    failed_mediations = models.PositiveSmallIntegerField("调解未成次数阈值", default=2)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "预警阈值"
        verbose_name_plural = "预警阈值"

    @classmethod
    def current(cls) -> WarningPolicy:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


# --------------------------------------------------------------------------------------------
# Notifications
# --------------------------------------------------------------------------------------------


class Notification(models.Model):
    """In-app inbox row; SMS/email go out from it through the pluggable senders, once."""

    # `user` is served by notification_unread_idx and notification_once (both lead with it).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField("类型", max_length=32)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField("时间", db_index=True)
    read_at = models.DateTimeField("已读", null=True, blank=True)
    # Idempotency: the same event never notifies the same person twice.
    dedupe_key = models.CharField(max_length=200)
    sms = models.BooleanField("短信", default=False)
    sent_at = models.DateTimeField("外发时间", null=True, blank=True)

    class Meta:
        verbose_name = "消息"
        verbose_name_plural = "消息"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once")]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            models.Index(
                fields=["created_at"], name="notification_unsent_idx", condition=Q(sms=True, sent_at__isnull=True)
            ),
        ]


# --------------------------------------------------------------------------------------------
# Red response: 领导包案 and 联席会议
# --------------------------------------------------------------------------------------------


class LeaderPackage(models.Model):
    """领导包案: one problem, one leader, one task force, one plan, to the end."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="leader_packages", verbose_name="事项")
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="packaged_cases", verbose_name="包案领导"
    )
    task_force = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="task_forces", verbose_name="专班成员"
    )
    task_force_units = models.ManyToManyField(Unit, blank=True, verbose_name="专班部门")
    plan = models.TextField("化解方案")
    report_back_on = models.DateField("汇报日期")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("包案时间", auto_now_add=True)
    is_active = models.BooleanField("进行中", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "领导包案"
        verbose_name_plural = "领导包案"
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(is_active=True), name="one_active_package_per_case")
        ]


class JointMeeting(models.Model):
    """联席会议: participants, decisions and follow-up tasks."""

    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="joint_meetings", verbose_name="事项"
    )
    center = models.ForeignKey(Center, on_delete=models.PROTECT, verbose_name="召集中心")
    title = models.CharField("会议名称", max_length=200)
    held_at = models.DateTimeField("召开时间")
    place = models.CharField("地点", max_length=200, blank=True)
    participants = models.TextField("参会人员/部门")
    participant_units = models.ManyToManyField(Unit, blank=True, verbose_name="参会部门")
    decisions = models.TextField("会议决定")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path="center__region__path", center="center")

    class Meta:
        verbose_name = "联席会议"
        verbose_name_plural = "联席会议"

    def __str__(self) -> str:
        return self.title


class MeetingTask(models.Model):
    meeting = models.ForeignKey(JointMeeting, on_delete=models.CASCADE, related_name="tasks")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, verbose_name="责任部门")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, verbose_name="责任人"
    )
    task = models.CharField("任务", max_length=300)
    due_on = models.DateField("完成时限")
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "会议任务"
        verbose_name_plural = "会议任务"

    def __str__(self) -> str:
        return self.task


# --------------------------------------------------------------------------------------------
# Supervision (督办), leader instructions (领导批示) and points for the quarterly assessment (季考评)
# --------------------------------------------------------------------------------------------


class SupervisionKind(models.TextChoices):
    AUTO_RED = "auto_red", "红色预警自动督办"
    MANUAL = "manual", "督办"
    LEADER = "leader", "领导督办"
    ESCALATED = "escalated", "逾期未反馈升级督办"


class SupervisionStatus(models.TextChoices):
    OPEN = "open", "待反馈"
    RESPONDED = "responded", "已反馈"
    ESCALATED = "escalated", "逾期已升级"
    LAPSED = "lapsed", "事项已办结"


class SupervisionOrder(models.Model):
    """督办单: a higher center or a leader demands that the unit or center handling a case act and
    report back by a deadline. An overdue response escalates like any clock: the sweep
    (cases.tasks.sweep, through supervision_due_sweep_idx) hands the order to the issuing center's
    parent, which issues a follow-up order (`escalation`) with a new deadline.
    """

    # case, supervised_center and supervised_unit lead the composite indexes in Meta; the issuing
    # and responding users are never looked up.
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="supervision_orders", verbose_name="事项", db_index=False
    )
    kind = models.CharField("督办类型", max_length=16, choices=SupervisionKind.choices)
    issuing_center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="issued_supervision_orders", verbose_name="督办单位"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="督办人", db_index=False,
    )  # null: issued by the system (红色预警自动督办, 升级督办)
    supervised_center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="supervision_orders", verbose_name="被督办中心",
        db_index=False,
    )
    supervised_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="supervision_orders",
        verbose_name="被督办部门", db_index=False,
    )
    demand = models.TextField("督办要求")
    created_at = models.DateTimeField("督办时间")
    due_at = models.DateTimeField("反馈期限")
    status = models.CharField(
        "状态", max_length=16, choices=SupervisionStatus.choices, default=SupervisionStatus.OPEN
    )
    response = models.TextField("反馈情况", blank=True)
    responded_at = models.DateTimeField("反馈时间", null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="反馈人", db_index=False,
    )
    # Compliance of the response, stored when it is given (a later rule change rewrites nothing).
    met_deadline = models.BooleanField("按期反馈", null=True, blank=True)
    late_seconds = models.IntegerField("逾期秒数", null=True, blank=True)
    overdue_at = models.DateTimeField("逾期处理时间", null=True, blank=True)
    parent = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="escalation",
        verbose_name="原督办单",
    )
    level = models.PositiveSmallIntegerField("督办轮次", default=1)
    history = HistoricalRecords(no_db_index=IndexOnly("id", "case"))

    JURISDICTION = Jurisdiction(
        path="case__region_path",
        center="case__owning_center",
        unit="supervised_unit",
        perm_model="cases.CaseUserObjectPermission",
        perm_target="case_id",
    )

    class Meta:
        verbose_name = "督办单"
        verbose_name_plural = "督办单"
        ordering = ["-created_at", "-id"]
        indexes = [
            # cases.tasks.sweep: open orders whose response is due and not yet handled as overdue.
            models.Index(
                fields=["due_at"], name="supervision_due_sweep_idx",
                condition=Q(status="open", overdue_at__isnull=True),
            ),
            models.Index(fields=["case", "status"], name="supervision_case_idx"),
            models.Index(fields=["supervised_center", "status"], name="supervision_center_idx"),
            models.Index(fields=["supervised_unit", "status"], name="supervision_unit_idx"),
        ]
        constraints = [
            # Automatic supervision on red happens once per case.
            models.UniqueConstraint(fields=["case"], condition=Q(kind="auto_red"), name="supervision_auto_red_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case.tracking_no}"

    @property
    def is_open(self) -> bool:
        return self.status == SupervisionStatus.OPEN


class SupervisionPolicy(models.Model):
    """How long the supervised side has to respond; one row (pk=1), editable by the county."""

    auto_response_workdays = models.PositiveSmallIntegerField("红色预警自动督办反馈时限（工作日）", default=2)
    escalated_response_workdays = models.PositiveSmallIntegerField("升级督办反馈时限（工作日）", default=1)
    default_response_workdays = models.PositiveSmallIntegerField("人工督办默认反馈时限（工作日）", default=3)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "督办时限"
        verbose_name_plural = "督办时限"

    @classmethod
    def current(cls) -> SupervisionPolicy:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class LeaderInstruction(models.Model):
    """领导批示: a leader's written instruction on a case, shown at the top of the case page."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="leader_instructions", verbose_name="事项")
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="instructions", verbose_name="批示领导"
    )
    text = models.TextField("批示内容")
    instructed_at = models.DateTimeField("批示时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="录入人"
    )
    recorded_at = models.DateTimeField("录入时间")
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(
        path="case__region_path",
        center="case__owning_center",
        unit="case__owning_unit",
        perm_model="cases.CaseUserObjectPermission",
        perm_target="case_id",
    )

    class Meta:
        verbose_name = "领导批示"
        verbose_name_plural = "领导批示"
        ordering = ["-instructed_at", "-id"]


class PointKind(models.TextChoices):
    YELLOW_CARD = "yellow_card", "黄牌（临近期限仍未办结本环节）"
    RED_CARD = "red_card", "红牌（环节超期）"
    SUPERVISED = "supervised", "被人工督办"
    SUPERVISION_OVERDUE = "supervision_overdue", "督办逾期未反馈"
    CLOSED_ON_TIME = "closed_on_time", "按期办结"
    SATISFIED = "satisfied", "回访满意"
    UNSATISFIED = "unsatisfied", "回访不满意"
    REPEAT_PETITION = "repeat_petition", "重复信访"


class PointWeight(models.Model):
    """The points an event carries (negative: deducted). Seeded with defaults, edited by the county.

    A changed weight applies to events from then on: each PointEvent keeps the points it was given.
    """

    kind = models.CharField("事件", max_length=32, choices=PointKind.choices, primary_key=True)
    points = models.DecimalField("分值", max_digits=6, decimal_places=1)
    note = models.CharField("说明", max_length=200, blank=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "考评分值"
        verbose_name_plural = "考评分值"
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.points}"


class PointEvent(models.Model):
    """One event of the quarterly assessment (季考评): who it counts for, why, and how many points.

    The subject is the unit handling the case when there is one, otherwise the center. `town` is the
    town whose score the event counts in (a town center's or one of its village stations' events);
    empty for the county and above. `event_key` makes each event count once however often the code
    that notices it runs.
    """

    kind = models.CharField("事件", max_length=32, choices=PointKind.choices)
    points = models.DecimalField("分值", max_digits=6, decimal_places=1)
    center = models.ForeignKey(
        Center, null=True, blank=True, on_delete=models.PROTECT, related_name="point_events", verbose_name="中心"
    )
    # unit and town lead point_event_unit_idx / point_event_town_idx.
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="point_events", verbose_name="部门",
        db_index=False,
    )
    town = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="计入乡镇",
        db_index=False,
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="point_events", verbose_name="事项"
    )
    supervision_order = models.ForeignKey(
        SupervisionOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="point_events",
        verbose_name="督办单",
    )
    at = models.DateTimeField("时间")
    reason = models.CharField("事由", max_length=300)
    event_key = models.CharField(max_length=200, unique=True)

    JURISDICTION = Jurisdiction(path=("center__region__path", "unit__region__path"), center="center", unit="unit")

    class Meta:
        verbose_name = "考评记分"
        verbose_name_plural = "考评记分"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["at"], name="point_event_at_idx"),
            models.Index(fields=["town", "at"], name="point_event_town_idx"),
            models.Index(fields=["unit", "at"], name="point_event_unit_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(center__isnull=False) | Q(unit__isnull=False), name="point_event_has_subject"
            ),
        ]
