"""Pages of the dashboards: the big screen (指挥中心大屏) with its JSON data and generated map,
the reports (日调度/周分析/月研判/季考评) with their Excel and PDF files, and the safety index.

The page is server-rendered once; its script asks the data endpoint again every DASHBOARD_REFRESH_SECONDS
and redraws the charts in place (no reload). Reads go through dashboards.selectors (jurisdiction
gate) and every figure through cases.metrics.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from cases import exports_supervision as xl
from cases import metrics
from cases.assessment import can_edit_weights
from cases.services import export_logged
from centers.jurisdiction import get_for_user_or_404, restrict
from centers.services import DomainError

from . import exports, geo, reports, safety
from . import selectors as sel
from .models import PeriodKind, SafetyIndex, SafetyIndicator


def refresh_seconds() -> int:
    """How often the screen asks for new data (DASHBOARD_REFRESH_SECONDS, default 15)."""
    return int(getattr(settings, "DASHBOARD_REFRESH_SECONDS", 15))


def _no_screen(request: HttpRequest, exc: sel.NoScreen) -> HttpResponse:
    return render(request, "dashboards/no_screen.html", {"message": str(exc)}, status=404)


@login_required
@require_GET
def screen(request: HttpRequest) -> HttpResponse:
    try:
        root = sel.screen_root(request.user, request.GET.get("region"))
    except sel.NoScreen as exc:
        return _no_screen(request, exc)
    return render(
        request,
        "dashboards/screen.html",
        {
            "root": root,
            "roots": sel.screen_roots(request.user),
            "refresh_seconds": refresh_seconds(),
        },
    )


@login_required
@require_GET
@never_cache
def screen_data(request: HttpRequest) -> JsonResponse:
    try:
        root = sel.screen_root(request.user, request.GET.get("region"))
    except sel.NoScreen as exc:
        return JsonResponse({"detail": str(exc)}, status=404)
    return JsonResponse(sel.screen_data(request.user, root), json_dumps_params={"ensure_ascii": False})


@login_required
@require_GET
def screen_map(request: HttpRequest, pk: int) -> JsonResponse:
    try:
        root = sel.screen_root(request.user, pk)
    except sel.NoScreen as exc:
        return JsonResponse({"detail": str(exc)}, status=404)
    resp = JsonResponse(
        geo.feature_collection(root, sel.map_regions(request.user, root)),
        json_dumps_params={"ensure_ascii": False},
    )
    resp["Cache-Control"] = "private, max-age=300"
    return resp


# ============================================================================================
# Reports: 日调度 / 周分析 / 月研判 / 季考评 (page, Excel, and PDF for the month)
# ============================================================================================

REPORT_TABS = [
    ("daily", "日调度"),
    ("weekly", "周分析"),
    ("monthly", "月研判"),
    ("quarterly", "季考评"),
]


class BadInput(ValueError):
    pass


def _date(raw: str | None, default: dt.date, what: str) -> dt.date:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise BadInput(f"{what}格式不正确，应为 YYYY-MM-DD。") from exc


def _month(raw: str | None, default: dt.date) -> dt.date:
    if not raw:
        return default.replace(day=1)
    try:
        year, month = (int(x) for x in raw.split("-", 1))
        return dt.date(year, month, 1)
    except ValueError as exc:
        raise BadInput("月份格式不正确，应为 YYYY-MM。") from exc


def _quarter(request: HttpRequest, today: dt.date) -> tuple[int, int]:
    year, quarter = metrics.current_quarter(today)
    try:
        year = int(request.GET.get("year") or year)
        quarter = int(request.GET.get("quarter") or quarter)
    except ValueError as exc:
        raise BadInput("年度和季度须为数字。") from exc
    if not 1 <= quarter <= 4 or not 2000 <= year <= 2100:
        raise BadInput("季度须为 1–4，年度须在 2000–2100 之间。")
    return year, quarter


@login_required
@require_GET
def report(request: HttpRequest, kind: str = "daily") -> HttpResponse:
    try:
        root = sel.screen_root(request.user, request.GET.get("region"))
    except sel.NoScreen as exc:
        return render(
            request,
            "dashboards/no_reports.html",
            {"message": str(exc).replace("指挥大屏", "报表")},
            status=404,
        )
    today = timezone.localdate()
    error = ""
    form: dict[str, Any] = {"region": root.pk}
    try:
        if kind == "daily":
            day = _date(request.GET.get("date"), today, "日期")
            form["date"] = day.isoformat()
            data = reports.daily(request.user, root, day)
        elif kind == "weekly":
            day = _date(request.GET.get("date"), today, "日期")
            form["date"] = day.isoformat()
            data = reports.weekly(request.user, root, day)
        elif kind == "monthly":
            month = _month(request.GET.get("month"), today)
            form["month"] = month.strftime("%Y-%m")
            data = reports.monthly(request.user, root, month)
        else:
            year, quarter = _quarter(request, today)
            form.update(year=year, quarter=quarter)
            data = reports.quarterly(request.user, root, year, quarter)
    except BadInput as exc:
        error = str(exc)
        data = None
    fmt = request.GET.get("format")
    if data is not None and fmt == "xlsx":
        try:
            resp, rows = exports.excel(data)
        except xl.TooManyRows as exc:
            error = str(exc)
        else:
            export_logged(
                user=request.user, filter_description=f"{data.title}：{data.period_label}", row_count=rows
            )
            return resp
    if data is not None and fmt == "pdf":
        if kind != "monthly":
            raise Http404("只有月研判提供 PDF。")
        rows = sum(len(t.rows) for t in data.tables)
        export_logged(
            user=request.user, filter_description=f"{data.title}：{data.period_label}（PDF）", row_count=rows
        )
        return exports.pdf(data)
    query = urlencode({k: v for k, v in form.items()})
    return render(
        request,
        "dashboards/report.html",
        {
            "kind": kind,
            "tabs": REPORT_TABS,
            "report": data,
            "form": form,
            "error": error,
            "query": query,
            "roots": sel.screen_roots(request.user),
            "root": root,
            "quarters": [1, 2, 3, 4],
        },
        status=400 if error else 200,
    )


# ============================================================================================
# Safety index: history, one index's breakdown, the county's weights
# ============================================================================================

SAFETY_HISTORY = 6


@login_required
@require_GET
def safety_index(request: HttpRequest) -> HttpResponse:
    try:
        root = sel.screen_root(request.user, request.GET.get("region"))
    except sel.NoScreen as exc:
        return render(
            request,
            "dashboards/no_reports.html",
            {"message": str(exc).replace("指挥大屏", "平安指数")},
            status=404,
        )
    kind = request.GET.get("kind") or PeriodKind.MONTH
    if kind not in PeriodKind.values:
        kind = PeriodKind.MONTH
    today = timezone.localdate()
    starts = [safety.period_start(kind, today)]
    for _ in range(SAFETY_HISTORY - 1):
        starts.append(safety.previous_start(kind, starts[-1]))
    starts.reverse()
    places = [root, *sel.map_regions(request.user, root)]
    values = {
        (s.region_id, s.period_start): s
        for s in restrict(
            SafetyIndex.objects.filter(region__in=places, period_kind=kind, period_start__in=starts),
            request.user,
        )
    }
    rows = [{"region": p, "cells": [values.get((p.pk, s)) for s in starts]} for p in places]
    return render(
        request,
        "dashboards/safety.html",
        {
            "root": root,
            "roots": sel.screen_roots(request.user),
            "kind": kind,
            "kinds": PeriodKind.choices,
            "periods": [(s, safety.period_label(kind, s)) for s in starts],
            "rows": rows,
            "indicators": SafetyIndicator.objects.all(),
            "can_edit": can_edit_weights(request.user),
        },
    )


@login_required
@require_GET
def safety_detail(request: HttpRequest, pk: int) -> HttpResponse:
    index = get_for_user_or_404(SafetyIndex.objects.select_related("region"), request.user, pk=pk)
    basis = index.components.get("_basis", {})
    parts = [dict(code=code, **c) for code, c in index.components.items() if not code.startswith("_")]
    return render(
        request,
        "dashboards/safety_detail.html",
        {
            "index": index,
            "parts": parts,
            "basis": basis,
            "label": safety.period_label(index.period_kind, index.period_start),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def safety_weights(request: HttpRequest) -> HttpResponse:
    editable = can_edit_weights(request.user)
    indicators = list(SafetyIndicator.objects.all())
    errors: list[str] = []
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("只有县级中心领导可以修改平安指数权重。")
        data = {
            i.code: {f: request.POST.get(f"{i.code}-{f}", "").strip() for f in ("weight", "best", "worst")}
            for i in indicators
        }
        try:
            n = safety.safety_indicators_update(by=request.user, data=data)
        except DomainError as exc:
            errors.append(str(exc))
            for i in indicators:
                i.weight, i.best, i.worst = (data[i.code][f] for f in ("weight", "best", "worst"))
        else:
            messages.success(request, f"已保存 {n} 项指标设置；平安指数正在按新权重重新计算（本期及上期）。")
            return redirect("dashboards:safety_weights")
    return render(
        request,
        "dashboards/safety_weights.html",
        {"indicators": indicators, "editable": editable, "errors": errors},
        status=400 if errors else 200,
    )
