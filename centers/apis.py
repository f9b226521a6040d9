"""Read-only REST endpoints of the place tree, collected under /api/v1/ by zongzhi.api.

    GET /api/v1/regions/          the places in the caller's jurisdiction (county, towns, villages, grids)
    GET /api/v1/regions/{code}/   one place by its administrative code
    GET /api/v1/grids/            the level-4 grid cells in the jurisdiction

A town center's system uses them to map its own place codes to the platform's before it
registers cases (`region` of a case is one of these codes). Pagination, authentication and the
error shape are the API's defaults (apiauth).
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.routers import SimpleRouter

from .jurisdiction import get_for_user_or_404, restrict
from .models import Region, RegionKind

TAG = "辖区 regions"


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField(help_text="上级地点的区划代码（县及以上为空）")
    grid_level = serializers.IntegerField(read_only=True, allow_null=True, help_text="网格层级：县 1、乡镇 2、村 3、网格 4")

    class Meta:
        model = Region
        fields = ["id", "code", "name", "kind", "grid_level", "parent", "depth", "is_urban", "population",
                  "households", "lat", "lng"]
        read_only_fields = fields
        extra_kwargs = {"code": {"help_text": "区划代码（登记事项时的 region）"}, "depth": {"help_text": "在地点树中的深度"}}

    def get_parent(self, region: Region) -> str | None:
        parents = self.context.get("parents")
        parent_path = region.path[: -Region.steplen]
        if not parent_path:
            return None
        if parents is not None and parent_path in parents:
            return parents[parent_path]
        return Region.objects.filter(path=parent_path).values_list("code", flat=True).first()


class RegionFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=RegionKind.choices, label="层级（可多选）")
    under = django_filters.CharFilter(method="in_subtree", label="区划代码：只返回该地点以下（含）的地点")
    parent = django_filters.CharFilter(method="children_of", label="区划代码：只返回该地点的直接下级")
    name = django_filters.CharFilter(field_name="name", lookup_expr="contains", label="名称包含")

    class Meta:
        model = Region
        fields: list[str] = []

    def in_subtree(self, queryset, name, value):
        path = Region.objects.filter(code=value).values_list("path", flat=True).first()
        return queryset.filter(path__startswith=path) if path else queryset.none()

    def children_of(self, queryset, name, value):
        row = Region.objects.filter(code=value).values_list("path", "depth").first()
        if row is None:
            return queryset.none()
        return queryset.filter(path__startswith=row[0], depth=row[1] + 1)


class _RegionBase(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    cursor_keys = ("id",)

    def get_queryset(self):
        return restrict(Region.objects.all(), self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["parents"] = {}
        return context

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        # Parents' codes in one query for the page, not one per row.
        wanted = {r.path[: -Region.steplen] for r in page if len(r.path) > Region.steplen}
        parents = dict(Region.objects.filter(path__in=wanted).values_list("path", "code"))
        context = {**self.get_serializer_context(), "parents": parents}
        return self.get_paginated_response(RegionSerializer(page, many=True, context=context).data)


@extend_schema_view(
    list=extend_schema(summary="辖区内的地点", tags=[TAG], description="县、乡镇（街道）、村（社区）与网格，按 ID 游标分页。"),
    retrieve=extend_schema(summary="按区划代码查地点", tags=[TAG]),
)
class RegionViewSet(mixins.RetrieveModelMixin, _RegionBase):
    lookup_field = "code"
    lookup_value_regex = "[0-9A-Za-z]+"

    def get_object(self) -> Region:
        return get_for_user_or_404(Region.objects.all(), self.request.user, code=self.kwargs["code"])


@extend_schema_view(list=extend_schema(summary="辖区内的网格", tags=[TAG], description="第四级网格（每格约 200–300 户）。"))
class GridViewSet(_RegionBase):
    def get_queryset(self):
        return super().get_queryset().filter(kind=RegionKind.GRID)


router = SimpleRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("grids", GridViewSet, basename="grid")
urlpatterns: list = []
