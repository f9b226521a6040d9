"""The API's filter backend: django-filter, skipped when the request names none of the filters.

A town system's sync pulls the feed with only a cursor; building the FilterSet and its form (a deep
copy of every filter, a validation pass) on each such page costs as much as reading the page. With
no filter parameter, a FilterSet without defaults returns the queryset unchanged, so skipping it
changes nothing.
"""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
