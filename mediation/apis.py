"""REST endpoints of mediation, collected under /api/v1/ by zongzhi.api.

    GET  /api/v1/mediations/                         mediations in the caller's jurisdiction, in the
                                                     case's write order (incremental sync, as /cases/)
    POST /api/v1/mediations/                         交人民调解: hand a dispute to a mediator (idempotent)
    GET  /api/v1/mediations/{case id}/               one mediation with its sessions, agreement, referral
    POST /api/v1/mediations/{case id}/{action}/      reassign, consent, record-session, draft-agreement,
                                                     sign, fail, follow-up, report, confirmation-apply,
                                                     confirmation-record — mediation.services, as the pages
    GET  /api/v1/mediators/                          the mediators the caller may assign

Every list goes through `restrict`, every object through `get_for_user_or_404` (404 for "not there"
and "not yours" alike); every write through `mediation.services`, which goes through the case engine.
A write on a mediation, its sessions, agreement or referral re-stamps its case (the touch-case
triggers of migration 0003), so the feed carries changes made only to those rows.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.routers import SimpleRouter

from apiauth.errors import ApiError
from apiauth.fields import DateTimeField, DateTimeFilter
from apiauth.idempotency import idempotent
from apiauth.views import IDEMPOTENCY_KEY, VersionField, expected_version
from cases.apis import CaseSerializer, KindActionSerializer, KindViewSetMixin, _stale, kind_action
from cases.models import Case, Satisfaction, Status
from cases.services import StaleEdit
from centers.jurisdiction import restrict
from centers.models import DepartmentKind, Unit
from centers.selectors import county_of

from . import selectors, services
from .models import (
    Agreement,
    AgreementStatus,
    Confirmation,
    ConsentWay,
    Mediation,
    Mediator,
    MediatorGrade,
    MediatorKind,
    Outcome,
    Performance,
    Referral,
    ReferralKind,
    RouteOn,
    Session,
    SessionResult,
)

TAG = "调解 mediations"
MAX_TEXT = 10_000


# ============================================================================================
# Serializers (out)
# ============================================================================================


class SessionSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.display_name", read_only=True, help_text="记录人")

    class Meta:
        model = Session
        fields = ["number", "held_at", "place", "participants", "record", "result", "recorded_by", "recorded_at"]
        read_only_fields = fields
        extra_kwargs = {"number": {"help_text": "第几次调解"}, "record": {"help_text": "调解笔录"}}


class AgreementSerializer(serializers.ModelSerializer):
    confirmation = serializers.ChoiceField(
        choices=Confirmation.choices, allow_blank=True, read_only=True, help_text="司法确认（未申请时为空字符串）"
    )
    confirmation_court_name = serializers.CharField(
        source="confirmation_court.name", read_only=True, allow_null=True, default=None, help_text="受理法院名称"
    )

    class Meta:
        model = Agreement
        fields = [
            "number", "status", "facts", "terms", "amount", "beneficiaries", "performance_way", "performance_due",
            "copies", "drafted_at", "signed_at", "performance", "performed_amount", "followed_up_at",
            "follow_up_note", "confirmation", "confirmation_court", "confirmation_court_name",
            "confirmation_applied_on", "confirmation_decided_on", "confirmation_ref", "confirmation_note",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "number": {"help_text": "协议书编号（签署时编号）"},
            "terms": {"help_text": "协议内容，每行一项"},
        }


class ReferralSerializer(serializers.ModelSerializer):
    referring_unit_name = serializers.CharField(source="referring_unit.name", read_only=True, help_text="委派/移送单位")
    report_outcome = serializers.ChoiceField(
        choices=Outcome.choices, allow_blank=True, read_only=True, help_text="反馈结果（未反馈时为空字符串）"
    )

    class Meta:
        model = Referral
        fields = [
            "kind", "referring_unit", "referring_unit_name", "external_no", "received_at", "deadline",
            "reported_at", "report_outcome", "report_text", "report_due_at", "report_on_time",
        ]
        read_only_fields = fields


class MediationSerializer(serializers.ModelSerializer):
    case = CaseSerializer(read_only=True, help_text="调解所属的事项（受理编号、状态、时限、预警等）")
    committee_name = serializers.CharField(source="committee.name", read_only=True, help_text="调解组织名称")
    mediator_name = serializers.CharField(source="mediator.name", read_only=True, help_text="调解员姓名")
    consent_way = serializers.ChoiceField(
        choices=ConsentWay.choices, allow_blank=True, read_only=True, help_text="调解启动方式（未同意时为空字符串）"
    )
    route_on = serializers.ChoiceField(
        choices=RouteOn.choices, allow_blank=True, read_only=True, help_text="调解不成的分流去向（未分流时为空字符串）"
    )
    route_unit_name = serializers.CharField(
        source="route_unit.name", read_only=True, allow_null=True, default=None, help_text="分流至的单位名称"
    )
    sessions = SessionSerializer(many=True, read_only=True, help_text="调解记录（调解笔录）")
    # A missing one-to-one row reads as null (DRF's attribute lookup answers None for it).
    agreement = AgreementSerializer(read_only=True, allow_null=True, help_text="调解协议书（尚未起草时为 null）")
    referral = ReferralSerializer(
        source="case.referral", read_only=True, allow_null=True, help_text="委派/移送调解的对接信息（非委派件为 null）"
    )

    class Meta:
        model = Mediation
        fields = [
            "case", "committee", "committee_name", "mediator", "mediator_name", "assigned_at", "assignment_note",
            "consent_at", "consent_way", "consent_note", "outcome", "ended_at", "failure_reason", "route_on",
            "route_unit", "route_unit_name", "routed_at", "sessions", "agreement", "referral",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "committee": {"help_text": "调解组织 ID"},
            "mediator": {"help_text": "调解员 ID（见 /api/v1/mediators/）"},
            "outcome": {"help_text": "调解结果：pending 调解中 / success 调解成功 / failed 调解不成"},
        }


class MediatorSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="姓名")
    committee_name = serializers.CharField(source="committee.name", read_only=True, help_text="所属调解组织")
    region = serializers.CharField(source="region.code", read_only=True, help_text="常驻辖区的区划代码")
    kind = serializers.ChoiceField(choices=MediatorKind.choices, read_only=True, help_text="专职/兼职")
    grade = serializers.ChoiceField(choices=MediatorGrade.choices, read_only=True, help_text="等级")
    domains = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="擅长领域（纠纷类别）")

    class Meta:
        model = Mediator
        fields = ["id", "name", "committee", "committee_name", "kind", "grade", "domains", "region", "max_load"]
        read_only_fields = fields


# ============================================================================================
# Serializers (in)
# ============================================================================================


def _stripped(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise serializers.ValidationError(message)
    return value


class MediatorField(serializers.PrimaryKeyRelatedField):
    """A mediator on the roll of a committee the caller may see."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Mediator.objects.none())
        kwargs.setdefault("help_text", "调解员 ID（见 /api/v1/mediators/）")
        kwargs.setdefault("error_messages", {"does_not_exist": "没有 ID 为 {pk_value} 的在册调解员，或您无权分派。"})
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Mediator.objects.none()
        return Mediator.objects.filter(
            is_active=True, committee__in=selectors.committees_for_user(request.user)
        ).select_related("user", "committee", "region")


