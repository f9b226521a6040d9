"""Petitions (信访): the detail of a `cases.Case` of kind "petition", and what only petitions need.

Every petition IS a Case (shared/ARCHITECTURE.md): one tracking number, one clock, one colour, one
timeline and one jurisdiction gate with every other matter. `Petition` is its 1:1 detail: the
regulation's facts (acceptance, hand-over to the responsible unit and its receipt, the one
extension, the answer, 复查 and 复核), the special-kind flags with their reasons, supervision
(督办) records, channel imports and the data-fusion candidates.

The flow of the regulation (信访工作条例, 2022) onto the Case statuses:

    受理登记  registered  ── 15 days to decide acceptance ──► accepted   (or 不予受理 ► closed)
    转送交办  accepted    ── hand-over ──────────────────────► assigned   (the unit must 签收: ack clock)
    督办反馈  in_progress ── 60 days from acceptance, one extension ≤ 30 days ──► resolved (答复)
    评价结案  resolved    ── satisfaction ───────────────────► closed
    复查      resolved/closed ── within 30 days of the answer ► in_progress, phase "review" (30 days)
    复核      resolved/closed ── within 30 days of the review ► in_progress, phase "re_review" (30 days)
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from cases.models import Case, Channel, Person
from centers.jurisdiction import Jurisdiction
from centers.models import Center, Region, Unit
from zongzhi.history import IndexOnly

PETITION_JURISDICTION = Jurisdiction(
    path="case__region_path",
    center="case__owning_center",
    unit="case__owning_unit",
    perm_model="cases.CaseUserObjectPermission",
    perm_target="case_id",
)

# Case.phase values of a petition.
PHASE_REVIEW = "review"  # 复查
PHASE_RE_REVIEW = "re_review"  # 复核
PHASE_LABELS = {"": "办理", PHASE_REVIEW: "复查", PHASE_RE_REVIEW: "复核"}


class PetitionPolicy(models.Model):
    """The county's petition settings; one row (pk=1), editable in admin.

    The review windows and the extension limit are the regulation's (信访工作条例 第三十二、三十五、
    三十六条); the others are local practice and may be tuned.
    """

    group_size = models.PositiveIntegerField("集体访人数", default=5, help_text="信访人数达到此数即为集体访")
    repeat_days = models.PositiveIntegerField(
        "重复信访认定期间（天）", default=180, help_text="同一人或同一事项在此期间内再次信访，标记为重复信访"
    )
    closed_matter_days = models.PositiveIntegerField(
        "已办结事项比对期间（天）", default=730, help_text="与此期间内已办结的事项比对"
    )
    review_window_days = models.PositiveIntegerField("申请复查期限（天）", default=30)
    re_review_window_days = models.PositiveIntegerField("申请复核期限（天）", default=30)
    max_extension_days = models.PositiveIntegerField("延期上限（天）", default=30)
    fusion_window_hours = models.PositiveIntegerField(
        "数据融合时间窗口（小时）", default=96, help_text="不同渠道的记录在此时间差之内才比对是否同一事项"
    )
    repeat_caller_min = models.PositiveIntegerField(
        "重复来电认定次数", default=5, help_text="统计期间内经 12345/110 来电达到此次数"
    )
    frequent_complainant_min = models.PositiveIntegerField(
        "职业索赔人认定件数", default=10, help_text="统计期间内消费维权类投诉达到此件数"
    )
    list_period_days = models.PositiveIntegerField("名单统计期间（天）", default=365)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "信访参数"
        verbose_name_plural = "信访参数"

    def __str__(self) -> str:
        return "信访参数"

    @classmethod
    def current(cls) -> PetitionPolicy:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class Acceptance(models.TextChoices):
    PENDING = "pending", "待决定"
    ACCEPTED = "accepted", "受理"
    DECLINED = "declined", "不予受理"
    LITIGATION = "litigation", "不予受理（导入诉讼程序）"


class AnswerOutcome(models.TextChoices):
    SUPPORTED = "supported", "予以支持"
    PARTLY = "partly", "部分支持"
    EXPLAINED = "explained", "解释说明"
    REJECTED = "rejected", "不予支持"


class SkipLevelTarget(models.TextChoices):
    CITY = "city", "到市"
    PROVINCE = "province", "到省"
    BEIJING = "beijing", "进京"


class Petition(models.Model):
    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.CASCADE, related_name="petition", verbose_name="事项"
    )
    request = models.TextField("信访诉求", blank=True)
    petitioner = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="petitions",
        verbose_name="信访人",
    )
    handling_unit = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="petitions",
        verbose_name="责任单位",
    )

    acceptance = models.CharField(
        "受理情况", max_length=16, choices=Acceptance.choices, default=Acceptance.PENDING
    )
    acceptance_note = models.TextField("受理/不予受理说明", blank=True)
    decided_at = models.DateTimeField("受理决定时间", null=True, blank=True)

    handed_over_at = models.DateTimeField("转送交办时间", null=True, blank=True)
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="签收人",
    )

    # The one extension the regulation allows (第三十二条: up to 30 days, approved by the head).
    extension_days = models.PositiveSmallIntegerField("延期天数", default=0)
    extension_reason = models.TextField("延期理由", blank=True)
    extension_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="延期批准人",
    )
    extended_at = models.DateTimeField("延期时间", null=True, blank=True)

    answer_outcome = models.CharField("处理意见", max_length=16, choices=AnswerOutcome.choices, blank=True)
    answer_text = models.TextField("答复意见", blank=True)
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    review_requested_at = models.DateTimeField("申请复查时间", null=True, blank=True)
    review_reason = models.TextField("复查请求", blank=True)
    review_outcome = models.CharField("复查意见", max_length=16, choices=AnswerOutcome.choices, blank=True)
    review_text = models.TextField("复查意见书", blank=True)
    reviewed_at = models.DateTimeField("复查时间", null=True, blank=True)
    re_review_requested_at = models.DateTimeField("申请复核时间", null=True, blank=True)
    re_review_reason = models.TextField("复核请求", blank=True)
    re_review_outcome = models.CharField("复核意见", max_length=16, choices=AnswerOutcome.choices, blank=True)
    re_review_text = models.TextField("复核意见书", blank=True)
    re_reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)

    skip_level_to = models.CharField("越级去向", max_length=16, choices=SkipLevelTarget.choices, blank=True)
    skip_level_at = models.DateTimeField("越级时间", null=True, blank=True)
    skip_level_reported_by = models.CharField("通报机关", max_length=100, blank=True)

    is_key = models.BooleanField("重点件", default=False)
    key_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="key_petitions",
        verbose_name="督办领导",
    )
    key_reason = models.CharField("重点件原因", max_length=300, blank=True)

    # Fusion keys, copied from the case and its petitioner when the petition is written, so the
    # candidate search (petitions.fusion) reads one table through petition_fusion_*_idx:
    # keyed hashes of the numbers (never the numbers), the village-level place, the time and the
    # normalized text of the matter (GIN trigram index on PostgreSQL, migration 0002).
    channel = models.CharField("来源渠道", max_length=20, choices=Channel.choices, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    person_key = models.CharField(max_length=64, blank=True, editable=False)
    place = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )  # the village (or the most specific place above a grid)
    town = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    reported_at = models.DateTimeField("反映时间", editable=False)
    fusion_text = models.TextField(blank=True, editable=False)  # fusion.shingles(): character bigrams
    fusion_numbers = models.CharField(max_length=200, blank=True, editable=False)  # fusion.numbers_of()
    category = models.CharField(max_length=20, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["fusion_text", "fusion_numbers"], no_db_index=IndexOnly("case"))
    JURISDICTION = PETITION_JURISDICTION

    class Meta:
        verbose_name = "信访件"
        verbose_name_plural = "信访件"
        indexes = [
            models.Index(fields=["phone_hash", "reported_at"], name="petition_fusion_phone_idx"),
            models.Index(fields=["person_key", "reported_at"], name="petition_fusion_person_idx"),
            models.Index(fields=["place", "reported_at"], name="petition_fusion_place_idx"),
            models.Index(fields=["reported_at"], name="petition_reported_idx"),
        ]

    def __str__(self) -> str:
        return str(self.case)


class FlagKind(models.TextChoices):
    GROUP = "group", "集体访"
    SKIP_LEVEL = "skip_level", "越级访"
    REPEATED = "repeated", "重复信访"
    CLOSED_MATTER = "closed_matter", "已办结事项"
    MULTI_CHANNEL = "multi_channel", "多渠道重复反映"
    FINAL = "final", "复核终结"


class PetitionFlag(models.Model):
    """A special kind, flagged automatically with the reason users read on the petition page."""

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="flags", verbose_name="信访件"
    )
    kind = models.CharField("类型", max_length=20, choices=FlagKind.choices)
    reason = models.CharField("原因", max_length=300)
    related_case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="相关事项"
    )
    created_at = models.DateTimeField("标记时间")

    class Meta:
        verbose_name = "信访标记"
        verbose_name_plural = "信访标记"
        constraints = [models.UniqueConstraint(fields=["petition", "kind"], name="petition_flag_once")]
        indexes = [models.Index(fields=["kind", "created_at"], name="petition_flag_kind_idx")]


class SupervisionKind(models.TextChoices):
    ACK_OVERDUE = "ack_overdue", "逾期未签收督办"
    OVERDUE = "overdue", "超期督办"
    MANUAL = "manual", "督办"
    KEY = "key", "重点件领导督办"


class Supervision(models.Model):
    """督办: a supervision notice on a petition and the unit's feedback (反馈)."""

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="supervisions", verbose_name="信访件"
    )
    kind = models.CharField("类型", max_length=16, choices=SupervisionKind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="督办人",
    )
    note = models.TextField("督办意见")
    step_no = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField("督办时间")
    feedback = models.TextField("反馈情况", blank=True)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="反馈人",
    )
    feedback_at = models.DateTimeField("反馈时间", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "督办记录"
        verbose_name_plural = "督办记录"
        ordering = ["created_at", "id"]
        constraints = [
            # The sweep's hook writes one automatic supervision per (petition, kind, step).
            models.UniqueConstraint(
                fields=["petition", "kind", "step_no"],
                condition=~Q(kind="manual"),
                name="supervision_auto_once",
            ),
        ]


# --------------------------------------------------------------------------------------------
# Channel imports
# --------------------------------------------------------------------------------------------


class ImportSource(models.TextChoices):
    HOTLINE_12345 = "hotline_12345", "12345热线工单"
    POLICE_110 = "police_110", "110非警务警情"
    ONLINE = "online", "网上信访件"


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", "已预览"
    RUNNING = "running", "导入中"
    DONE = "done", "已导入"
    FAILED = "failed", "失败"


def import_file_path(instance: ImportBatch, filename: str) -> str:
    return f"petitions/imports/{instance.source}/{filename}"


class ImportBatch(models.Model):
    """One uploaded file: its preview report, then the import of its good rows.

    Idempotent by the source system's record number (Case has a unique (channel, source_ref)):
    importing the same file twice adds nothing the second time.
    """

    source = models.CharField("数据来源", max_length=20, choices=ImportSource.choices)
    file = models.FileField("文件", upload_to=import_file_path, blank=True)
    file_name = models.CharField("文件名", max_length=200)
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="+", verbose_name="导入中心")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="导入人",
    )
    status = models.CharField(
        "状态", max_length=16, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    created_at = models.DateTimeField("上传时间")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    good_rows = models.PositiveIntegerField("有效行", default=0)
    bad_rows = models.PositiveIntegerField("错误行", default=0)
    existing_rows = models.PositiveIntegerField("已导入过", default=0)
    imported_rows = models.PositiveIntegerField("本次导入", default=0)
    fused_rows = models.PositiveIntegerField("疑似重复", default=0)
    # [{"row": 3, "ref": "…", "errors": ["…"], "fields": {"phone": "…"}}]
    errors = models.JSONField("错误明细", default=list, blank=True)
    preview = models.JSONField("预览", default=list, blank=True)  # the first good rows, as parsed
    message = models.TextField("说明", blank=True)

    JURISDICTION = Jurisdiction(path="center__region__path", center="center")

    class Meta:
        verbose_name = "渠道数据导入"
        verbose_name_plural = "渠道数据导入"
        ordering = ["-created_at", "-id"]


# --------------------------------------------------------------------------------------------
# Data fusion
# --------------------------------------------------------------------------------------------


class MatchStatus(models.TextChoices):
    SUGGESTED = "suggested", "待研判"
    MERGED = "merged", "已合并"
    LINKED = "linked", "已关联"
    DISMISSED = "dismissed", "非同一事项"


class FusionMatch(models.Model):
    """A suggested pair "same matter through another channel": `case` arrived after `other`."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="fusion_matches", verbose_name="新记录"
    )
    other = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+", verbose_name="已有记录")
    score = models.FloatField("相似度")
    text_similarity = models.FloatField("文本相似度")
    same_person = models.BooleanField("同一人", default=False)
    same_place = models.BooleanField("同一地点", default=False)
    hours_apart = models.FloatField("时间差（小时）")
    method = models.CharField("比对方法", max_length=16)  # pg_trgm / rapidfuzz
    reasons = models.JSONField("依据", default=list)
    status = models.CharField(
        "状态", max_length=16, choices=MatchStatus.choices, default=MatchStatus.SUGGESTED
    )
    created_at = models.DateTimeField("发现时间")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="研判人",
    )
    decided_at = models.DateTimeField("研判时间", null=True, blank=True)

    JURISDICTION = Jurisdiction(
        path="case__region_path",
        center="case__owning_center",
        unit="case__owning_unit",
        perm_model="cases.CaseUserObjectPermission",
        perm_target="case_id",
    )

    class Meta:
        verbose_name = "疑似重复"
        verbose_name_plural = "疑似重复"
        constraints = [models.UniqueConstraint(fields=["case", "other"], name="fusion_match_once")]
        indexes = [models.Index(fields=["status", "created_at"], name="fusion_match_status_idx")]


# --------------------------------------------------------------------------------------------
# Documents (信访文书): issued, stored with the record, each one IS a transition of the flow
# --------------------------------------------------------------------------------------------


class DocumentKind(models.TextChoices):
    ACCEPTANCE = "acceptance", "受理告知书"
    DECLINE = "decline", "不予受理告知书"
    LITIGATION = "litigation", "不予受理告知书（导入诉讼程序）"
    HAND_OVER = "hand_over", "信访事项转送交办单"
    ANSWER = "answer", "信访事项处理意见书"
    REVIEW = "review", "信访事项复查意见书"
    RE_REVIEW = "re_review", "信访事项复核意见书"


def document_file_path(instance: PetitionDocument, filename: str) -> str:
    return f"petitions/documents/{instance.petition_id}/{filename}"


class PetitionDocument(models.Model):
    """One issued document: its number, its legal date (`issued_at`, the same instant the transition
    it performed was recorded at: the clock it started or stopped reads this date), the text it
    states, and the PDF generated from the record when it was issued (never regenerated)."""

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="documents", verbose_name="信访件"
    )
    kind = models.CharField("文书", max_length=16, choices=DocumentKind.choices)
    number = models.CharField("文号", max_length=64, unique=True)
    issued_at = models.DateTimeField("出具日期")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="出具人"
    )
    issuing_center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="+", verbose_name="出具机关"
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="承办单位"
    )
    reason = models.TextField("理由/意见", blank=True)
    remedy = models.TextField("救济途径", blank=True)
    outcome = models.CharField("处理意见", max_length=16, choices=AnswerOutcome.choices, blank=True)
    step_no = models.PositiveIntegerField("环节序号")
    file = models.FileField("PDF", upload_to=document_file_path)
    history = HistoricalRecords()

    JURISDICTION = Jurisdiction(
        path="petition__case__region_path",
        center="petition__case__owning_center",
        unit="petition__case__owning_unit",
        perm_model="cases.CaseUserObjectPermission",
        perm_target="petition_id",
    )

    class Meta:
        verbose_name = "信访文书"
        verbose_name_plural = "信访文书"
        ordering = ["issued_at", "id"]
        indexes = [models.Index(fields=["petition", "kind"], name="petition_document_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"
