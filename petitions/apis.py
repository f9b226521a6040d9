"""REST endpoints of petitions, collected under /api/v1/ by zongzhi.api.

`POST /api/v1/petitions/import/` — the channel import for systems (12345, 110, online petition
platforms, or a town center relaying them): the same validation, fusion and idempotency as the
file import. Records use the internal field names or the Chinese column names of
`petitions.imports`; the places must lie in the caller's center's area.

`GET /api/v1/petitions/` and `/petitions/{case id}/`, and the regulation's steps as actions
(accept, decline, hand-over, acknowledge, answer) through `petitions.services`.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.urls import path
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from apiauth.errors import ErrorSerializer
from apiauth.fields import DateTimeFilter
from cases.apis import CaseSerializer, KindActionSerializer, KindViewSetMixin, kind_action
from cases.models import Case, Status
from cases.selectors import transfer_units
from cases.services import NotAllowed
from centers.models import Unit

from . import imports, services
from .models import Acceptance, AnswerOutcome, DocumentKind, ImportSource, Petition, SkipLevelTarget

MAX_RECORDS = 5000


class ImportRequest(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=ImportSource.choices, help_text="hotline_12345 / police_110 / online"
    )
    records = serializers.ListField(child=serializers.DictField(), allow_empty=False, max_length=MAX_RECORDS)
    dry_run = serializers.BooleanField(default=False, help_text="只校验、不导入")


class ImportResponse(serializers.Serializer):
    imported = serializers.IntegerField()
    existing = serializers.IntegerField()
    invalid = serializers.IntegerField()
    fusion_suggestions = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())
    cases = serializers.ListField(child=serializers.DictField())


def _normalize(source: str, record: dict) -> dict:
    """Accept internal field names and the Chinese column names alike."""
    aliases = {imports._header_key(a): f for f, names in imports.COLUMNS[source].items() for a in names}
    out = {}
    for key, value in record.items():
        k = imports._header_key(key)
        field = k if k in imports.FIELDS else aliases.get(k)
        if field:
            out[field] = value
    return out


class PetitionImportView(APIView):
    @extend_schema(
        summary="渠道导入信访事项", tags=["信访 petitions"], request=ImportRequest,
        responses={
            200: ImportResponse,
            400: PolymorphicProxySerializer(
                component_name="ImportRefused", serializers=[ImportResponse, ErrorSerializer],
                resource_type_field_name=None,
            ),
        },
    )
    def post(self, request):
        req = ImportRequest(data=request.data)
        req.is_valid(raise_exception=True)
        source = req.validated_data["source"]
        try:
            center = services.importer_center(request.user)
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        records = [_normalize(source, r) for r in req.validated_data["records"]]
        good, bad = imports.validate(source, records, regions=imports.RegionIndex(center.region))
        errors = [{"index": e.number - 1, "source_ref": e.source_ref, "errors": e.errors} for e in bad]
        result = services.ImportResult()
        if good and not req.validated_data["dry_run"]:
            # A DomainError here answers 400 in the API's error shape (apiauth.errors).
            result = services.import_rows(by=request.user, center=center, source=source, rows=good)
        refs = [r.source_ref for r in good]
        channel = imports.CHANNEL_OF[source]
        cases = [
            {"source_ref": ref, "id": pk, "tracking_no": no}
            for ref, pk, no in Case.objects.filter(Q(channel=channel, source_ref__in=refs)).values_list(
                "source_ref", "pk", "tracking_no"
            )
        ]
        body = {
            "imported": result.imported,
            "existing": result.existing,
            "invalid": len(bad),
            "fusion_suggestions": result.fused,
            "errors": errors,
            "cases": cases,
        }
        code = status.HTTP_400_BAD_REQUEST if bad and not good else status.HTTP_200_OK
        return Response(body, status=code)


# --------------------------------------------------------------------------------------------
# Petitions as a resource: list (synced in the case's write order), detail, the regulation's steps
# --------------------------------------------------------------------------------------------

TAG = "信访 petitions"


class PetitionSerializer(serializers.ModelSerializer):
    case = CaseSerializer(read_only=True, help_text="信访件所属的事项（受理编号、状态、时限、预警等）")
    petitioner_name = serializers.CharField(
        source="petitioner.name", read_only=True, allow_null=True, default=None, help_text="信访人姓名"
    )
    handling_unit_name = serializers.CharField(
        source="handling_unit.name", read_only=True, allow_null=True, default=None, help_text="责任单位名称"
    )
    answer_outcome = serializers.ChoiceField(choices=AnswerOutcome.choices, allow_blank=True, read_only=True, help_text="处理意见")
    review_outcome = serializers.ChoiceField(choices=AnswerOutcome.choices, allow_blank=True, read_only=True, help_text="复查意见")
    re_review_outcome = serializers.ChoiceField(
        choices=AnswerOutcome.choices, allow_blank=True, read_only=True, help_text="复核意见"
    )
    skip_level_to = serializers.ChoiceField(
        choices=SkipLevelTarget.choices, allow_blank=True, read_only=True, help_text="越级去向"
    )

    class Meta:
        model = Petition
        fields = [
            "case", "request", "petitioner_name", "handling_unit", "handling_unit_name", "acceptance",
            "acceptance_note", "decided_at", "handed_over_at", "acknowledged_at", "extension_days",
            "extension_reason", "extended_at", "answer_outcome", "answer_text", "answered_at", "review_requested_at",
            "review_outcome", "review_text", "reviewed_at", "re_review_requested_at", "re_review_outcome",
            "re_review_text", "re_reviewed_at", "skip_level_to", "skip_level_at", "is_key", "key_reason",
        ]
        read_only_fields = fields


class PetitionFilter(django_filters.FilterSet):
    updated_since = DateTimeFilter(field_name="case__updated_at", lookup_expr="gte", label="只返回此时间（含）之后更新过的信访件")
    acceptance = django_filters.MultipleChoiceFilter(choices=Acceptance.choices, label="受理情况（可多选）")
    status = django_filters.MultipleChoiceFilter(field_name="case__status", choices=Status.choices, label="状态（可多选）")
    is_key = django_filters.BooleanFilter(label="重点件")
    handling_unit = django_filters.NumberFilter(field_name="handling_unit_id", label="责任单位 ID")

    class Meta:
        model = Petition
        fields: list[str] = []


class CommentIn(KindActionSerializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="", help_text="说明")


class DeclineIn(KindActionSerializer):
    reason = serializers.CharField(max_length=2000, help_text="不予受理的理由（告知信访人）")


class HandOverIn(KindActionSerializer):
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.none(), help_text="责任单位 ID（有权处理机关）",
        error_messages={"does_not_exist": "不能转送交办给部门 {pk_value}。"},
    )
    comment = serializers.CharField(max_length=2000, help_text="转送交办说明")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case, request = self.context.get("case"), self.context.get("request")
        if case is not None and request is not None:
            self.fields["unit"].queryset = transfer_units(case, request.user)


class AnswerIn(KindActionSerializer):
    outcome = serializers.ChoiceField(choices=AnswerOutcome.choices, help_text="处理意见")
    text = serializers.CharField(max_length=10000, help_text="答复意见书")


@extend_schema_view(
    list=extend_schema(
        summary="信访件列表（增量同步）", tags=[TAG],
        description="辖区内的信访件，按所属事项的写入顺序游标分页，用法同事项列表。",
    ),
    retrieve=extend_schema(summary="信访件详情", tags=[TAG], description="路径中的 ID 为所属事项的 ID；ETag 为事项版本号。"),
)
class PetitionViewSet(KindViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PetitionSerializer
    detail_serializer_class = PetitionSerializer
    filterset_class = PetitionFilter

    def base_queryset(self):
        return Petition.objects.select_related(
            "case__region", "case__town", "case__owning_center", "case__owning_unit", "petitioner", "handling_unit"
        )


for _name, _label, _desc, _ser, _run in [
    ("accept", "受理", "决定受理（第二十五条：十五日内决定）", CommentIn,
     lambda *, obj, by, data, version: services.petition_document_issue(
         petition=obj, by=by, kind=DocumentKind.ACCEPTANCE, reason=data["comment"],
         expected_version=version).petition),
    ("decline", "不予受理", "决定不予受理并说明理由", DeclineIn,
     lambda *, obj, by, data, version: services.petition_document_issue(
         petition=obj, by=by, kind=DocumentKind.DECLINE, reason=data["reason"],
         expected_version=version).petition),
    ("hand_over", "转送交办", "转送交办给有权处理的责任单位", HandOverIn,
     lambda *, obj, by, data, version: services.petition_document_issue(
         petition=obj, by=by, kind=DocumentKind.HAND_OVER, unit=data["unit"], reason=data["comment"],
         expected_version=version).petition),
    ("acknowledge", "签收", "责任单位签收", CommentIn,
     lambda *, obj, by, data, version: services.petition_acknowledge(
         petition=obj, by=by, comment=data["comment"], expected_version=version)),
    ("answer", "出具处理意见", "责任单位出具处理意见并答复信访人", AnswerIn,
     lambda *, obj, by, data, version: services.petition_document_issue(
         petition=obj, by=by, kind=services.answer_document_kind(obj), outcome=data["outcome"], reason=data["text"],
         expected_version=version).petition),
]:
    setattr(
        PetitionViewSet, _name,
        kind_action(name=_name, label=_label, description=_desc, serializer=_ser, run=_run,
                    response=PetitionSerializer, tag=TAG),
    )


router = SimpleRouter()
router.register("petitions", PetitionViewSet, basename="petition")
urlpatterns = [path("petitions/import/", PetitionImportView.as_view(), name="petition-import")]