class MediationCreateIn(serializers.Serializer):
    case = serializers.PrimaryKeyRelatedField(
        queryset=Case.objects.none(), help_text="要交人民调解的事项 ID（纠纷或委派调解件，须在本账户辖区内）",
        error_messages={"does_not_exist": "没有 ID 为 {pk_value} 的事项，或它不在您的辖区内。"},
    )
    mediator = MediatorField()
    version = VersionField()
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="", help_text="说明")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["case"].queryset = restrict(Case.objects.select_related("region"), request.user)


class ReassignIn(KindActionSerializer):
    mediator = MediatorField()
    comment = serializers.CharField(max_length=2000, help_text="更换调解员的理由")

    def validate_comment(self, value: str) -> str:
        return _stripped(value, "更换调解员须说明理由。")


class ConsentIn(KindActionSerializer):
    way = serializers.ChoiceField(choices=ConsentWay.choices, help_text="调解启动方式")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="", help_text="自愿调解说明")


class SessionIn(KindActionSerializer):
    held_at = DateTimeField(help_text="调解时间（调解后记录，不能晚于现在）")
    place = serializers.CharField(max_length=200, help_text="调解地点")
    participants = serializers.CharField(max_length=2000, help_text="参加人员")
    record = serializers.CharField(max_length=MAX_TEXT, help_text="调解笔录")
    result = serializers.ChoiceField(choices=SessionResult.choices, default=SessionResult.CONTINUE, help_text="本次结果")

    def validate_place(self, value: str) -> str:
        return _stripped(value, "请填写调解地点。")

    def validate_participants(self, value: str) -> str:
        return _stripped(value, "请填写参加人员。")

    def validate_record(self, value: str) -> str:
        return _stripped(value, "请填写调解笔录。")


