"""Pages of supervision and assessment: 三色三单 (risk, responsibility and task lists) as pages and
Excel, supervision orders (督办单) and their responses, supervising and recording leader
instructions (领导批示) on a case, and the quarterly assessment (季考评) with its weights.

Views parse input and call services; reads go through cases.selectors_supervision (jurisdiction
gate) and every figure through cases.metrics.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from centers.models import Role
from centers.services import DomainError

from . import assessment
from . import exports_supervision as xl
from . import selectors_supervision as sel
from .forms_supervision import (
    InstructionForm,
    ListFilterForm,
    OrderFilterForm,
    PeriodForm,
    ResponseForm,
    RiskFilterForm,
    SupervisionOrderForm,
    TaskFilterForm,
    WeightsForm,
)
from .models import PointKind, PointWeight
from .selectors import case_get_for_user
from .services import NotAllowed, export_logged
from .supervision import (
    can_record_instruction,
    can_respond,
    can_supervise,
    leader_instruction_add,
    supervision_order_issue,
    supervision_order_respond,
)

PAGE_SIZE = 50
STAFF_ROLES = [Role.DISPATCHER, Role.CENTER_LEADER, Role.LEADERSHIP, Role.UNIT_STAFF]


def register_navigation() -> None:
    """Navigation entries (called from CasesConfig.ready)."""
    from centers import navigation

    navigation.register("三色三单", "cases:supervision_risks", roles=STAFF_ROLES, order=60)
    navigation.register("督办单", "cases:supervision_orders", roles=STAFF_ROLES, order=61)
    navigation.register(
        "季度考评", "cases:assessment", roles=[Role.DISPATCHER, Role.CENTER_LEADER, Role.LEADERSHIP], order=62
    )


def case_page_url(case) -> str:
    """The case page, or this app's supervision view of the case where the case page is not installed."""
    try:
        return reverse("cases:detail", args=[case.pk])
    except NoReverseMatch:
        return reverse("cases:case_supervision", args=[case.pk])


def _query(request: HttpRequest, **drop: Any) -> str:
    params = [(k, v) for k, v in request.GET.items() if k not in ("page", "format", *drop)]
    return urlencode(params)


def _export(request: HttpRequest, name: str, description: str, sheets) -> HttpResponse:
    try:
        resp, rows = xl.response(name, sheets)
    except xl.TooManyRows as exc:
        messages.error(request, str(exc))
        return redirect(f"{request.path}?{_query(request)}")
    export_logged(user=request.user, filter_description=f"{name}：{description}", row_count=rows)
    return resp


def _wants_excel(request: HttpRequest) -> bool:
    return request.GET.get("format") == "xlsx"


# ============================================================================================
# 三色三单
# ============================================================================================


