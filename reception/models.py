"""The reception hall (群众接待大厅): windows, the roster, the queue, visits and what they route to.

A `Visit` is the registration of one walk-in (登记); the matters it opens or joins are ordinary
`cases.Case` rows of the right kind (即接即办, 信访, 纠纷, 涉法涉诉 …) linked through `VisitCase`.
The hall keeps no second copy of a case's state: the receipt, "my registrations" and the public
status page all read the case.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from cases.models import Case, Category, Person
from centers.jurisdiction import Jurisdiction
from centers.models import Center, DepartmentKind, Region, Unit


class Window(models.Model):
    """A service window of one department (公安, 法院, 信访, 人社 …) in a center's hall."""

    center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="windows", verbose_name="所在中心"
    )
    number = models.PositiveSmallIntegerField("窗口号")
    name = models.CharField("窗口名称", max_length=50)
    department = models.CharField("部门类别", max_length=32, choices=DepartmentKind.choices)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="进驻部门"
    )
    is_active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path="center__region__path", center="center")

    class Meta:
        verbose_name = "窗口"
        verbose_name_plural = "窗口"
        ordering = ["center", "number"]
        constraints = [models.UniqueConstraint(fields=["center", "number"], name="window_unique_number")]

    def __str__(self) -> str:
        return f"{self.number}号窗口 {self.name}"


class Duty(models.Model):
    """The roster: a clerk on duty at a window on a day (排班)."""

    window = models.ForeignKey(Window, on_delete=models.CASCADE, related_name="duties", verbose_name="窗口")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="window_duties",
        verbose_name="值班人员",
    )
    date = models.DateField("日期")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="排班人",
    )
    created_at = models.DateTimeField("排班时间", auto_now_add=True)

    class Meta:
        verbose_name = "窗口排班"
        verbose_name_plural = "窗口排班"
        constraints = [models.UniqueConstraint(fields=["window", "user", "date"], name="duty_unique")]
        indexes = [models.Index(fields=["user", "date"], name="duty_user_date_idx")]


class TicketStatus(models.TextChoices):
    WAITING = "waiting", "等候中"
    CALLED = "called", "已叫号"
    DONE = "done", "已办结"
    NO_SHOW = "no_show", "过号"


