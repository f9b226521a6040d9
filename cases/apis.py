"""REST endpoints of cases, collected under /api/v1/ by zongzhi.api.

    GET   /api/v1/cases/                     the cases in the caller's jurisdiction, in write order
    POST  /api/v1/cases/                     register (idempotent: `external_id` or Idempotency-Key)
    GET   /api/v1/cases/{id}/                one case (ETag = version; If-None-Match → 304)
    PATCH /api/v1/cases/{id}/                edit its facts (If-Match or `version` required)
    POST  /api/v1/cases/{id}/{action}/       accept, assign, start, pause, resume, resolve, fail,
                                             close, escalate, transfer, take_over, reopen, extend,
                                             comment — the same services as the case page
    GET   /api/v1/cases/{id}/timeline/       the case's timeline
    GET   /api/v1/timeline/                  every timeline entry in the jurisdiction, in write order

Every list goes through `restrict`, every object through `get_for_user_or_404` (404 for "not
there" and "not yours" alike); writes go through `cases.services`, never through the ORM here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from apiauth.errors import conflict, precondition_failed, register_domain_error
from apiauth.fields import DateTimeField, DateTimeFilter
from apiauth.idempotency import REPLAYED_HEADER, idempotent
from apiauth.views import IDEMPOTENCY_KEY, IF_MATCH, VersionField, etag_of, expected_version
from centers.jurisdiction import get_for_user_or_404, restrict
from centers.models import Region, Role
from centers.selectors import roles_of

from . import lifecycle, selectors, services
from .forms import validate_id_number, validate_phone
from .models import (
    AssignmentRole,
    Case,
    CaseKind,
    Category,
    Channel,
    Level,
    PartyRole,
    PersonKind,
    Satisfaction,
    Status,
    TimelineEntry,
    WarningLevel,
)
from .services import EDITABLE_FIELDS, NotAllowed, StaleEdit

register_domain_error(NotAllowed, status.HTTP_403_FORBIDDEN, "permission_denied")
register_domain_error(StaleEdit, status.HTTP_409_CONFLICT, "conflict")

# Who may register through the API: the roles that register on the page, and API client accounts.
CREATE_ROLES = frozenset({Role.DISPATCHER, Role.CENTER_LEADER, Role.WINDOW_CLERK, Role.HALL_SUPERVISOR, Role.API_CLIENT})
# Kinds registered here; petitions and hazards have their own endpoints (they need their detail row).
API_KINDS = [
    (k.value, k.label)
    for k in (
        CaseKind.DISPUTE, CaseKind.LAW_LITIGATION, CaseKind.CONSULTATION, CaseKind.LEGAL_AID,
        CaseKind.COUNSELLING, CaseKind.ON_THE_SPOT, CaseKind.JOINT,
    )
]
CASE_TAG = "事项 cases"
TIMELINE_TAG = "办理记录 timeline"


# ============================================================================================
# Serializers
# ============================================================================================


@extend_schema_field(OpenApiTypes.STR)
class RegionCodeField(serializers.SlugRelatedField):
    """A place by its administrative code (区划代码), limited to the caller's jurisdiction."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault(
            "error_messages",
            {"does_not_exist": "没有区划代码为 {value} 的地点，或它不在您的辖区内。", "invalid": "区划代码无效。"},
        )
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return restrict(Region.objects.all(), request.user if request else None)


class PartyInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="当事人姓名或单位名称")
    role = serializers.ChoiceField(choices=PartyRole.choices, default=PartyRole.APPLICANT, help_text="身份")
    kind = serializers.ChoiceField(choices=PersonKind.choices, default=PersonKind.INDIVIDUAL, help_text="自然人或单位")
    id_number = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="",
        help_text="18 位居民身份证号码，或单位的统一社会信用代码；加密存储，响应中只返回掩码",
    )
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="", help_text="手机号或带区号的座机；加密存储"
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="", help_text="住址")

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("请填写当事人姓名或单位名称。")
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        if data.get("id_number"):
            try:
                data["id_number"] = validate_id_number(data["id_number"], data.get("kind") or PersonKind.INDIVIDUAL)
            except DjangoValidationError as exc:
                errors["id_number"] = exc.messages
        if data.get("phone"):
            try:
                data["phone"] = validate_phone(data["phone"])
            except DjangoValidationError as exc:
                errors["phone"] = exc.messages
        if errors:
            raise serializers.ValidationError(errors)
        return data


