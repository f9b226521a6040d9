"""Grid work pages. Views parse input and call services; reads go through grids.selectors (the gate).

Two audiences: the grid worker on a phone (today's tasks, visits, reports, follow-up: light pages,
one column, big buttons, no script needed) and the centers and units behind them (hazard
handling, sweeps, the grid's team card, figures).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases import lifecycle as case_lifecycle
from cases.clocks import remaining_text
from cases.models import OPEN_STATES, CaseKind, Status
from cases.paging import paginate
from cases.services import DomainError, NotAllowed, StaleEdit, case_comment
from centers.jurisdiction import restrict
from centers.models import Membership, Region, RegionKind, Role, User
from centers.selectors import top_regions_for

from . import figures as grid_figures
from . import forms, lifecycle, selectors, services
from .models import GridProfile, GridTeamMember, HouseholdVisit, Rhythm, VisitFinding

STALE_HINT = "页面已按最新状态刷新，请核对后再提交。"


def _served(request: HttpRequest):
    return selectors.grids_served_by(request.user, with_village=True)


def _no_grid(request: HttpRequest) -> HttpResponse:
    return render(request, "grids/no_grid.html", status=403)


def _visit_of(request: HttpRequest, value: Any) -> HouseholdVisit | None:
    """The user's own visit named by a form or query (to link a report to it), or None."""
    try:
        pk = int(value or 0)
    except (TypeError, ValueError):
        return None
    if not pk:
        return None
    return HouseholdVisit.objects.filter(pk=pk, worker=request.user).first()


# ============================================================================================
# The grid worker's phone
# ============================================================================================


@login_required
def today(request: HttpRequest) -> HttpResponse:
    t = selectors.today_for(request.user)
    if not t.grids and not t.open_report_count and not t.to_verify:
        return _no_grid(request)
    return render(
        request,
        "grids/today.html",
        {
            "t": t,
            "now": timezone.now(),
            "today": timezone.localdate(),
            "idle_days": selectors.DEFAULT_IDLE_DAYS,
        },
    )