class AgreementIn(KindActionSerializer):
    facts = serializers.CharField(max_length=MAX_TEXT, help_text="纠纷主要事实、争议事项")
    terms = serializers.CharField(max_length=MAX_TEXT, help_text="协议内容，每行一项")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, default=None,
        help_text="协议金额（元）",
    )
    beneficiaries = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0, help_text="受益人数")
    performance_way = serializers.CharField(max_length=200, required=False, allow_blank=True, default="", help_text="履行方式")
    performance_due = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="履行期限（留空为当场履行；不能早于今天）"
    )
    copies = serializers.IntegerField(min_value=2, max_value=10, default=3, help_text="协议书份数（2–10）")

    def validate_facts(self, value: str) -> str:
        return _stripped(value, "请填写纠纷主要事实和争议事项。")

    def validate_terms(self, value: str) -> str:
        if not [t for t in (value or "").splitlines() if t.strip()]:
            raise serializers.ValidationError("请填写协议内容（每行一项）。")
        return value.strip()


class FailIn(KindActionSerializer):
    reason = serializers.CharField(max_length=MAX_TEXT, help_text="调解不成的原因")
    route_on = serializers.ChoiceField(
        choices=RouteOn.choices, default=RouteOn.LITIGATION,
        help_text="分流去向（委派调解件退回委派单位，此项不用）",
    )
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.none(), required=False, allow_null=True, default=None,
        help_text="移送的单位 ID（本县法院、仲裁或行政机关）；不填则告知当事人自行起诉、申请",
        error_messages={"does_not_exist": "不能移送给单位 {pk_value}。"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        case = self.context.get("case")
        if case is not None:
            kinds = {k for ks in services.ROUTE_UNIT_KINDS.values() for k in ks}
            self.fields["unit"].queryset = _county_units(case, kinds)

    def validate_reason(self, value: str) -> str:
        return _stripped(value, "请填写调解不成的原因。")


class FollowUpIn(KindActionSerializer):
    performance = serializers.ChoiceField(
        choices=[(p.value, p.label) for p in (Performance.FULL, Performance.PARTIAL, Performance.NONE)],
        help_text="履行情况",
    )
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, help_text="回访满意度")
    performed_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, default=None,
        help_text="已履行金额（元）",
    )
    note = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="", help_text="回访情况")


class ReportIn(KindActionSerializer):
    text = serializers.CharField(max_length=MAX_TEXT, help_text="向委派/移送单位告知的调解结果")

    def validate_text(self, value: str) -> str:
        return _stripped(value, "请填写结果告知内容。")


# The court's steps come from outside the mediation (the parties, the court): no version to check.
class ConfirmationApplyIn(serializers.Serializer):
    court = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.none(), help_text="受理司法确认的本县人民法院或人民法庭 ID",
        error_messages={"does_not_exist": "{pk_value} 不是本县的人民法院或人民法庭。"},
    )
    applied_on = serializers.DateField(help_text="申请日期（协议生效之日起 30 日内）")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        case = self.context.get("case")
        if case is not None:
            self.fields["court"].queryset = _county_units(case, {DepartmentKind.COURT, DepartmentKind.TRIBUNAL})


class ConfirmationRecordIn(serializers.Serializer):
    confirmed = serializers.BooleanField(help_text="true：裁定确认有效；false：裁定驳回申请")
    decided_on = serializers.DateField(help_text="裁定日期")
    court_ref = serializers.CharField(max_length=60, help_text="法院案号")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="", help_text="裁定说明")

    def validate_court_ref(self, value: str) -> str:
        return _stripped(value, "请填写法院案号。")


def _county_units(case: Case, kinds) -> Any:
    county = county_of(case.region)
    return Unit.objects.filter(region__path__startswith=county.path, is_active=True, kind__in=list(kinds))