class PartyOutSerializer(serializers.Serializer):
    name = serializers.CharField(source="person.name", help_text="姓名或单位名称")
    role = serializers.CharField(help_text="身份：applicant 申请人 / respondent 被申请人 / party 当事人 / representative 代表 / third 第三人")
    kind = serializers.CharField(source="person.kind", help_text="individual 自然人 / organisation 单位")
    id_number_masked = serializers.CharField(source="person.id_number_masked", help_text="证件号（掩码）")
    phone_masked = serializers.CharField(source="person.phone_masked", help_text="电话（掩码）")


class CaseSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.code", read_only=True, help_text="发生地区划代码")
    region_name = serializers.CharField(source="region.name", read_only=True, help_text="发生地名称")
    town = serializers.CharField(source="town.code", read_only=True, allow_null=True, default=None, help_text="所属乡镇区划代码")
    owning_center_name = serializers.CharField(source="owning_center.name", read_only=True, help_text="责任中心名称")
    owning_unit_name = serializers.CharField(
        source="owning_unit.name", read_only=True, allow_null=True, default=None, help_text="责任部门名称"
    )
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, allow_blank=True, read_only=True, help_text="回访满意度（未回访时为空字符串）"
    )

    class Meta:
        model = Case
        fields = [
            "id", "tracking_no", "external_id", "source_ref", "kind", "channel", "category", "title", "description",
            "region", "region_name", "town", "address", "occurred_at", "amount", "people_count", "has_casualty",
            "petition_risk", "failed_mediations", "risk_note", "level", "owning_center", "owning_center_name",
            "owning_unit", "owning_unit_name", "status", "phase", "warning_level", "warning_reasons", "step_no",
            "due_at", "yellow_at", "paused_at", "created_at", "updated_at", "accepted_at", "resolved_at",
            "closed_at", "result", "satisfaction", "closed_on_time", "merged_into", "version",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "事项 ID"},
            "tracking_no": {"help_text": "受理编号（县代码-年-序号）"},
            "external_id": {"help_text": "客户端登记时提供的 UUID"},
            "version": {"help_text": "版本号：每次修改加一；也是 ETag"},
            "warning_reasons": {"help_text": "预警原因（中文）"},
            "due_at": {"help_text": "本环节期限"},
            "owning_center": {"help_text": "责任中心 ID"},
            "owning_unit": {"help_text": "责任部门 ID"},
            "merged_into": {"help_text": "已合并到的事项 ID"},
        }


# The list's rows straight from `.values()`: a page of 50 cases with four related objects each
# is 250 model instances, and building them costs more than everything else the list does. The
# output is CaseSerializer's exactly (tests/api/test_cases.py compares the two); the formatting
# of times and amounts is DRF's own fields'.
_FLAT = {
    "region": "region__code", "region_name": "region__name", "town": "town__code",
    "owning_center": "owning_center_id", "owning_center_name": "owning_center__name",
    "owning_unit": "owning_unit_id", "owning_unit_name": "owning_unit__name", "merged_into": "merged_into_id",
}
_TIMES = ("occurred_at", "due_at", "yellow_at", "paused_at", "created_at", "updated_at", "accepted_at",
          "resolved_at", "closed_at")


def case_list_values(qs):
    """`qs` as dicts holding what `case_rows` needs (and the sync key)."""
    columns = [_FLAT.get(f, f) for f in CaseSerializer.Meta.fields]
    return qs.values(*columns, "sync_txid")


def _iso(value: dt.datetime, tz: Any) -> str:
    """DRF's DateTimeField output (ISO 8601 in the current time zone, "Z" for UTC), without its
    per-value lookups of the current time zone."""
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def case_rows(rows) -> list[dict[str, Any]]:
    tz = timezone.get_current_timezone()
    money = serializers.DecimalField(max_digits=14, decimal_places=2)
    out = []
    for row in rows:
        item = {}
        for name in CaseSerializer.Meta.fields:
            value = row[_FLAT.get(name, name)]
            if value is not None:
                if name in _TIMES:
                    value = _iso(value, tz)
                elif name == "amount":
                    value = money.to_representation(value)
                elif name == "external_id":
                    value = str(value)
            item[name] = value
        out.append(item)
    return out


