"""/healthz: the database, the broker, and that beat has run the sweep recently (zongzhi.health)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from .health import report


def healthz(request: HttpRequest) -> JsonResponse:
    # Anonymous on purpose: load balancers and container health checks call it.
    ok, body = report()
    return JsonResponse(body, status=200 if ok else 503, json_dumps_params={"ensure_ascii": False})


def not_found(request: HttpRequest, exception: Exception | None = None):
    """404 for an unknown URL: the API's error shape under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "not_found", "detail": "没有这个接口地址，或记录不存在。", "errors": {}},
            status=404, json_dumps_params={"ensure_ascii": False},
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
