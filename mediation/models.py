"""People's mediation (人民调解): committees, mediators, and the detail of a mediated Case.

Every mediated matter IS a `cases.Case` (shared/ARCHITECTURE.md): a dispute (kind "dispute") or a
matter referred by a court, a police station or the petition bureau (kind "referral"). What only
mediation needs lives here, 1:1 with the case:

    Mediation   the committee and mediator handling it, the parties' consent (自愿), its outcome,
                and, after a failure, where the matter was routed on (诉讼 / 仲裁 / 行政裁决);
    Session     each mediation session: date, place, participants and the written record (调解笔录);
    Agreement   the mediation agreement (调解协议书): facts, terms, amount, performance deadline,
                its signature, the performance follow-up (履行回访) and judicial confirmation (司法确认);
    Referral    诉调 / 警调 / 访调对接: who referred it, their number and deadline, and the outcome report.

The flow onto the Case statuses (the transitions are in mediation.services, registered in the
case engine's table from MediationConfig.ready()):

    registered/accepted ── mediation_assign ─► assigned (committee + mediator; object permission)
    assigned ── mediation_consent (parties agree to mediate) ─► in_progress
    in_progress ── mediation_session (any number; the clock keeps running)
    in_progress ── mediation_sign (agreement signed) ─► resolved (phase "performance" when the
                   agreement has a performance deadline: the follow-up clock runs from it)
    resolved ── mediation_follow_up (履行回访 + satisfaction) ─► closed
    in_progress/assigned ── mediation_fail (reason) ─► unresolved ── routed on: transferred to the
                   court / arbitration / administrative unit (assigned there), or closed
    referral: resolved/unresolved ── referral_report (outcome to the referring body) ─► closed
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from cases.models import Case, Category
from centers.jurisdiction import Jurisdiction
from centers.models import Region, Unit

# Mediation, sessions, agreements: visible with their case (place, owner, or the assigned mediator's
# object permission on the case).
CASE_JURISDICTION = Jurisdiction(
    path="case__region_path",
    center="case__owning_center",
    unit="case__owning_unit",
    perm_model="cases.CaseUserObjectPermission",
    perm_target="case_id",
)

# Case.phase values used by mediation.
PHASE_PERFORMANCE = "performance"  # an agreement awaiting its performance follow-up (履行回访)


class CommitteeKind(models.TextChoices):
    PEOPLES = "peoples", "人民调解委员会"
    PROFESSIONAL = "professional", "行业性专业性人民调解委员会"
    INVITED = "invited", "特邀调解组织"


class MediationCommittee(models.Model):
    """A mediation organisation: a people's mediation committee of a county, town or village, a
    professional committee for one or more domains, or an invited mediation organisation."""

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=CommitteeKind.choices, default=CommitteeKind.PEOPLES)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="mediation_committees", verbose_name="所在辖区"
    )
    # Professional committees: the categories (Case.category values) they take.
    domains = models.JSONField("专业领域", default=list, blank=True)
    host_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="设立/指导单位"
    )
    phone = models.CharField("电话", max_length=30, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    is_active = models.BooleanField("在用", default=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path="region__path")

    class Meta:
        verbose_name = "调解组织"
        verbose_name_plural = "调解组织"
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="committee_unique_name_per_region")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def domain_labels(self) -> list[str]:
        return [Category(d).label for d in self.domains if d in Category.values]


class MediatorGrade(models.TextChoices):
    CHIEF = "chief", "首席调解员"
    SENIOR = "senior", "高级调解员"
    INTERMEDIATE = "intermediate", "中级调解员"
    JUNIOR = "junior", "初级调解员"


class MediatorKind(models.TextChoices):
    FULL_TIME = "full_time", "专职"
    PART_TIME = "part_time", "兼职"
    INVITED = "invited", "特邀调解员"


class Mediator(models.Model):
    """A mediator: a user (so they can sign in to their queue) with a grade, domains and a place."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mediator", verbose_name="账号"
    )
    committee = models.ForeignKey(
        MediationCommittee, on_delete=models.PROTECT, related_name="mediators", verbose_name="所属调解组织"
    )
    kind = models.CharField("类别", max_length=16, choices=MediatorKind.choices, default=MediatorKind.PART_TIME)
    grade = models.CharField("等级", max_length=16, choices=MediatorGrade.choices, default=MediatorGrade.JUNIOR)
    domains = models.JSONField("擅长领域", default=list, blank=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="mediators", verbose_name="常驻辖区"
    )
    max_load = models.PositiveSmallIntegerField("在办上限（件）", default=10)
    is_active = models.BooleanField("在册", default=True)
    note = models.CharField("备注", max_length=200, blank=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(path=("region__path", "committee__region__path"))

    class Meta:
        verbose_name = "调解员"
        verbose_name_plural = "调解员"

    def __str__(self) -> str:
        return self.user.display_name

    @property
    def name(self) -> str:
        return self.user.display_name

    @property
    def domain_labels(self) -> list[str]:
        return [Category(d).label for d in self.domains if d in Category.values]


class Outcome(models.TextChoices):
    PENDING = "pending", "调解中"
    SUCCESS = "success", "调解成功"
    FAILED = "failed", "调解不成"


class ConsentWay(models.TextChoices):
    APPLICATION = "application", "当事人书面申请"
    ORAL = "oral", "当事人口头申请"
    INITIATIVE = "initiative", "调解委员会主动调解，当事人同意"
    REFERRED = "referred", "委派/移送调解，当事人同意"


class RouteOn(models.TextChoices):
    LITIGATION = "litigation", "引导诉讼"
    ARBITRATION = "arbitration", "引导仲裁"
    ADMINISTRATIVE = "administrative", "行政裁决/处理"
    NONE = "none", "终止调解，告知当事人依法维权"


class Mediation(models.Model):
    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.CASCADE, related_name="mediation", verbose_name="事项"
    )
    committee = models.ForeignKey(
        MediationCommittee, on_delete=models.PROTECT, related_name="mediations", verbose_name="调解组织"
    )
    mediator = models.ForeignKey(
        Mediator, on_delete=models.PROTECT, related_name="mediations", verbose_name="调解员"
    )
    assigned_at = models.DateTimeField("受理调解时间")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="分派人",
    )
    # Why this mediator: the suggestion's rank and reasons as shown to the dispatcher.
    assignment_note = models.CharField("分派理由", max_length=300, blank=True)

    consent_at = models.DateTimeField("当事人同意调解时间", null=True, blank=True)
    consent_way = models.CharField("调解启动方式", max_length=16, choices=ConsentWay.choices, blank=True)
    consent_note = models.CharField("自愿调解说明", max_length=300, blank=True)

    outcome = models.CharField("调解结果", max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    # When the mediation concluded (agreement signed, or failure recorded): the figures' period.
    ended_at = models.DateTimeField("调解终结时间", null=True, blank=True)
    failure_reason = models.TextField("调解不成原因", blank=True)
    route_on = models.CharField("分流去向", max_length=16, choices=RouteOn.choices, blank=True)
    route_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="分流至"
    )
    routed_at = models.DateTimeField("分流时间", null=True, blank=True)
    history = HistoricalRecords()

    JURISDICTION = CASE_JURISDICTION

    class Meta:
        verbose_name = "调解"
        verbose_name_plural = "调解"
        indexes = [
            # A mediator's load and queue: their mediations still pending.
            models.Index(fields=["mediator", "outcome"], name="mediation_mediator_idx"),
            models.Index(fields=["committee", "ended_at"], name="mediation_committee_idx"),
            models.Index(fields=["ended_at"], name="mediation_ended_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case.tracking_no} 调解"


class SessionResult(models.TextChoices):
    CONTINUE = "continue", "继续调解"
    AGREED = "agreed", "达成一致"
    DEADLOCK = "deadlock", "分歧较大"


class Session(models.Model):
    """One mediation session with its written record (调解笔录)."""

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="sessions", verbose_name="调解")
    number = models.PositiveSmallIntegerField("次序")
    held_at = models.DateTimeField("调解时间")
    place = models.CharField("调解地点", max_length=200)
    participants = models.TextField("参加人员")
    record = models.TextField("调解笔录")
    result = models.CharField("本次结果", max_length=16, choices=SessionResult.choices, default=SessionResult.CONTINUE)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="记录人"
    )
    recorded_at = models.DateTimeField("录入时间")
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(
        path="mediation__case__region_path",
        center="mediation__case__owning_center",
        unit="mediation__case__owning_unit",
        perm_model="cases.CaseUserObjectPermission",
        perm_target="mediation_id",
    )

    class Meta:
        verbose_name = "调解记录"
        verbose_name_plural = "调解记录"
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["mediation", "number"], name="session_number_unique")]


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SIGNED = "signed", "已签署生效"