class CaseDetailSerializer(CaseSerializer):
    parties = PartyOutSerializer(many=True, read_only=True, help_text="当事人（证件号、电话只返回掩码）")
    allowed_actions = serializers.SerializerMethodField(help_text="当前账户可以对该事项执行的操作")

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "parties", "allowed_actions"]
        read_only_fields = fields

    def get_allowed_actions(self, case: Case) -> list[str]:
        request = self.context["request"]
        return [t.action for t in lifecycle.allowed_actions(request.user, case) if t.action in CASE_ACTIONS]


def _not_in_future(value):
    if value and value > timezone.now() + dt.timedelta(minutes=5):
        raise serializers.ValidationError("发生时间不能晚于现在。")
    return value


class CaseCreateSerializer(serializers.Serializer):
    external_id = serializers.UUIDField(
        required=False, allow_null=True,
        help_text="客户端为该事项生成的 UUID。用同一个 UUID 重发只会登记一次，并返回已登记的事项（200）。",
    )
    source_ref = serializers.CharField(max_length=64, required=False, allow_blank=True, default="", help_text="来源系统编号")
    kind = serializers.ChoiceField(choices=API_KINDS, default=CaseKind.DISPUTE, help_text="事项类型（信访、隐患请用各自的接口）")
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.LOWER_CENTER, help_text="来源渠道，默认 下级中心上报")
    category = serializers.ChoiceField(choices=Category.choices, help_text="纠纷类别")
    title = serializers.CharField(max_length=200, help_text="事项摘要")
    description = serializers.CharField(required=False, allow_blank=True, default="", help_text="事项详情")
    region = RegionCodeField(help_text="发生地的区划代码（村/社区或网格），须在本账户辖区内")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="", help_text="详细地址")
    occurred_at = DateTimeField(required=False, allow_null=True, default=None, help_text="发生时间")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, default=None,
        help_text="涉及金额（元）",
    )
    people_count = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1, help_text="涉及人数")
    has_casualty = serializers.BooleanField(default=False, help_text="有人员伤亡（红色预警）")
    petition_risk = serializers.BooleanField(default=False, help_text="有越级上访苗头或事实（红色预警）")
    risk_note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="", help_text="风险迹象（黄色预警）")
    parties = PartyInSerializer(many=True, required=False, default=list, max_length=30, help_text="当事人")

    def validate_title(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("请填写事项摘要。")
        return value

    def validate_occurred_at(self, value):
        return _not_in_future(value)


class CaseUpdateSerializer(serializers.Serializer):
    version = VersionField()
    title = serializers.CharField(max_length=200, required=False, help_text="事项摘要")
    description = serializers.CharField(required=False, allow_blank=True, help_text="事项详情")
    category = serializers.ChoiceField(choices=Category.choices, required=False, help_text="纠纷类别")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="详细地址")
    occurred_at = DateTimeField(required=False, allow_null=True, help_text="发生时间")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, help_text="涉及金额（元）"
    )
    people_count = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, help_text="涉及人数")
    has_casualty = serializers.BooleanField(required=False, help_text="有人员伤亡")
    petition_risk = serializers.BooleanField(required=False, help_text="有越级上访苗头或事实")
    risk_note = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="风险迹象")
    failed_mediations = serializers.IntegerField(min_value=0, max_value=100, required=False, help_text="调解未成次数")

    def validate_title(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("请填写事项摘要。")
        return value

    def validate_occurred_at(self, value):
        return _not_in_future(value)

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.validated_data.items() if k in EDITABLE_FIELDS}


class ActionSerializer(serializers.Serializer):
    version = VersionField()
    comment = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="",
        help_text="说明（上报、化解、暂停等操作必填）",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        transition = self.context["transition"]
        if transition.needs_comment and not (data.get("comment") or "").strip():
            raise serializers.ValidationError({"comment": [f"「{transition.label}」须填写说明。"]})
        return data


class AssignSerializer(ActionSerializer):
    users = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Case.objects.none(), help_text="承办人的用户 ID（须为责任中心、部门的工作人员或沿线调解员）",
        error_messages={"does_not_exist": "用户 {pk_value} 不能承办该事项。"},
    )
    role = serializers.ChoiceField(choices=AssignmentRole.choices, default=AssignmentRole.HANDLER, help_text="分工")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        case = self.context.get("case")
        if case is not None:
            self.fields["users"].child_relation.queryset = selectors.assignable_users(case)

    def validate_users(self, value: list) -> list:
        if not value:
            raise serializers.ValidationError("请选择承办人。")
        return value