@login_required
def visit_new(request: HttpRequest) -> HttpResponse:
    grids = _served(request)
    if not grids.exists():
        return _no_grid(request)
    form = forms.VisitForm(request.POST or None, request.FILES or None, grids=grids)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            visit = services.visit_log(
                by=request.user,
                grid=d["grid"],
                household=d["household"],
                address=d["address"],
                finding=d["finding"],
                notes=d["notes"],
                visited_at=d["visited_at"],
                photo=d["photo"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已记录走访：{visit.household}（{visit.address}）。")
            if visit.finding == VisitFinding.DISPUTE:
                return redirect(f"{reverse('grids:dispute_new')}?visit={visit.pk}")
            if visit.finding == VisitFinding.HAZARD:
                return redirect(f"{reverse('grids:hazard_new')}?visit={visit.pk}")
            return redirect("grids:today")
    status = 400 if request.method == "POST" else 200
    return render(request, "grids/visit_form.html", {"form": form}, status=status)


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.visits_of(request.user), per_page=30)
    return render(request, "grids/visit_list.html", {"page": page})


@login_required
def visit_photo(request: HttpRequest, pk: int) -> FileResponse:
    visit = selectors.visit_get_for_user(request.user, pk)
    if not visit.photo:
        raise Http404("该走访没有照片。")
    try:
        handle = visit.photo.open("rb")
    except FileNotFoundError as exc:
        raise Http404("照片文件不存在。") from exc
    return FileResponse(handle, filename=visit.photo.name.rsplit("/", 1)[-1])


def _visit_initial(request: HttpRequest, grids) -> tuple[HouseholdVisit | None, dict[str, Any]]:
    visit = _visit_of(request, request.GET.get("visit"))
    initial: dict[str, Any] = {}
    if visit is not None and grids.filter(pk=visit.grid_id).exists():
        initial = {
            "grid": visit.grid_id,
            "visit": visit.pk,
            "address": visit.address,
            "description": visit.notes,
        }
    return visit, initial


@login_required
def dispute_new(request: HttpRequest) -> HttpResponse:
    grids = _served(request)
    if not grids.exists():
        return _no_grid(request)
    visit, initial = _visit_initial(request, grids)
    if visit is not None:
        initial["party_name"] = visit.household
    form = forms.DisputeReportForm(request.POST or None, request.FILES or None, grids=grids, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            case = services.dispute_report(
                by=request.user,
                grid=d["grid"],
                category=d["category"],
                title=d["title"],
                description=d["description"],
                address=d["address"],
                people_count=d["people_count"],
                risk_note=d["risk_note"],
                party_name=d["party_name"],
                party_phone=d["party_phone"],
                photo=d["photo"],
                visit=_visit_of(request, d.get("visit")),
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"纠纷已上报，受理编号 {case.tracking_no}，由{case.owning_center.name}受理。"
            )
            return redirect("grids:report", pk=case.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "grids/dispute_form.html", {"form": form, "visit": visit}, status=status)


@login_required
def hazard_new(request: HttpRequest) -> HttpResponse:
    grids = _served(request)
    if not grids.exists():
        return _no_grid(request)
    visit, initial = _visit_initial(request, grids)
    if visit is not None:
        initial["place"] = initial.pop("address", "")
    form = forms.HazardReportForm(request.POST or None, request.FILES or None, grids=grids, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            hazard = services.hazard_report(
                by=request.user,
                grid=d["grid"],
                hazard_type=d["hazard_type"],
                severity=d["severity"],
                place=d["place"],
                description=d["description"],
                photo=d["photo"],
                visit=_visit_of(request, d.get("visit")),
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"隐患已上报，受理编号 {hazard.case.tracking_no}。")
            return redirect("grids:hazard", pk=hazard.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "grids/hazard_form.html", {"form": form, "visit": visit}, status=status)


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "open")
    qs = selectors.grid_reports_of(request.user)
    if state == "open":
        qs = qs.filter(status__in=OPEN_STATES)
    elif state == "done":
        qs = qs.exclude(status__in=OPEN_STATES)
    page = paginate(request, qs.order_by("-created_at", "-pk"), per_page=30)
    return render(
        request,
        "grids/reports.html",
        {"page": page, "state": state, "query": f"state={state}", "now": timezone.now()},
    )


def _report_context(request: HttpRequest, case, form=None) -> dict[str, Any]:
    return {
        "case": case,
        "remaining": remaining_text(case.due_at) if case.is_open else ("", "none"),
        "timeline": case.timeline.select_related("actor", "to_center").order_by("-at", "-pk")[:30],
        "attachments": case.attachments.order_by("uploaded_at"),
        "form": form or forms.FollowUpForm(),
        "can_follow_up": case_lifecycle.can_read(request.user, case),
    }


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.report_get_for_user(request.user, pk)
    if case.kind == CaseKind.HAZARD and hasattr(case, "hazard"):
        return redirect("grids:hazard", pk=case.hazard.pk)
    return render(request, "grids/report.html", _report_context(request, case))


@login_required
@require_POST
def report_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.report_get_for_user(request.user, pk)
    form = forms.FollowUpForm(request.POST)
    if form.is_valid():
        try:
            case_comment(case=case, by=request.user, text=form.cleaned_data["text"])
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已补充情况。")
            back = "grids:hazard" if case.kind == CaseKind.HAZARD else "grids:report"
            return redirect(back, pk=case.hazard.pk if case.kind == CaseKind.HAZARD else case.pk)
    return render(request, "grids/report.html", _report_context(request, case, form), status=400)


# ============================================================================================
# Hazards: the station hands out, the unit rectifies, the grid worker verifies
# ============================================================================================


HAZARD_ACTIONS: dict[str, tuple[str, Any]] = {
    "assign": (lifecycle.HAZARD_ASSIGN.action, forms.HazardAssignForm),
    "rectify": (lifecycle.HAZARD_RECTIFY.action, forms.HazardRectifyForm),
    "verify": (lifecycle.HAZARD_VERIFY.action, forms.HazardVerifyForm),
    "reject": (lifecycle.HAZARD_REJECT.action, forms.HazardRejectForm),
}


def _hazard_form(name: str, hazard, data=None, files=None):
    _, form_class = HAZARD_ACTIONS[name]
    kwargs: dict[str, Any] = {"prefix": name, "initial": {"version": hazard.case.version}}
    if name == "assign":
        kwargs["units"] = selectors.hazard_units(hazard)
    return form_class(data, files, **kwargs)


def _hazard_context(request: HttpRequest, hazard, bound: dict[str, Any] | None = None) -> dict[str, Any]:
    case = hazard.case
    available = []
    for name, (action, _) in HAZARD_ACTIONS.items():
        if not case_lifecycle.allowed(request.user, case, action):
            continue
        if name in ("verify", "reject") and hazard.rectified_by_id == request.user.pk:
            continue
        form = (bound or {}).get(name) or _hazard_form(name, hazard)
        available.append(
            {
                "name": name,
                "label": case_lifecycle.TRANSITIONS[action].label,
                "form": form,
                "open": name in (bound or {}),
            }
        )
    return {
        "h": hazard,
        "case": case,
        "step": lifecycle.step_label(case.status),
        "remaining": remaining_text(case.due_at) if case.is_open else ("", "none"),
        "actions": available,
        "timeline": case.timeline.select_related("actor", "to_center").order_by("-at", "-pk")[:30],
        "reporters": selectors.hazard_reporters(case),
        "follow_up": forms.FollowUpForm(),
        "is_reporter": case.registered_by_id == request.user.pk,
    }


@login_required
def hazards(request: HttpRequest) -> HttpResponse:
    step = request.GET.get("step", "")
    mine = request.GET.get("mine", "1" if request.GET.get("step") is None else "") == "1"
    qs = selectors.hazard_list_for_user(request.user, step=step, mine=mine)
    page = paginate(request, qs, per_page=30)
    return render(
        request,
        "grids/hazards.html",
        {
            "page": page,
            "step": step,
            "mine": mine,
            "steps": [(k, label) for k, (label, _) in selectors.HAZARD_STEPS.items()],
            "counts": selectors.hazard_step_counts(request.user),
            "query": f"step={step}&mine={'1' if mine else ''}",
            "now": timezone.now(),
            "step_label": lifecycle.step_label,
        },
    )


@login_required
def hazard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hazard = selectors.hazard_get_for_user(request.user, pk)
    return render(request, "grids/hazard.html", _hazard_context(request, hazard))


@login_required
@require_POST
def hazard_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    hazard = selectors.hazard_get_for_user(request.user, pk)
    if action not in HAZARD_ACTIONS:
        raise Http404("没有这个操作。")
    form = _hazard_form(action, hazard, request.POST, request.FILES)
    status = 400
    if form.is_valid():
        d = form.cleaned_data
        version = d["version"]
        try:
            if action == "assign":
                services.hazard_assign(
                    hazard=hazard,
                    by=request.user,
                    unit=d["unit"],
                    requirement=d["requirement"],
                    expected_version=version,
                )
            elif action == "rectify":
                services.hazard_rectify(
                    hazard=hazard,
                    by=request.user,
                    rectification=d["rectification"],
                    evidence=d["evidence"],
                    expected_version=version,
                )
            elif action == "verify":
                services.hazard_verify(
                    hazard=hazard, by=request.user, comment=d["comment"], expected_version=version
                )
            else:
                services.hazard_reject(
                    hazard=hazard, by=request.user, comment=d["comment"], expected_version=version
                )
        except StaleEdit as exc:
            form.add_error(None, f"{exc} {STALE_HINT}")
            status = 409
            hazard = selectors.hazard_get_for_user(request.user, pk)
        except DomainError as exc:
            form.add_error(None, str(exc))
            status = 403 if isinstance(exc, NotAllowed) else 400
        else:
            messages.success(request, f"已{case_lifecycle.TRANSITIONS[HAZARD_ACTIONS[action][0]].label}。")
            return redirect("grids:hazard", pk=hazard.pk)
    return render(
        request, "grids/hazard.html", _hazard_context(request, hazard, {action: form}), status=status
    )


# ============================================================================================
# Patrol sweeps (排查)
# ============================================================================================


def _managed_regions(user: User):
    """Counties, towns and villages whose grid work `user` manages (dispatcher/leader there or above)."""
    regions = selectors.regions_for_picker(
        user, kinds=(RegionKind.COUNTY, RegionKind.TOWN, RegionKind.VILLAGE)
    )
    if user.is_superuser:
        return regions
    paths = list(
        Membership.objects.filter(
            user=user, is_active=True, role__in=services.MANAGER_ROLES, center__isnull=False
        ).values_list("center__region__path", flat=True)
    )
    if not paths:
        return regions.none()
    q = Q()
    for p in paths:
        q |= Q(path__startswith=p)
    return regions.filter(q)


@login_required
def sweeps(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.sweep_list_for_user(request.user), per_page=20)
    progress = selectors.sweep_progress(request.user, [s.pk for s in page.object_list])
    rows = [{"s": s, "p": progress.get(s.pk, {})} for s in page.object_list]
    return render(
        request,
        "grids/sweeps.html",
        {"page": page, "rows": rows, "query": "", "can_create": _managed_regions(request.user).exists()},
    )


@login_required
def sweep_new(request: HttpRequest) -> HttpResponse:
    regions = _managed_regions(request.user)
    if not regions.exists():
        raise PermissionDenied("您无权发起排查。")
    form = forms.SweepForm(request.POST or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            sweep = services.sweep_create(
                by=request.user,
                region=d["region"],
                rhythm=d["rhythm"],
                period_start=d["period_start"],
                due_on=d["due_on"],
                title=d["title"],
                focus=d["focus"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已发起排查：{sweep.title}，共 {sweep.tasks.count()} 个网格。")
            return redirect("grids:sweep", pk=sweep.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "grids/sweep_form.html", {"form": form, "rhythms": Rhythm}, status=status)


@login_required
def sweep_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sweep = selectors.sweep_get_for_user(request.user, pk)
    tasks = selectors.sweep_tasks_for_user(request.user, sweep)
    show = request.GET.get("show", "")
    if show == "todo":
        tasks = tasks.filter(completed_at__isnull=True)
    elif show == "done":
        tasks = tasks.filter(completed_at__isnull=False)
    page = paginate(request, tasks, per_page=50)
    progress = selectors.sweep_progress(request.user, [sweep.pk]).get(sweep.pk, {})
    return render(
        request,
        "grids/sweep.html",
        {
            "sweep": sweep,
            "page": page,
            "show": show,
            "query": f"show={show}",
            "progress": progress,
            "villages": selectors.sweep_report_by_village(request.user, sweep),
            "today": timezone.localdate(),
        },
    )


@login_required
def sweep_task(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.sweep_task_get_for_user(request.user, pk)
    candidates = list(services.sweep_task_candidates(task))
    initial: dict[str, Any] = {}
    if task.is_done:
        initial = {
            "households_checked": task.households_checked,
            "other_findings": task.other_findings,
            "summary": task.summary,
        }
    form = forms.SweepTaskForm(request.POST or None, candidates=candidates, initial=initial)
    if task.is_done and not form.is_bound:
        form.fields["cases"].initial = [str(pk) for pk in task.cases.values_list("pk", flat=True)]
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.sweep_task_complete(
                task=task,
                by=request.user,
                households_checked=d["households_checked"],
                other_findings=d["other_findings"],
                summary=d["summary"],
                case_ids=[int(x) for x in d["cases"]],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已填报 {task.grid.name} 的排查情况。")
            if selectors.grids_served_by(request.user).filter(pk=task.grid_id).exists():
                return redirect("grids:today")
            return redirect("grids:sweep", pk=task.sweep_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "grids/sweep_task.html", {"task": task, "form": form}, status=status)


# ============================================================================================
# Grids and their 3+N teams
# ============================================================================================


def _region_from_query(request: HttpRequest) -> Region:
    value = request.GET.get("region", "")
    if value.isdigit():
        return selectors.region_get_for_user(request.user, int(value))
    tops = top_regions_for(request.user)
    if not tops:
        raise Http404("您没有可查看的辖区。")
    return tops[0]


@login_required
def grid_list(request: HttpRequest) -> HttpResponse:
    region = _region_from_query(request)
    qs = selectors.grid_list_for_user(request.user, region)
    page = paginate(request, qs, per_page=50)
    children = restrict(
        Region.objects.filter(path__startswith=region.path, depth=region.depth + 1), request.user
    )
    return render(
        request,
        "grids/grid_list.html",
        {
            "region": region,
            "page": page,
            "query": f"region={region.pk}",
            "totals": selectors.grid_totals(request.user, region),
            "children": children.exclude(kind=RegionKind.GRID).order_by("path"),
            "now": timezone.now(),
            "idle_cutoff": timezone.now() - dt.timedelta(days=selectors.DEFAULT_IDLE_DAYS),
        },
    )


def _grid_context(request: HttpRequest, grid: Region, **extra: Any) -> dict[str, Any]:
    manages = services.manages_region(request.user, grid)
    profile = GridProfile.objects.filter(grid=grid).first()
    ctx = {
        "grid": grid,
        "profile": profile,
        "team": selectors.team_of(grid),
        "manages": manages,
        "visits": HouseholdVisit.objects.filter(grid=grid)
        .select_related("worker")
        .order_by("-visited_at")[:10],
        "figures": grid_figures.for_grid(request.user, grid),
        "member_form": forms.TeamMemberForm(users=selectors.team_candidates(grid)) if manages else None,
        "profile_form": forms.GridProfileForm(initial=selectors.profile_initial(grid, profile))
        if manages
        else None,
    }
    ctx.update(extra)
    return ctx


@login_required
def grid_detail(request: HttpRequest, pk: int) -> HttpResponse:
    grid = selectors.grid_get_for_user(request.user, pk)
    return render(request, "grids/grid.html", _grid_context(request, grid))


@login_required
@require_POST
def grid_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    grid = selectors.grid_get_for_user(request.user, pk)
    form = forms.TeamMemberForm(request.POST, users=selectors.team_candidates(grid))
    if form.is_valid():
        d = form.cleaned_data
        try:
            member = services.grid_team_member_add(
                grid=grid,
                by=request.user,
                role=d["role"],
                user=d["user"],
                name=d["name"],
                phone=d["phone"],
                title=d["title"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已将 {member.name} 设为{member.get_role_display()}。")
            return redirect("grids:grid", pk=grid.pk)
    status = 403 if not services.manages_region(request.user, grid) else 400
    return render(request, "grids/grid.html", _grid_context(request, grid, member_form=form), status=status)


@login_required
@require_POST
def grid_member_end(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    grid = selectors.grid_get_for_user(request.user, pk)
    member = GridTeamMember.objects.filter(pk=member_pk, grid=grid).first()
    if member is None:
        raise Http404("没有该成员。")
    try:
        services.grid_team_member_end(member=member, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{member.name} 已离岗。")
    return redirect("grids:grid", pk=grid.pk)


@login_required
@require_POST
def grid_profile(request: HttpRequest, pk: int) -> HttpResponse:
    grid = selectors.grid_get_for_user(request.user, pk)
    form = forms.GridProfileForm(request.POST)
    if form.is_valid():
        try:
            services.grid_profile_update(grid=grid, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "网格概况已更新。")
            return redirect("grids:grid", pk=grid.pk)
    status = 403 if not services.manages_region(request.user, grid) else 400
    return render(request, "grids/grid.html", _grid_context(request, grid, profile_form=form), status=status)


# ============================================================================================
# Figures
# ============================================================================================


@login_required
def figures(request: HttpRequest) -> HttpResponse:
    regions = selectors.regions_for_picker(
        request.user, kinds=(RegionKind.COUNTY, RegionKind.TOWN, RegionKind.VILLAGE)
    )
    form = forms.FiguresForm(request.GET or None, regions=regions)
    if form.is_bound and not form.is_valid():
        return render(request, "grids/figures.html", {"form": form}, status=400)
    d = form.cleaned_data if form.is_bound else {}
    region = d.get("region") or _region_from_query(request)
    today = timezone.localdate()
    start = d.get("start") or today.replace(day=1)
    end = d.get("end") or today
    idle_days = d.get("idle_days") or selectors.DEFAULT_IDLE_DAYS
    report = grid_figures.report(
        request.user,
        region,
        start=start,
        end=end,
        idle_days=idle_days,
        grid_page=request.GET.get("page"),
        worker_page=request.GET.get("wpage"),
    )
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("wpage", None)
    return render(
        request,
        "grids/figures.html",
        {
            "form": form,
            "region": region,
            "start": start,
            "end": end,
            "idle_days": idle_days,
            "r": report,
            "query": query.urlencode(),
            "is_manager": Membership.objects.filter(
                user=request.user,
                is_active=True,
                role__in=(Role.DISPATCHER, Role.CENTER_LEADER, Role.LEADERSHIP),
            ).exists()
            or request.user.is_superuser,
            "status": Status,
        },
    )
