"""县级设置: clock rules, the working-day calendar, warning thresholds, points weights."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from cases.models import CalendarYear, ClockRule, PointWeight, WarningPolicy, WorkDay
from centers.services import DomainError

from . import county_settings as cs
from .forms import CalendarForm, ClockRuleForm, PointWeightsForm, WarningPolicyForm
from .models import AdminAction, AdminLog
from .views import administrator_required

SETTINGS_ACTIONS = (
    AdminAction.CLOCK_RULE,
    AdminAction.CALENDAR,
    AdminAction.WARNING_POLICY,
    AdminAction.POINT_WEIGHTS,
    AdminAction.WALL_DISPLAY,
)


def county_settings_required(view):
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not cs.can_edit(request.user):
            raise PermissionDenied("只有县级中心的系统管理员或中心领导可以修改县级设置。")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


def _recomputed(result: dict) -> str:
    if "queued" in result:
        return f"受影响的 {result['queued']} 件在办事项正在后台重新计算期限。"
    return (
        f"已重新计算 {result['examined']} 件在办事项：期限变化 {result['deadlines_changed']} 件，"
        f"预警颜色变化 {result['colours_changed']} 件。"
    )


@administrator_required
def home(request: HttpRequest) -> HttpResponse:
    """Every administrator sees the county's settings; only the county's change them."""
    this_year = timezone.localdate().year
    known = set(CalendarYear.objects.values_list("year", flat=True))
    return render(
        request,
        "countyadmin/settings.html",
        {
            "years": [(y, y in known) for y in range(this_year - 1, this_year + 3)],
            "changes": AdminLog.objects.filter(action__in=SETTINGS_ACTIONS).select_related("by")[:30],
            "editable": cs.can_edit(request.user),
            "policy": WarningPolicy.current(),
            "rule_count": ClockRule.objects.filter(is_active=True).count(),
        },
    )


@county_settings_required
def rules(request: HttpRequest) -> HttpResponse:
    form = ClockRuleForm(
        request.POST or None, initial={"unit": "workdays", "yellow_ratio": "0.70", "is_active": True}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            try:
                rule, result = cs.clock_rule_save(by=request.user, reason=reason, **data)
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(request, f"已新增时限规则「{rule}」。{_recomputed(result)}")
                return redirect("countyadmin:rules")
        else:
            status = 400
    return render(
        request,
        "countyadmin/rules.html",
        {
            "form": form,
            "rules": ClockRule.objects.order_by("-is_active", "status", "kind", "level", "category", "pk"),
        },
        status=status,
    )


@county_settings_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(ClockRule, pk=pk)
    initial = {f: getattr(rule, f) for f in cs.RULE_FIELDS}
    form = ClockRuleForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            try:
                rule, result = cs.clock_rule_save(by=request.user, reason=reason, rule=rule, **data)
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(request, f"已保存时限规则「{rule}」。{_recomputed(result)}")
                return redirect("countyadmin:rules")
        else:
            status = 400
    history = rule.history.select_related("history_user").order_by("-history_date")[:20]
    return render(
        request, "countyadmin/rule_edit.html", {"form": form, "rule": rule, "history": history}, status=status
    )


def _year_text(year: int, workday: bool) -> str:
    rows = WorkDay.objects.filter(date__year=year, is_workday=workday).order_by("date")
    return "\n".join(f"{w.date:%Y-%m-%d} {w.name}".strip() for w in rows)


@county_settings_required
def calendar(request: HttpRequest) -> HttpResponse:
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or timezone.localdate().year + 1)
    except ValueError:
        year = timezone.localdate().year
    form = CalendarForm(
        request.POST or None,
        initial={"year": year, "holidays": _year_text(year, False), "workdays": _year_text(year, True)},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                counts, result = cs.calendar_year_enter(
                    by=request.user,
                    year=d["year"],
                    holidays=d["holidays"],
                    workdays=d["workdays"],
                    reason=d["reason"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(
                    request,
                    f"已录入 {d['year']} 年放假安排：工作日放假 {counts['holidays']} 天，调休上班 {counts['workdays']} 天。"
                    + _recomputed(result),
                )
                return redirect(f"{request.path}?year={d['year']}")
        else:
            status = 400
    entered = CalendarYear.objects.filter(year=year).first()
    days = WorkDay.objects.filter(date__year=year).order_by("date")
    return render(
        request,
        "countyadmin/calendar.html",
        {
            "form": form,
            "year": year,
            "entered": entered,
            "days": days,
            "years": [year - 1, year, year + 1],
            "today": timezone.localdate(),
        },
        status=status,
    )


@county_settings_required
def warnings(request: HttpRequest) -> HttpResponse:
    policy = WarningPolicy.current()
    form = WarningPolicyForm(
        request.POST or None,
        initial={
            "group_size": policy.group_size,
            "amount_threshold": policy.amount_threshold,
            "failed_mediations": policy.failed_mediations,
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                result = cs.warning_policy_update(
                    by=request.user,
                    reason=d["reason"],
                    group_size=d["group_size"],
                    amount_threshold=d["amount_threshold"],
                    failed_mediations=d["failed_mediations"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(request, f"已保存预警阈值。{_recomputed(result)}")
                return redirect("countyadmin:warnings")
        else:
            status = 400
    history = policy.history.select_related("history_user").order_by("-history_date")[:20]
    return render(request, "countyadmin/warnings.html", {"form": form, "history": history}, status=status)


@county_settings_required
def points(request: HttpRequest) -> HttpResponse:
    form = PointWeightsForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                n = cs.point_weights_update(
                    by=request.user, reason=form.cleaned_data["reason"], points=form.points()
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(request, f"已修改 {n} 项分值：自即日起的记分按新分值计算，已有记分不变。")
                return redirect("countyadmin:points")
        else:
            status = 400
    history = PointWeight.history.select_related("history_user").order_by("-history_date")[:30]
    return render(request, "countyadmin/points.html", {"form": form, "history": history}, status=status)


@county_settings_required
def wall_links(request: HttpRequest) -> HttpResponse:
    """大屏展示链接: create (the full link is shown once) and revoke."""
    from django.urls import reverse

    from . import wall
    from .forms import ReasonForm, WallLinkForm
    from .models import WallDisplayLink

    form = WallLinkForm(request.POST if request.POST.get("op") == "create" else None, user=request.user)
    revoke_form = ReasonForm(request.POST if request.POST.get("op") == "revoke" else None, prefix="revoke")
    new_url = ""
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("op") == "create" and form.is_valid():
                link, token = wall.wall_link_create(
                    by=request.user,
                    region=form.cleaned_data["region"],
                    label=form.cleaned_data["label"],
                    reason=form.cleaned_data["reason"],
                )
                # Shown on this response only: only the token's hash is stored.
                new_url = request.build_absolute_uri(reverse("wall:screen", args=[token]))
                messages.success(
                    request,
                    f"已创建大屏展示链接「{link.label}」。完整链接只显示这一次，请立即复制到大屏电脑。",
                )
                form = WallLinkForm(user=request.user)
            elif request.POST.get("op") == "revoke" and revoke_form.is_valid():
                link = get_object_or_404(WallDisplayLink, pk=request.POST.get("link"))
                wall.wall_link_revoke(by=request.user, link=link, reason=revoke_form.cleaned_data["reason"])
                messages.success(request, f"已撤销「{link.label}」，该链接立即失效。")
                return redirect("countyadmin:wall_links")
            else:
                status = 400
        except DomainError as exc:
            (form if request.POST.get("op") == "create" else revoke_form).add_error(None, str(exc))
            status = 400
    links = WallDisplayLink.objects.select_related("region", "created_by", "revoked_by")
    return render(
        request,
        "countyadmin/wall_links.html",
        {"form": form, "revoke_form": revoke_form, "links": links, "new_url": new_url},
        status=status,
    )