class TransferSerializer(ActionSerializer):
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Case.objects.none(), help_text="转交部门 ID", error_messages={"does_not_exist": "不能转交给部门 {pk_value}。"}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        case, request = self.context.get("case"), self.context.get("request")
        if case is not None and request is not None:
            self.fields["unit"].queryset = selectors.transfer_units(case, request.user)


class CloseSerializer(ActionSerializer):
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, help_text="回访满意度")


class ExtendSerializer(ActionSerializer):
    days = serializers.IntegerField(min_value=1, max_value=90, help_text="延期天数（1–90）")


class CommentSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000, help_text="办理情况")

    def validate_text(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("请填写办理情况。")
        return value.strip()


class TimelineSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(help_text="操作人姓名（系统操作为空）")

    class Meta:
        model = TimelineEntry
        fields = [
            "id", "case", "at", "actor", "action", "summary", "comment", "from_status", "to_status",
            "from_center", "to_center", "step_due_at", "met_deadline", "late_seconds",
        ]
        read_only_fields = fields

    def get_actor(self, entry: TimelineEntry) -> str | None:
        return entry.actor.display_name if entry.actor_id else None


# ============================================================================================
# Actions: the same services as the case page's buttons (cases.views.ACTIONS)
# ============================================================================================


@dataclass(frozen=True)
class ApiAction:
    serializer: type[ActionSerializer]
    run: Callable[..., Case]  # run(case=, by=, data=, version=)
    summary: str


def _simple(service: Callable[..., Case]) -> Callable[..., Case]:
    def run(*, case, by, data, version):
        return service(case=case, by=by, comment=data.get("comment", ""), expected_version=version)

    return run


CASE_ACTIONS: dict[str, ApiAction] = {
    "accept": ApiAction(ActionSerializer, _simple(services.case_accept), "受理"),
    "assign": ApiAction(
        AssignSerializer,
        lambda *, case, by, data, version: services.case_assign(
            case=case, by=by, users=list(data["users"]), role=data["role"], comment=data.get("comment", ""),
            expected_version=version,
        ),
        "交办：指定承办人或调解员",
    ),
    "start": ApiAction(ActionSerializer, _simple(services.case_start), "开始办理"),
    "pause": ApiAction(ActionSerializer, _simple(services.case_pause), "暂停计时（等待法院、当事人等），须说明"),
    "resume": ApiAction(ActionSerializer, _simple(services.case_resume), "恢复计时"),
    "resolve": ApiAction(ActionSerializer, _simple(services.case_resolve), "化解，须说明处理结果"),
    "fail": ApiAction(ActionSerializer, _simple(services.case_fail), "未能化解，须说明"),
    "close": ApiAction(
        CloseSerializer,
        lambda *, case, by, data, version: services.case_close(
            case=case, by=by, satisfaction=data["satisfaction"], comment=data.get("comment", ""),
            expected_version=version,
        ),
        "回访办结",
    ),
    "escalate": ApiAction(ActionSerializer, _simple(services.case_escalate), "上报上级中心（新的时限从上级开始），须说明"),
    "transfer": ApiAction(
        TransferSerializer,
        lambda *, case, by, data, version: services.case_transfer(
            case=case, by=by, unit=data["unit"], comment=data.get("comment", ""), expected_version=version
        ),
        "转交职能部门办理，须说明",
    ),
    "take_over": ApiAction(ActionSerializer, _simple(services.case_take_over), "上级提级办理，须说明"),
    "reopen": ApiAction(ActionSerializer, _simple(services.case_reopen), "重新办理，须说明"),
    "extend": ApiAction(
        ExtendSerializer,
        lambda *, case, by, data, version: services.case_extend(
            case=case, by=by, days=data["days"], comment=data.get("comment", ""), expected_version=version
        ),
        "批准延期，须说明",
    ),
}


# ============================================================================================
# Filters
# ============================================================================================


class CaseFilter(django_filters.FilterSet):
    updated_since = DateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="只返回此时间（含）之后更新过的事项，ISO 8601，如 2026-05-01T08:00:00+08:00"
    )
    created_since = DateTimeFilter(field_name="created_at", lookup_expr="gte", label="登记时间不早于")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt", label="登记时间早于")
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label="状态（可多选）")
    kind = django_filters.MultipleChoiceFilter(choices=CaseKind.choices, label="事项类型（可多选）")
    category = django_filters.MultipleChoiceFilter(choices=Category.choices, label="纠纷类别（可多选）")
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices, label="来源渠道（可多选）")
    warning_level = django_filters.MultipleChoiceFilter(choices=WarningLevel.choices, label="预警颜色（可多选）")
    level = django_filters.ChoiceFilter(choices=Level.choices, label="处置层级")
    region = django_filters.CharFilter(method="in_region", label="区划代码：只返回该地点及其下级的事项")
    owning_center = django_filters.NumberFilter(field_name="owning_center_id", label="责任中心 ID")
    tracking_no = django_filters.CharFilter(field_name="tracking_no", label="受理编号")
    external_id = django_filters.UUIDFilter(field_name="external_id", label="客户端 UUID")
    source_ref = django_filters.CharFilter(field_name="source_ref", label="来源系统编号")

    class Meta:
        model = Case
        fields: list[str] = []

    def in_region(self, queryset, name, value):
        path = Region.objects.filter(code=value).values_list("path", flat=True).first()
        if path is None:
            return queryset.none()
        return queryset.filter(region_path__startswith=path)


class TimelineFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter(field_name="case_id", label="事项 ID")
    since = DateTimeFilter(field_name="at", lookup_expr="gte", label="只返回此时间（含）之后的记录")
    action = django_filters.CharFilter(field_name="action", label="动作，如 escalate")

    class Meta:
        model = TimelineEntry
        fields: list[str] = []


# ============================================================================================
# Views
# ============================================================================================


def _stale(exc: StaleEdit, case_pk: int, via_header: bool):
    current = Case.objects.values_list("version", flat=True).get(pk=case_pk)
    if via_header:
        return precondition_failed(str(exc), current_version=current)
    return conflict(str(exc), current_version=current)


def _with_etag(response: Response, case: Case) -> Response:
    response["ETag"] = etag_of(case.version)
    return response


SYNC_HELP = (
    "按写入顺序分页（游标分页）：保存响应中的 cursor，下次带 ?cursor= 请求，即可取得此后新增或变更的全部事项，"
    "并发写入时也不漏、不重（同一版本只返回一次；被修改的事项会以新版本再次出现）。"
)


@extend_schema_view(
    list=extend_schema(summary="事项列表（增量同步）", description=SYNC_HELP, tags=[CASE_TAG]),
    retrieve=extend_schema(
        summary="事项详情", tags=[CASE_TAG],
        description="响应头 ETag 为版本号；带 If-None-Match 且未变化时返回 304。",
        responses={200: CaseDetailSerializer, 304: OpenApiResponse(description="未变化")},
        parameters=[OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, required=False, description="上次的 ETag")],
    ),
)
class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    cursor_keys = ("sync_txid", "id")
    synced = True
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        qs = Case.objects.select_related("region", "town", "owning_center", "owning_unit")
        return restrict(qs, self.request.user)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(case_list_values(queryset))
        return self.get_paginated_response(case_rows(page))

    def get_object(self) -> Case:
        qs = Case.objects.select_related("region", "town", "owning_center__region", "owning_unit")
        case = get_for_user_or_404(qs, self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, case)
        return case

    def _detail(self, case: Case, *, code: int = status.HTTP_200_OK, headers: dict | None = None) -> Response:
        case = (
            Case.objects.select_related("region", "town", "owning_center__region", "owning_unit")
            .prefetch_related("parties__person")
            .get(pk=case.pk)
        )
        data = CaseDetailSerializer(case, context=self.get_serializer_context()).data
        return _with_etag(Response(data, status=code, headers=headers), case)

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match and etag_of(case.version) in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]:
            return _with_etag(Response(status=status.HTTP_304_NOT_MODIFIED), case)
        return self._detail(case)

    @extend_schema(
        summary="登记事项（幂等）", tags=[CASE_TAG], request=CaseCreateSerializer,
        description="下级中心上报新事项。带 external_id（客户端 UUID）或 Idempotency-Key 头重发时不会重复登记："
        "external_id 已登记过时返回该事项（200）。",
        responses={201: CaseDetailSerializer, 200: CaseDetailSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        user = request.user
        if not (user.is_superuser or roles_of(user) & CREATE_ROLES):
            raise PermissionDenied("您的账户不能登记事项。")
        ser = CaseCreateSerializer(data=request.data, context=self.get_serializer_context())
        ser.is_valid(raise_exception=True)
        d = dict(ser.validated_data)
        external_id = d.pop("external_id", None)
        parties = d.pop("parties", [])
        if external_id is not None:
            existing = self._by_external_id(external_id)
            if existing is not None:
                return self._detail(existing, headers={REPLAYED_HEADER: "true"})
        try:
            with transaction.atomic():
                case = services.case_register_with_parties(
                    by=user, external_id=external_id,
                    parties=[services.PartyInput(**p) for p in parties], **d,
                )
        except IntegrityError:
            # A concurrent request with the same external_id won the race: answer with its case.
            if external_id is not None:
                existing = self._by_external_id(external_id)
                if existing is not None:
                    return self._detail(existing, headers={REPLAYED_HEADER: "true"})
            raise conflict(
                "来源系统编号（source_ref）或外部编号（external_id）已被另一事项使用。",
                errors={"source_ref": ["同一来源渠道下已有相同编号的事项。"]},
            ) from None
        return self._detail(
            case, code=status.HTTP_201_CREATED, headers={"Location": f"{request.path}{case.pk}/"}
        )

    def _by_external_id(self, external_id) -> Case | None:
        if not Case.objects.filter(external_id=external_id).exists():
            return None
        found = restrict(Case.objects.all(), self.request.user).filter(external_id=external_id).first()
        if found is None:
            raise conflict("该 external_id 已被另一事项使用，请为新事项生成新的 UUID。",
                           errors={"external_id": ["已被另一事项使用。"]})
        return found

    @extend_schema(
        summary="修改事项（须带版本）", tags=[CASE_TAG], request=CaseUpdateSerializer,
        description="只修改提交的字段。须带 If-Match 头（读取时的 ETag）或 version 字段："
        "记录已被他人修改时，If-Match 不符返回 412，version 不符返回 409，都不保存；两者都没有返回 428。",
        responses={200: CaseDetailSerializer}, parameters=[IF_MATCH],
    )
    def partial_update(self, request, *args, **kwargs):
        case = self.get_object()
        ser = CaseUpdateSerializer(data=request.data, context=self.get_serializer_context())
        ser.is_valid(raise_exception=True)
        version, via_header = expected_version(
            request, case.version, body_version=ser.validated_data.get("version"), required=True
        )
        try:
            updated = services.case_update(case=case, by=request.user, expected_version=version, **ser.changes())
        except StaleEdit as exc:
            raise _stale(exc, case.pk, via_header) from None
        return self._detail(updated)

    def _act(self, request, name: str) -> Response:
        case = self.get_object()
        spec = CASE_ACTIONS[name]
        transition = lifecycle.TRANSITIONS[name]
        ser = spec.serializer(
            data=request.data, context={**self.get_serializer_context(), "case": case, "transition": transition}
        )
        ser.is_valid(raise_exception=True)
        version, via_header = expected_version(
            request, case.version, body_version=ser.validated_data.get("version"), required=False
        )
        try:
            result = spec.run(case=case, by=request.user, data=ser.validated_data, version=version)
        except StaleEdit as exc:
            raise _stale(exc, case.pk, via_header) from None
        return self._detail(result)

    @extend_schema(
        summary="记录办理情况", tags=[CASE_TAG], request=CommentSerializer, responses={201: TimelineSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def comment(self, request, pk=None):
        case = self.get_object()
        ser = CommentSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        entry = services.case_comment(case=case, by=request.user, text=ser.validated_data["text"])
        return Response(TimelineSerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="事项的办理记录", tags=[TIMELINE_TAG], responses={200: TimelineSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def timeline(self, request, pk=None):
        case = self.get_object()
        qs = TimelineEntry.objects.filter(case=case).select_related("actor")
        page = self.paginator.paginate_queryset(qs, request, view=self)
        return self.paginator.get_paginated_response(TimelineSerializer(page, many=True).data)


def _make_action(name: str, spec: ApiAction):
    transition = lifecycle.TRANSITIONS[name]

    def handler(self, request, pk=None):
        return self._act(request, name)

    handler.__name__ = name
    handler = idempotent(handler)
    handler = extend_schema(
        summary=f"{transition.label}", description=spec.summary + "。与事项页面的按钮调用同一个业务服务，"
        "带 version 或 If-Match 时拒绝基于旧版本的操作。",
        tags=[CASE_TAG], request=spec.serializer, responses={200: CaseDetailSerializer},
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
    )(handler)
    return action(detail=True, methods=["post"], url_path=name.replace("_", "-"), url_name=name)(handler)


for _name, _spec in CASE_ACTIONS.items():
    setattr(CaseViewSet, _name, _make_action(_name, _spec))


@extend_schema_view(
    list=extend_schema(
        summary="办理记录（增量同步）", tags=[TIMELINE_TAG],
        description="辖区内全部事项的办理记录，按写入顺序游标分页，用法同事项列表。",
    ),
)
class TimelineViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = TimelineSerializer
    filterset_class = TimelineFilter
    cursor_keys = ("sync_txid", "id")
    synced = True

    def get_queryset(self):
        return restrict(TimelineEntry.objects.select_related("actor"), self.request.user)


router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("timeline", TimelineViewSet, basename="timeline")
urlpatterns: list = []


# ============================================================================================
# For the kinds' apps (petitions, grids …): their detail rows as resources, in the case's order
# ============================================================================================


class KindActionSerializer(serializers.Serializer):
    """Base of a kind's action request: the version the client saw (optional)."""

    version = VersionField()


class KindViewSetMixin:
    """A list/detail resource over a kind's detail model (1:1 with its Case), synced in the
    case's write order (`case__sync_txid`: a transition stamps the case row it changes)."""

    cursor_keys = ("case__sync_txid", "case_id")
    synced = True
    detail_serializer_class: type[serializers.Serializer]
    # The path's id is the case's id (the same number as /cases/{id}/).
    lookup_field = "case"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9]+"

    def base_queryset(self):  # the detail model's queryset with its case joined
        raise NotImplementedError

    def get_queryset(self):
        return restrict(self.base_queryset(), self.request.user)

    def get_object(self):
        obj = get_for_user_or_404(self.base_queryset(), self.request.user, case_id=self.kwargs["id"])
        self.check_object_permissions(self.request, obj)
        return obj

    def detail_response(self, obj) -> Response:
        fresh = self.base_queryset().get(pk=obj.pk)
        data = self.detail_serializer_class(fresh, context=self.get_serializer_context()).data
        return _with_etag(Response(data), fresh.case)

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        return _with_etag(
            Response(self.detail_serializer_class(obj, context=self.get_serializer_context()).data), obj.case
        )


def kind_action(
    *, name: str, label: str, description: str, serializer: type[serializers.Serializer],
    run: Callable[..., Any], response: type[serializers.Serializer], tag: str,
):
    """A lifecycle action of a kind as `POST …/{case id}/{name}/`: validate, take the version from
    If-Match or the body, call the kind's service (which goes through the case engine) and answer
    the fresh object. Idempotent with an Idempotency-Key, like every POST."""

    def handler(self, request, **kwargs):
        obj = self.get_object()
        ser = serializer(data=request.data, context={**self.get_serializer_context(), "object": obj, "case": obj.case})
        ser.is_valid(raise_exception=True)
        version, via_header = expected_version(
            request, obj.case.version, body_version=ser.validated_data.get("version"), required=False
        )
        try:
            run(obj=obj, by=request.user, data=ser.validated_data, version=version)
        except StaleEdit as exc:
            raise _stale(exc, obj.case_id, via_header) from None
        return self.detail_response(obj)

    handler.__name__ = name
    handler = idempotent(handler)
    handler = extend_schema(
        summary=label, description=description + "。与页面调用同一个业务服务；带 version 或 If-Match 时拒绝基于旧版本的操作。",
        tags=[tag], request=serializer, responses={200: response}, parameters=[IF_MATCH, IDEMPOTENCY_KEY],
    )(handler)
    return action(detail=True, methods=["post"], url_path=name.replace("_", "-"), url_name=name)(handler)
