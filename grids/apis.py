"""REST endpoints of grids, collected under /api/v1/ by zongzhi.api.

    GET  /api/v1/hazards/                    hazards found by grid workers, in the case's write order
    GET  /api/v1/hazards/{case id}/          one hazard
    POST /api/v1/hazards/{case id}/assign/   交办整改 to a responsible unit   (grids.services.hazard_assign)
    POST /api/v1/hazards/{case id}/verify/   核查销号                          (grids.services.hazard_verify)
    POST /api/v1/hazards/{case id}/reject/   核查未通过，退回整改               (grids.services.hazard_reject)
    GET  /api/v1/visits/                     grid workers' household visits (入户走访), in write order
    GET  /api/v1/visits/{id}/                one visit

Hazards and visits are reported on the grid worker's phone pages; the disputes they report come
in as cases (/api/v1/cases/?channel=grid; a visit names the case it led to).
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.routers import SimpleRouter

from apiauth.fields import DateTimeFilter
from cases.apis import CaseSerializer, KindActionSerializer, KindViewSetMixin, kind_action
from cases.models import Status
from cases.selectors import transfer_units
from centers.jurisdiction import get_for_user_or_404, restrict
from centers.models import Unit

from . import services
from .models import Hazard, HazardType, HouseholdVisit, Severity, VisitFinding

TAG = "网格 grids"


class HazardSerializer(serializers.ModelSerializer):
    case = CaseSerializer(read_only=True, help_text="隐患所属的事项（受理编号、状态、时限、预警等）")
    responsible_unit_name = serializers.CharField(
        source="responsible_unit.name", read_only=True, allow_null=True, default=None, help_text="整改责任单位名称"
    )

    class Meta:
        model = Hazard
        fields = [
            "case", "hazard_type", "severity", "responsible_unit", "responsible_unit_name", "requirement",
            "rectification", "rectified_at", "verified_at", "rejections",
        ]
        read_only_fields = fields


class HazardFilter(django_filters.FilterSet):
    updated_since = DateTimeFilter(field_name="case__updated_at", lookup_expr="gte", label="只返回此时间（含）之后更新过的隐患")
    hazard_type = django_filters.MultipleChoiceFilter(choices=HazardType.choices, label="隐患类型（可多选）")
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, label="严重程度（可多选）")
    status = django_filters.MultipleChoiceFilter(field_name="case__status", choices=Status.choices, label="状态（可多选）")

    class Meta:
        model = Hazard
        fields: list[str] = []


class AssignIn(KindActionSerializer):
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.none(), help_text="整改责任单位 ID（本辖区的职能部门）",
        error_messages={"does_not_exist": "不能交办给部门 {pk_value}。"},
    )
    requirement = serializers.CharField(max_length=5000, help_text="整改要求")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case, request = self.context.get("case"), self.context.get("request")
        if case is not None and request is not None:
            self.fields["unit"].queryset = transfer_units(case, request.user)


class VerifyIn(KindActionSerializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="", help_text="核查情况")


class RejectIn(KindActionSerializer):
    comment = serializers.CharField(max_length=2000, help_text="核查未通过的原因")


@extend_schema_view(
    list=extend_schema(
        summary="安全隐患列表（增量同步）", tags=[TAG],
        description="辖区内网格员上报的安全隐患，按所属事项的写入顺序游标分页，用法同事项列表。",
    ),
    retrieve=extend_schema(summary="安全隐患详情", tags=[TAG], description="路径中的 ID 为所属事项的 ID；ETag 为事项版本号。"),
)
class HazardViewSet(KindViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = HazardSerializer
    detail_serializer_class = HazardSerializer
    filterset_class = HazardFilter

    def base_queryset(self):
        return Hazard.objects.select_related(
            "case__region", "case__town", "case__owning_center", "case__owning_unit", "responsible_unit"
        )


for _name, _label, _desc, _ser, _run in [
    ("assign", "交办整改", "交办给整改责任单位，由其负责整改与时限", AssignIn,
     lambda *, obj, by, data, version: services.hazard_assign(
         hazard=obj, by=by, unit=data["unit"], requirement=data["requirement"], expected_version=version)),
    ("verify", "核查销号", "网格员现场核查整改，通过后销号", VerifyIn,
     lambda *, obj, by, data, version: services.hazard_verify(
         hazard=obj, by=by, comment=data["comment"], expected_version=version)),
    ("reject", "核查未通过", "核查未通过，退回责任单位重新整改（新的时限）", RejectIn,
     lambda *, obj, by, data, version: services.hazard_reject(
         hazard=obj, by=by, comment=data["comment"], expected_version=version)),
]:
    setattr(
        HazardViewSet, _name,
        kind_action(name=_name, label=_label, description=_desc, serializer=_ser, run=_run,
                    response=HazardSerializer, tag=TAG),
    )


class VisitSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code", read_only=True, help_text="网格的区划代码")
    grid_name = serializers.CharField(source="grid.name", read_only=True, help_text="网格名称")
    worker_name = serializers.CharField(source="worker.display_name", read_only=True, help_text="走访人")
    has_photo = serializers.SerializerMethodField(help_text="是否附有现场照片")

    class Meta:
        model = HouseholdVisit
        fields = [
            "id", "grid", "grid_name", "worker_name", "visited_at", "household", "address", "finding", "notes",
            "has_photo", "case", "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"case": {"help_text": "走访中发现并上报的事项 ID（没有时为 null）"}}

    def get_has_photo(self, visit: HouseholdVisit) -> bool:
        return bool(visit.photo)


class VisitFilter(django_filters.FilterSet):
    visited_since = DateTimeFilter(field_name="visited_at", lookup_expr="gte", label="走访时间不早于")
    visited_before = DateTimeFilter(field_name="visited_at", lookup_expr="lt", label="走访时间早于")
    finding = django_filters.MultipleChoiceFilter(choices=VisitFinding.choices, label="走访结果（可多选）")
    grid = django_filters.CharFilter(field_name="grid__code", label="网格的区划代码")

    class Meta:
        model = HouseholdVisit
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(
        summary="入户走访（增量同步）", tags=[TAG],
        description="辖区内网格员的入户走访记录，按写入顺序游标分页，用法同事项列表（走访关联上报事项时会再次出现）。",
    ),
    retrieve=extend_schema(summary="入户走访详情", tags=[TAG]),
)
class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    cursor_keys = ("sync_txid", "id")
    synced = True
    lookup_value_regex = "[0-9]+"

    def base_queryset(self):
        return HouseholdVisit.objects.select_related("grid", "worker")

    def get_queryset(self):
        return restrict(self.base_queryset(), self.request.user)

    def get_object(self) -> HouseholdVisit:
        visit = get_for_user_or_404(self.base_queryset(), self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, visit)
        return visit


router = SimpleRouter()
router.register("hazards", HazardViewSet, basename="hazard")
router.register("visits", VisitViewSet, basename="visit")
urlpatterns: list = []
