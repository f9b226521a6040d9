"""The wall display: one region's big screen through a link, without signing in.

Read-only (GET only), never cached, no session: the page, its data and its map answer only for
the link's region, whatever the query string says; a revoked or unknown link is 404. The token
works nowhere else — it is neither a login nor an API token.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import wall

NOT_FOUND = "该大屏链接不存在或已被撤销。"


def _link(request: HttpRequest, token: str, *, page: bool = False):
    link = wall.link_for_token(token)
    if link is None:
        raise Http404(NOT_FOUND)
    if not link.is_active:
        if page:
            wall.access_log(link=link, request=request, what="refused")
        raise Http404(NOT_FOUND)
    return link


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: keep it out of referrers, caches and search engines.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
@never_cache
def screen(request: HttpRequest, token: str) -> HttpResponse:
    from dashboards.views import refresh_seconds

    link = _link(request, token, page=True)
    wall.access_log(link=link, request=request, what="page")
    return _private(
        render(
            request,
            "dashboards/screen.html",
            {
                "root": link.region,
                "roots": [],
                "refresh_seconds": refresh_seconds(),
                "wall": True,
                "data_url": reverse("wall:data", args=[token]),
                "map_url": reverse("wall:map", args=[token]),
            },
        )
    )


@require_GET
@never_cache
def data(request: HttpRequest, token: str) -> JsonResponse:
    from dashboards import selectors

    link = _link(request, token)
    wall.count_request(link)
    payload = selectors.screen_data(wall.viewer_for(link), link.region)
    return _private(JsonResponse(payload, json_dumps_params={"ensure_ascii": False}))


@require_GET
def map_json(request: HttpRequest, token: str) -> JsonResponse:
    from dashboards import geo, selectors

    link = _link(request, token)
    viewer = wall.viewer_for(link)
    response = JsonResponse(
        geo.feature_collection(link.region, selectors.map_regions(viewer, link.region)),
        json_dumps_params={"ensure_ascii": False},
    )
    response["Cache-Control"] = "private, max-age=300"
    return _private(response)
