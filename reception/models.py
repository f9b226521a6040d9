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


# --------------------------------------------------------------------------------------------
# The counselling room (心理咨询室): restricted content
# --------------------------------------------------------------------------------------------

CASE_JURISDICTION = Jurisdiction(
    path="case__region_path",
    center="case__owning_center",
    unit="case__owning_unit",
    perm_model="cases.CaseUserObjectPermission",
    perm_target="case_id",
)


class CounsellingRecord(models.Model):
    """The counselling room's record of one counselling case (1:1): who counsels, the outcome and
    the follow-up. Its content (and the sessions') is shown only to the counsellors and the
    county's center staff (`selectors.sees_counselling_content`); everyone else reads 心理咨询（内容保密）."""

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.CASCADE, related_name="counselling", verbose_name="事项"
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="心理咨询师",
    )
    outcome = models.TextField("咨询结果", blank=True)
    follow_up_on = models.DateField("回访日期", null=True, blank=True)
    follow_up_note = models.CharField("回访安排", max_length=200, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    history = HistoricalRecords()

    JURISDICTION = CASE_JURISDICTION

    class Meta:
        verbose_name = "心理咨询记录"
        verbose_name_plural = "心理咨询记录"


class CounsellingSession(models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="counselling_sessions", verbose_name="事项"
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="心理咨询师"
    )
    held_at = models.DateTimeField("咨询时间")
    minutes = models.PositiveSmallIntegerField("时长（分钟）")
    notes = models.TextField("咨询记录")
    history = HistoricalRecords()

    JURISDICTION = CASE_JURISDICTION

    class Meta:
        verbose_name = "心理咨询记录（次）"
        verbose_name_plural = "心理咨询记录（次）"
        ordering = ["held_at", "id"]


# --------------------------------------------------------------------------------------------
# Appointments (预约回访) and leader reception days (领导接访日)
# --------------------------------------------------------------------------------------------


class AppointmentPurpose(models.TextChoices):
    MEDIATION = "mediation", "参加调解"
    LEADER = "leader", "领导接访"
    DOCUMENT = "document", "领取文书"
    COUNSELLING = "counselling", "心理咨询回访"
    OTHER = "other", "其他"


class Appointment(models.Model):
    """A time the visitor was given to come back, with an SMS reminder.

    `remind_at` is swept by reception.tasks.send_appointment_reminders through the partial index
    appointment_remind_idx; `reminded_at` is claimed with a guarded update before the SMS goes out,
    so a sweep run twice, or two at once, sends one SMS.
    """

    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="+", verbose_name="中心")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="appointments", verbose_name="来访人"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="appointments", verbose_name="事项"
    )
    purpose = models.CharField("事由", max_length=16, choices=AppointmentPurpose.choices)
    at = models.DateTimeField("预约时间")
    place = models.CharField("地点", max_length=100, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    remind_at = models.DateTimeField("提醒时间", null=True, blank=True)
    reminded_at = models.DateTimeField("已提醒", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="预约人"
    )
    created_at = models.DateTimeField("登记时间")
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path="center__region__path", center="center")

    class Meta:
        verbose_name = "预约"
        verbose_name_plural = "预约"
        ordering = ["at", "id"]
        indexes = [
            models.Index(
                fields=["remind_at"],
                name="appointment_remind_idx",
                condition=Q(reminded_at__isnull=True, cancelled_at__isnull=True, remind_at__isnull=False),
            ),
            models.Index(fields=["center", "at"], name="appointment_center_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.get_purpose_display()} {self.at:%Y-%m-%d %H:%M}"


class LeaderSlot(models.Model):
    """领导接访日: a leader receives visitors at a center on a date, in a time slot, on some topics."""

    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="+", verbose_name="接访中心")
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reception_slots", verbose_name="接访领导"
    )
    date = models.DateField("接访日期")
    starts_at = models.TimeField("开始")
    ends_at = models.TimeField("结束")
    topics = models.CharField("接访主题", max_length=200)
    place = models.CharField("地点", max_length=100, blank=True)
    capacity = models.PositiveSmallIntegerField("可预约人数", default=10)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="安排人"
    )
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path="center__region__path", center="center")

    class Meta:
        verbose_name = "领导接访日"
        verbose_name_plural = "领导接访日"
        ordering = ["date", "starts_at", "id"]
        indexes = [models.Index(fields=["center", "date"], name="leader_slot_center_date_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="leader_slot_times"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.starts_at:%H:%M}-{self.ends_at:%H:%M} {self.leader}"


class BookingStatus(models.TextChoices):
    BOOKED = "booked", "已预约"
    RECEIVED = "received", "已接待"
    CANCELLED = "cancelled", "已取消"


class LeaderBooking(models.Model):
    """A visitor (and the matter they come about) booked into a leader's slot at the window."""

    slot = models.ForeignKey(LeaderSlot, on_delete=models.PROTECT, related_name="bookings", verbose_name="接访安排")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name="来访人")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="leader_bookings", verbose_name="事项")
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="预约人"
    )
    booked_at = models.DateTimeField("预约时间")
    status = models.CharField("状态", max_length=16, choices=BookingStatus.choices, default=BookingStatus.BOOKED)
    appointment = models.OneToOneField(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="预约提醒"
    )
    instruction = models.ForeignKey(
        "cases.LeaderInstruction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="领导批示",
    )
    received_at = models.DateTimeField("接待时间", null=True, blank=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path="slot__center__region__path", center="slot__center")

    class Meta:
        verbose_name = "领导接访预约"
        verbose_name_plural = "领导接访预约"
        ordering = ["booked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "case"], condition=~Q(status="cancelled"), name="leader_booking_once"
            ),
        ]