# ============================================================================================
# Filters
# ============================================================================================


class MediationFilter(django_filters.FilterSet):
    updated_since = DateTimeFilter(field_name="case__updated_at", lookup_expr="gte", label="只返回此时间（含）之后更新过的调解")
    outcome = django_filters.MultipleChoiceFilter(choices=Outcome.choices, label="调解结果（可多选）")
    status = django_filters.MultipleChoiceFilter(field_name="case__status", choices=Status.choices, label="事项状态（可多选）")
    kind = django_filters.MultipleChoiceFilter(
        field_name="case__kind", choices=[(k.value, k.label) for k in services.MEDIABLE_KINDS],
        label="事项类型：dispute 矛盾纠纷 / referral 委派调解（可多选）",
    )
    referral_kind = django_filters.MultipleChoiceFilter(
        field_name="case__referral__kind", choices=ReferralKind.choices, label="对接类型（可多选）"
    )
    committee = django_filters.NumberFilter(field_name="committee_id", label="调解组织 ID")
    mediator = django_filters.NumberFilter(field_name="mediator_id", label="调解员 ID")

    class Meta:
        model = Mediation
        fields: list[str] = []


# ============================================================================================
# Views
# ============================================================================================


@extend_schema_view(
    list=extend_schema(
        summary="调解列表（增量同步）", tags=[TAG],
        description="辖区内的人民调解（含调解记录、协议、委派信息），按所属事项的写入顺序游标分页，用法同事项列表："
        "调解、调解记录、协议或委派信息的任何修改都会使该调解以最新内容再次出现。",
    ),
    retrieve=extend_schema(summary="调解详情", tags=[TAG], description="路径中的 ID 为所属事项的 ID；ETag 为事项版本号。"),
)
class MediationViewSet(KindViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = MediationSerializer
    detail_serializer_class = MediationSerializer
    filterset_class = MediationFilter
    http_method_names = ["get", "post", "head", "options"]

    def base_queryset(self):
        # The rarer parts come by prefetch: joining them all as well more than doubles the time
        # PostgreSQL takes to plan every page of the feed.
        return Mediation.objects.select_related(
            "case__region", "case__town", "case__owning_center", "case__owning_unit", "committee", "mediator__user",
        ).prefetch_related(
            "sessions__recorded_by", "agreement__confirmation_court", "case__referral__referring_unit", "route_unit"
        )

    @extend_schema(
        summary="交人民调解（幂等）", tags=[TAG], request=MediationCreateIn,
        description="把辖区内的矛盾纠纷（或委派调解件）交给调解员，与调解页面的「交人民调解」调用同一个业务服务。"
        "带 Idempotency-Key 重发只会分派一次。已在调解中的事项请用 reassign 更换调解员。",
        responses={201: MediationSerializer}, parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        ser = MediationCreateIn(data=request.data, context=self.get_serializer_context())
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        case = d["case"]
        if Mediation.objects.filter(pk=case.pk).exists():
            raise _refused({"case": ["该事项已交人民调解；更换调解员请用 reassign。"]})
        version, via_header = expected_version(request, case.version, body_version=d.get("version"), required=False)
        try:
            mediation = services.mediation_assign(
                case=case, by=request.user, mediator=d["mediator"], comment=d["comment"],
                note="接口分派", expected_version=version,
            )
        except StaleEdit as exc:
            raise _stale(exc, case.pk, via_header) from None
        response = self.detail_response(mediation)
        response.status_code = status.HTTP_201_CREATED
        response["Location"] = f"{request.path}{case.pk}/"
        return response


def _refused(errors: dict[str, list[str]]) -> ApiError:
    return ApiError("请求有误。", status_code=status.HTTP_400_BAD_REQUEST, code="invalid", extra={"errors": errors})


MEDIATION_ACTIONS = [
    ("reassign", "更换调解员", "更换调解员（须说明理由），新调解员获得该事项的查看、办理权限", ReassignIn,
     lambda *, obj, by, data, version: services.mediation_assign(
         case=obj.case, by=by, mediator=data["mediator"], comment=data["comment"], note="接口更换",
         expected_version=version)),
    ("consent", "当事人同意调解", "当事人同意调解（人民调解法 第十七条），开始调解", ConsentIn,
     lambda *, obj, by, data, version: services.mediation_consent(
         mediation=obj, by=by, way=data["way"], note=data["note"], expected_version=version)),
    ("record_session", "记录调解", "记录一次调解及调解笔录（时限照常计算）", SessionIn,
     lambda *, obj, by, data, version: services.session_record(
         mediation=obj, by=by, held_at=data["held_at"], place=data["place"], participants=data["participants"],
         record=data["record"], result=data["result"], expected_version=version)),
    ("draft_agreement", "起草调解协议", "起草或修改调解协议书（签署后不能修改）", AgreementIn,
     lambda *, obj, by, data, version: services.agreement_draft(
         mediation=obj, by=by, facts=data["facts"], terms=data["terms"], amount=data["amount"],
         beneficiaries=data["beneficiaries"], performance_way=data["performance_way"],
         performance_due=data["performance_due"], copies=data["copies"], expected_version=version)),
    ("sign", "签署调解协议", "当事人和调解员签署协议，调解成功（有履行期限的，到期后履行回访）", KindActionSerializer,
     lambda *, obj, by, data, version: services.mediation_sign(mediation=obj, by=by, expected_version=version)),
    ("fail", "调解不成", "调解不成（须说明原因），移送法院、仲裁或行政机关，或终止调解", FailIn,
     lambda *, obj, by, data, version: services.mediation_fail(
         mediation=obj, by=by, reason=data["reason"], route_on=data["route_on"], unit=data["unit"],
         expected_version=version)),
    ("follow_up", "履行回访", "回访协议履行情况和满意度，办结", FollowUpIn,
     lambda *, obj, by, data, version: services.mediation_follow_up(
         mediation=obj, by=by, performance=data["performance"], satisfaction=data["satisfaction"],
         note=data["note"], performed_amount=data["performed_amount"], expected_version=version)),
    ("report", "反馈调解结果", "委派调解件：向委派/移送单位反馈调解结果，办结", ReportIn,
     lambda *, obj, by, data, version: _report(obj, by, data, version)),
    ("confirmation_apply", "申请司法确认", "当事人向法院申请司法确认（协议生效之日起 30 日内）", ConfirmationApplyIn,
     lambda *, obj, by, data, version: services.confirmation_apply(
         agreement=_agreement(obj), by=by, court=data["court"], applied_on=data["applied_on"])),
    ("confirmation_record", "登记司法确认结果", "登记法院的裁定：确认有效或驳回申请", ConfirmationRecordIn,
     lambda *, obj, by, data, version: services.confirmation_record(
         agreement=_agreement(obj), by=by, confirmed=data["confirmed"], decided_on=data["decided_on"],
         court_ref=data["court_ref"], note=data["note"])),
]


def _report(obj: Mediation, by, data, version):
    referral = Referral.objects.filter(pk=obj.pk).select_related("case", "referring_unit").first()
    if referral is None:
        raise _refused({"text": ["该调解不是委派/移送调解件，无需反馈。"]})
    return services.referral_report(referral=referral, by=by, text=data["text"], expected_version=version)


def _agreement(obj: Mediation) -> Agreement:
    agreement = Agreement.objects.filter(pk=obj.pk, status=AgreementStatus.SIGNED).first()
    if agreement is None:
        raise _refused({"non_field_errors": ["没有已签署生效的调解协议。"]})
    return agreement


for _name, _label, _desc, _ser, _run in MEDIATION_ACTIONS:
    setattr(
        MediationViewSet, _name,
        kind_action(name=_name, label=_label, description=_desc, serializer=_ser, run=_run,
                    response=MediationSerializer, tag=TAG),
    )


@extend_schema_view(
    list=extend_schema(
        summary="可分派的调解员", tags=[TAG],
        description="本账户可见的调解组织（本辖区及上级服务本辖区的组织）的在册调解员，按 ID 游标分页。",
    ),
)
class MediatorViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = MediatorSerializer
    cursor_keys = ("id",)

    def get_queryset(self):
        return Mediator.objects.filter(
            is_active=True, committee__in=selectors.committees_for_user(self.request.user)
        ).select_related("user", "committee", "region")


router = SimpleRouter()
router.register("mediations", MediationViewSet, basename="mediation")
router.register("mediators", MediatorViewSet, basename="mediator")
urlpatterns: list = []