@login_required
def risks(request: HttpRequest) -> HttpResponse:
    form = RiskFilterForm(request.GET or None, user=request.user)
    f = form.list_filter()
    qs = sel.risk_list(request.user, f, colours=form.colours())
    if _wants_excel(request):
        return _export(
            request, "风险清单", f.description, [("风险清单", xl.RISK_HEADER, xl.risk_rows(qs.iterator()))]
        )
    return render(
        request,
        "cases/supervision/risks.html",
        {
            "form": form,
            "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
            "summary": sel.risk_summary(request.user, f),
            "query": _query(request),
            "tab": "risks",
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
def responsibilities(request: HttpRequest) -> HttpResponse:
    form = ListFilterForm(request.GET or None, user=request.user)
    f = form.list_filter()
    qs = sel.responsibility_list(request.user, f)
    if _wants_excel(request):
        return _export(
            request,
            "责任清单",
            f.description,
            [("责任清单", xl.RESPONSIBILITY_HEADER, xl.responsibility_rows(qs.iterator(chunk_size=2000)))],
        )
    return render(
        request,
        "cases/supervision/responsibilities.html",
        {
            "form": form,
            "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
            "query": _query(request),
            "tab": "responsibilities",
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
def tasks(request: HttpRequest) -> HttpResponse:
    form = TaskFilterForm(request.GET or None, user=request.user)
    f = form.list_filter()
    within = form.cleaned_data.get("within") if form.is_bound and form.is_valid() else None
    rows, cut = sel.task_list(request.user, f, within_days=within)
    if _wants_excel(request):
        return _export(request, "任务清单", f.description, [("任务清单", xl.TASK_HEADER, xl.task_rows(rows))])
    return render(
        request,
        "cases/supervision/tasks.html",
        {
            "form": form,
            "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "cut": cut,
            "query": _query(request),
            "tab": "tasks",
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


# ============================================================================================
# Supervision orders
# ============================================================================================


@login_required
def orders(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = sel.orders_for_user(
        request.user, status=data.get("status", ""), overdue_only=bool(data.get("overdue"))
    )
    return render(
        request,
        "cases/supervision/orders.html",
        {
            "form": form,
            "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
            "query": _query(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = sel.order_get_for_user(request.user, pk)
    may_respond = order.is_open and can_respond(request.user, order)
    form = ResponseForm(request.POST or None) if may_respond else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("您无权反馈该督办单。")
        if form.is_valid():
            try:
                supervision_order_respond(
                    order=order, by=request.user, response=form.cleaned_data["response"]
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 403 if isinstance(exc, NotAllowed) else 400
            else:
                messages.success(request, "已反馈。")
                return redirect("cases:supervision_order", pk=pk)
        else:
            status = 400
    chain = []
    node = order
    while node.parent_id is not None:
        node = node.parent
        chain.append(node)
    return render(
        request,
        "cases/supervision/order.html",
        {
            "order": order,
            "form": form,
            "chain": chain,
            "case_url": case_page_url(order.case),
            "escalation": getattr(order, "escalation", None) if order.status == "escalated" else None,
        },
        status=status,
    )


# ============================================================================================
# On a case: supervise, record a leader instruction, the case's supervision view
# ============================================================================================


@login_required
def case_supervision(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(request.user, pk)
    return render(request, "cases/supervision/case.html", {"case": case})


@login_required
@require_http_methods(["GET", "POST"])
def supervise(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(request.user, pk)
    if not can_supervise(request.user, case):
        raise PermissionDenied("只有上级中心或本中心领导可以督办在办事项。")
    form = SupervisionOrderForm(request.POST or None, case=case, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                order = supervision_order_issue(
                    case=case,
                    by=request.user,
                    demand=form.cleaned_data["demand"],
                    due_on=form.cleaned_data["due_on"],
                    supervised_unit=form.cleaned_data["supervised_unit"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 403 if isinstance(exc, NotAllowed) else 400
            else:
                messages.success(request, f"已下发督办单，{order.supervised_center.name}须于期限前反馈。")
                return redirect(case_page_url(case))
        else:
            status = 400
    return render(
        request,
        "cases/supervision/supervise.html",
        {"case": case, "form": form, "case_url": case_page_url(case)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def instruct(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(request.user, pk)
    if not can_record_instruction(request.user, case):
        raise PermissionDenied("您无权为该事项录入领导批示。")
    form = InstructionForm(request.POST or None, case=case, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                leader_instruction_add(
                    case=case,
                    by=request.user,
                    leader=form.cleaned_data["leader"],
                    text=form.cleaned_data["text"],
                    instructed_at=form.cleaned_data["instructed_at"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 403 if isinstance(exc, NotAllowed) else 400
            else:
                messages.success(request, "已录入领导批示。")
                return redirect(case_page_url(case))
        else:
            status = 400
    return render(
        request,
        "cases/supervision/instruct.html",
        {"case": case, "form": form, "case_url": case_page_url(case)},
        status=status,
    )


# ============================================================================================
# 季考评
# ============================================================================================


def _period(request: HttpRequest):
    form = PeriodForm(request.GET if "year" in request.GET else None)
    year, quarter, period = form.period()
    if not form.is_bound:
        form = PeriodForm(initial={"year": year, "quarter": quarter})
    return form, year, quarter, period


@login_required
def assessment_ranking(request: HttpRequest) -> HttpResponse:
    form, year, quarter, period = _period(request)
    towns = sel.town_ranking(request.user, period)
    units = sel.unit_ranking(request.user, period)
    title = f"{year}年第{quarter}季度考评"
    if _wants_excel(request):
        events = sel.point_events(request.user, period).iterator(chunk_size=2000)
        return _export(
            request,
            title,
            period.label,
            [
                ("乡镇排名", xl.RANK_HEADER, xl.ranking_rows(towns)),
                ("部门排名", xl.RANK_HEADER, xl.ranking_rows(units)),
                ("记分明细", xl.EVENT_HEADER, xl.event_rows(events)),
            ],
        )
    return render(
        request,
        "cases/supervision/assessment.html",
        {
            "form": form,
            "title": title,
            "period": period,
            "towns": towns,
            "units": units,
            "kinds": PointKind.choices,
            "year": year,
            "quarter": quarter,
            "can_edit_weights": assessment.can_edit_weights(request.user),
        },
    )


@login_required
def assessment_events(request: HttpRequest) -> HttpResponse:
    form, year, quarter, period = _period(request)
    subject = ListFilterForm(request.GET or None, user=request.user)
    f = subject.list_filter()
    qs = sel.point_events(request.user, period, town=f.town, unit=f.unit)
    name = f.town.name if f.town else f.unit.name if f.unit else "全部"
    if _wants_excel(request):
        return _export(
            request,
            f"{year}年第{quarter}季度记分明细",
            f"{period.label}；{f.description}",
            [("记分明细", xl.EVENT_HEADER, xl.event_rows(qs.iterator(chunk_size=2000)))],
        )
    return render(
        request,
        "cases/supervision/events.html",
        {
            "form": form,
            "subject": subject,
            "name": name,
            "period": period,
            "year": year,
            "quarter": quarter,
            "total": sel.point_total(qs),
            "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
            "query": _query(request),
        },
        status=400 if subject.is_bound and not subject.is_valid() else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def assessment_weights(request: HttpRequest) -> HttpResponse:
    editable = assessment.can_edit_weights(request.user)
    form = WeightsForm(request.POST or None) if editable else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("只有县级中心领导可以修改考评分值。")
        if form.is_valid():
            try:
                n = assessment.point_weights_update(by=request.user, points=form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(request, f"已保存 {n} 项分值，自即日起的记分按新分值计算，已有记分不变。")
                return redirect("cases:assessment_weights")
        else:
            status = 400
    return render(
        request,
        "cases/supervision/weights.html",
        {"form": form, "weights": PointWeight.objects.order_by("kind")},
        status=status,
    )