class Performance(models.TextChoices):
    PENDING = "pending", "待回访"
    FULL = "full", "已全部履行"
    PARTIAL = "partial", "部分履行"
    NONE = "none", "未履行"


class Confirmation(models.TextChoices):
    NONE = "", "未申请"
    APPLIED = "applied", "已申请，待法院决定"
    CONFIRMED = "confirmed", "法院裁定确认有效"
    REJECTED = "rejected", "法院裁定驳回申请"


class Agreement(models.Model):
    """调解协议书 (人民调解法 第二十八至三十三条)."""

    mediation = models.OneToOneField(
        Mediation, primary_key=True, on_delete=models.CASCADE, related_name="agreement", verbose_name="调解"
    )
    number = models.CharField("协议书编号", max_length=60, blank=True)
    facts = models.TextField("纠纷主要事实、争议事项")
    terms = models.TextField("协议内容", help_text="每行一项")
    amount = models.DecimalField("协议金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    beneficiaries = models.PositiveIntegerField(
        "受益人数", default=0, help_text="如欠薪纠纷中拿到工资的劳动者人数"
    )
    performance_way = models.CharField("履行方式", max_length=200, blank=True)
    performance_due = models.DateField("履行期限", null=True, blank=True, help_text="留空为当场履行")
    copies = models.PositiveSmallIntegerField("份数", default=3)
    status = models.CharField("状态", max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="起草人"
    )
    drafted_at = models.DateTimeField("起草时间")
    signed_at = models.DateTimeField("签署时间", null=True, blank=True)

    performance = models.CharField(
        "履行情况", max_length=16, choices=Performance.choices, default=Performance.PENDING
    )
    performed_amount = models.DecimalField("已履行金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    followed_up_at = models.DateTimeField("履行回访时间", null=True, blank=True)
    follow_up_note = models.TextField("回访情况", blank=True)

    confirmation = models.CharField(
        "司法确认", max_length=16, choices=Confirmation.choices, default=Confirmation.NONE, blank=True
    )
    confirmation_court = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="受理法院"
    )
    confirmation_applied_on = models.DateField("申请日期", null=True, blank=True)
    confirmation_decided_on = models.DateField("裁定日期", null=True, blank=True)
    confirmation_ref = models.CharField("法院案号", max_length=60, blank=True)
    confirmation_note = models.CharField("裁定说明", max_length=300, blank=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(
        path="mediation__case__region_path",
        center="mediation__case__owning_center",
        unit="mediation__case__owning_unit",
        perm_model="cases.CaseUserObjectPermission",
        perm_target="mediation_id",
    )

    class Meta:
        verbose_name = "调解协议书"
        verbose_name_plural = "调解协议书"
        indexes = [models.Index(fields=["performance_due"], name="agreement_performance_idx")]

    def __str__(self) -> str:
        return self.number or f"{self.mediation.case.tracking_no} 调解协议"

    @property
    def term_lines(self) -> list[str]:
        return [t.strip() for t in self.terms.splitlines() if t.strip()]

    @property
    def is_signed(self) -> bool:
        return self.status == AgreementStatus.SIGNED


class ReferralKind(models.TextChoices):
    COURT = "court", "诉调对接（法院委派诉前调解）"
    POLICE = "police", "警调对接（派出所移送非警务纠纷）"
    PETITION = "petition", "访调对接（信访部门移交）"


REFERRAL_SHORT = {ReferralKind.COURT: "诉调", ReferralKind.POLICE: "警调", ReferralKind.PETITION: "访调"}


class Referral(models.Model):
    """A matter referred to mediation by another system, with the outcome reported back to it.

    The referral's case has kind "referral" and Case.phase = the referral kind, so its clocks are
    clock rules of kind "referral" matched on that phase (mediation's data migration seeds them):
    the mediation runs from the receipt (e.g. 30 days for a court's pre-litigation mediation, or
    the court's own deadline when it set one), and the outcome report is due within a few working
    days of the mediation's end. The referring unit's staff see the referral and its report
    (`JURISDICTION.unit`), not the rest of the case.
    """

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.CASCADE, related_name="referral", verbose_name="事项"
    )
    kind = models.CharField("对接类型", max_length=16, choices=ReferralKind.choices)
    referring_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="mediation_referrals", verbose_name="委派/移送单位"
    )
    external_no = models.CharField("委派/移送编号", max_length=64, help_text="法院诉前调解案号、警情编号或信访件编号")
    contact = models.CharField("对方联系人", max_length=100, blank=True)
    source_case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="mediation_referrals",
        verbose_name="原信访件/原事项",
    )
    received_at = models.DateTimeField("接收时间")
    deadline = models.DateField("委派方要求的期限", null=True, blank=True)

    reported_at = models.DateTimeField("反馈时间", null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="反馈人",
    )
    report_outcome = models.CharField("反馈结果", max_length=16, choices=Outcome.choices, blank=True)
    report_text = models.TextField("结果告知内容", blank=True)
    # Compliance stored when the report is given (a later rule change rewrites nothing).
    report_due_at = models.DateTimeField("反馈期限", null=True, blank=True)
    report_on_time = models.BooleanField("按期反馈", null=True, blank=True)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(
        path="case__region_path",
        center="case__owning_center",
        unit="referring_unit",
        perm_model="cases.CaseUserObjectPermission",
        perm_target="case_id",
    )

    class Meta:
        verbose_name = "委派/移送调解"
        verbose_name_plural = "委派/移送调解"
        indexes = [models.Index(fields=["referring_unit", "received_at"], name="referral_unit_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["referring_unit", "external_no"], condition=~Q(external_no=""), name="referral_unique_no"
            )
        ]

    def __str__(self) -> str:
        return f"{REFERRAL_SHORT.get(self.kind, '')} {self.external_no}"

    @property
    def short(self) -> str:
        return REFERRAL_SHORT.get(self.kind, "")
