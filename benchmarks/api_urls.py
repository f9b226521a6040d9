"""The site's URLs plus `/bench/bare/`: the baseline of the API throughput benchmark.

The bare view does the data work the API's list does — the same 50 cases in the same order with
the same columns and joined names — and nothing else: no authentication, no rate limit, no
jurisdiction, no sync horizon, no serializer. The benchmark reports the API list's throughput as
a ratio to this view's, on the same gunicorn.
"""

from django.http import JsonResponse
from django.urls import path

from cases.models import Case
from zongzhi.urls import urlpatterns as site

FIELDS = [
    "id", "tracking_no", "external_id", "source_ref", "kind", "channel", "category", "title", "description",
    "region__code", "region__name", "town__code", "address", "occurred_at", "amount", "people_count",
    "has_casualty", "petition_risk", "failed_mediations", "risk_note", "level", "owning_center_id",
    "owning_center__name", "owning_unit_id", "owning_unit__name", "status", "phase", "warning_level",
    "warning_reasons", "step_no", "due_at", "yellow_at", "paused_at", "created_at", "updated_at", "accepted_at",
    "resolved_at", "closed_at", "result", "satisfaction", "closed_on_time", "merged_into_id", "version",
]


def bare(request):
    rows = list(Case.objects.order_by("sync_txid", "id").values(*FIELDS)[:50])
    return JsonResponse({"results": rows}, json_dumps_params={"ensure_ascii": False})


urlpatterns = [path("bench/bare/", bare), *site]