class Ticket(models.Model):
    """A queue number (取号) for one window or for a department's windows (blank: any window).

    Waiting time is `called_at - taken_at`; service time `finished_at - called_at`. Calling the
    next number is a guarded update on `status = waiting`, so two clerks never get the same one.
    """

    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="+", verbose_name="中心")
    day = models.DateField("日期")
    prefix = models.CharField("字头", max_length=2)
    seq = models.PositiveIntegerField("序号")
    number = models.CharField("号码", max_length=8)
    department = models.CharField(
        "办理部门",
        max_length=32,
        choices=DepartmentKind.choices,
        blank=True,
        help_text="留空：综合受理，任一窗口均可叫号",
    )
    window = models.ForeignKey(
        Window,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name="指定窗口",
    )
    people_count = models.PositiveSmallIntegerField("来访人数", default=1)
    status = models.CharField(
        "状态", max_length=16, choices=TicketStatus.choices, default=TicketStatus.WAITING
    )
    taken_at = models.DateTimeField("取号时间")
    called_at = models.DateTimeField("叫号时间", null=True, blank=True)
    finished_at = models.DateTimeField("办结时间", null=True, blank=True)
    called_window = models.ForeignKey(
        Window, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="受理窗口"
    )
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="叫号人",
    )

    JURISDICTION = Jurisdiction(path="center__region__path", center="center")

    class Meta:
        verbose_name = "排队号"
        verbose_name_plural = "排队号"
        constraints = [
            models.UniqueConstraint(fields=["center", "day", "prefix", "seq"], name="ticket_unique_number")
        ]
        indexes = [
            # The call-next query and the hall overview: today's waiting numbers in taking order.
            models.Index(
                fields=["center", "day", "taken_at"], name="ticket_waiting_idx", condition=Q(status="waiting")
            ),
            models.Index(fields=["center", "day", "status"], name="ticket_day_status_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def wait_seconds(self) -> int | None:
        if self.called_at is None:
            return None
        return int((self.called_at - self.taken_at).total_seconds())


class TicketCounter(models.Model):
    """Per center, day and prefix: the last number given out, bumped under the row lock."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    prefix = models.CharField(max_length=2)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["center", "day", "prefix"], name="ticket_counter_unique")
        ]


class Route(models.TextChoices):
    """分类受理、归口办理: where the clerk sends the matter."""

    ON_THE_SPOT = "on_the_spot", "即接即办（当场办结）"
    PETITION = "petition", "信访事项"
    MEDIATION = "mediation", "矛盾纠纷（交调解组织）"
    LAW_LITIGATION = "law_litigation", "涉法涉诉（转政法单位）"
    CONSULTATION = "consultation", "法律咨询"
    LEGAL_AID = "legal_aid", "法律援助"
    COUNSELLING = "counselling", "心理咨询（转心理咨询室）"
    JOINT = "joint", "联调联处（多部门联合处理）"
    ATTACH = "attach", "并入已有事项（不另立案）"


class Visit(models.Model):
    """One walk-in registration (来访登记): who came, about what, and where it was routed.

    For counselling the matter text is kept on the (restricted) case only; the visit says "心理咨询".
    """

    center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="visits", verbose_name="接待中心"
    )
    window = models.ForeignKey(
        Window, null=True, blank=True, on_delete=models.SET_NULL, related_name="visits", verbose_name="窗口"
    )
    ticket = models.OneToOneField(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="visit", verbose_name="排队号"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="visits", verbose_name="来访人")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="registered_visits",
        verbose_name="首问责任人",
    )
    registered_at = models.DateTimeField("登记时间")
    route = models.CharField("分类", max_length=20, choices=Route.choices)
    category = models.CharField("类别", max_length=20, choices=Category.choices, default=Category.OTHER)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="事项发生地")
    matter = models.CharField("来访事由", max_length=200)
    people_count = models.PositiveIntegerField("来访人数", default=1)
    is_group = models.BooleanField("集体访", default=False)
    departed_at = models.DateTimeField("离厅时间", null=True, blank=True)
    cases = models.ManyToManyField(Case, through="VisitCase", related_name="visits", verbose_name="事项")
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path="center__region__path", center="center")

    class Meta:
        verbose_name = "来访登记"
        verbose_name_plural = "来访登记"
        indexes = [
            models.Index(fields=["center", "registered_at"], name="visit_center_at_idx"),
            models.Index(fields=["person", "registered_at"], name="visit_person_at_idx"),
            models.Index(fields=["registered_by", "registered_at"], name="visit_clerk_at_idx"),
            # "Groups in the hall now" on the overview.
            models.Index(
                fields=["center", "registered_at"],
                name="visit_group_in_hall_idx",
                condition=Q(is_group=True, departed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registered_at:%Y-%m-%d} {self.matter}"


class VisitCase(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="visit_cases")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="visit_links")
    opened = models.BooleanField("本次登记新立", default=True)
    next_step = models.CharField("下一步", max_length=300, blank=True)

    class Meta:
        verbose_name = "来访关联事项"
        verbose_name_plural = "来访关联事项"
        constraints = [models.UniqueConstraint(fields=["visit", "case"], name="visit_case_unique")]


class StatusLink(models.Model):
    """The public status page's key: tracking number + this random token (no login, no personal data)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="status_link")
    token = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "进度查询码"
        verbose_name_plural = "进度查询码"


class Summons(models.Model):
    """联调联处: the center summons a unit (中心吹哨), which must acknowledge in time (部门报到).

    `due_at` is swept by reception.tasks.sweep_summons through the partial index summons_due_idx.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="summonses", verbose_name="事项")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="summonses", verbose_name="部门")
    summoned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="召集人"
    )
    summoned_at = models.DateTimeField("召集时间")
    due_at = models.DateTimeField("报到时限")
    acknowledged_at = models.DateTimeField("报到时间", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="报到人",
    )
    note = models.CharField("报到说明", max_length=200, blank=True)
    overdue_at = models.DateTimeField("超时催报时间", null=True, blank=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(
        path="case__region_path",
        center="case__owning_center",
        unit="unit",
        perm_model="cases.CaseUserObjectPermission",
        perm_target="case_id",
    )

    class Meta:
        verbose_name = "联调联处召集"
        verbose_name_plural = "联调联处召集"
        constraints = [models.UniqueConstraint(fields=["case", "unit"], name="summons_unique_unit")]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="summons_due_idx",
                condition=Q(acknowledged_at__isnull=True, overdue_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.tracking_no} · {self.unit}"

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None
