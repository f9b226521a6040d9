"""Server-rendered mediation pages. Views parse input and render; every read goes through the
selectors (the jurisdiction gate) and every write through a service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cases import lifecycle, metrics
from cases.clocks import remaining_text
from cases.models import Case, CaseKind, Category, Status
from cases.selectors import case_get_for_user
from cases.services import DomainError, NotAllowed, StaleEdit
from centers.jurisdiction import restrict
from centers.models import DepartmentKind, Region, RegionKind, Unit
from centers.selectors import county_of, roles_of

from . import forms, selectors, services
from .models import (
    Agreement,
    Confirmation,
    Mediation,
    Mediator,
    Outcome,
    Referral,
    ReferralKind,
)
from .pdf import agreement_pdf

STALE_HINT = "页面已更新为最新内容，请核对后再提交。"


def _version(form) -> int | None:
    return form.cleaned_data.get("version")


def _county_units(case: Case, kinds) -> Any:
    county = county_of(case.region)
    return Unit.objects.filter(region__path__startswith=county.path, is_active=True, kind__in=kinds).order_by(
        "region__path", "name"
    )


# ============================================================================================
# The mediator's own page (我的调解)
# ============================================================================================


def _year_period() -> metrics.Period:
    today = timezone.localdate()
    return metrics.Period.from_dates(dt.date(today.year, 1, 1), today)


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    mediator = selectors.mediator_of(request.user)
    if mediator is None:
        if roles_of(request.user) & {"mediator"}:
            mediator = services.mediator_profile(user=request.user)
        else:
            raise Http404("您不在调解员名册中。")
    queue = list(selectors.mediator_queue(mediator))
    for m in queue:
        m.remaining = remaining_text(m.case.due_at)
    period = _year_period()
    own = Mediation.objects.filter(mediator=mediator)
    return render(
        request,
        "mediation/mine.html",
        {
            "mediator": mediator,
            "queue": queue,
            "follow_ups": selectors.follow_ups_due(request.user).filter(mediation__mediator=mediator),
            "figures": selectors.mediation_figures(own, period=period),
            "all_time": selectors.mediation_figures(own),
            "period": period,
        },
    )


# ============================================================================================
# Lists: mediations, committees, figures
# ============================================================================================


@login_required
def mediation_list(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "") for k in ("outcome", "status", "committee", "category", "q")}
    qs = selectors.mediation_list_for_user(request.user, filters=filters)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for m in page.object_list:
        m.remaining = remaining_text(m.case.due_at) if m.case.is_open else ("", "none")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "mediation/list.html",
        {
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "outcomes": Outcome.choices,
            "categories": Category.choices,
            "committees": selectors.committees_for_user(request.user),
            "waiting": selectors.awaiting_assignment(request.user)[:50],
        },
    )


@login_required
def committees(request: HttpRequest) -> HttpResponse:
    rows = list(
        selectors.committees_for_user(request.user).annotate(
            mediator_count=Count("mediators", filter=Q(mediators__is_active=True))
        )
    )
    visible = restrict(Mediation.objects.all(), request.user)
    figures = {r["committee"]: r for r in selectors.mediation_figures_by(visible, "committee", period=_year_period())}
    for c in rows:
        c.figures = figures.get(c.pk)
    mediators = selectors.mediators_with_load(Mediator.objects.filter(committee__in=rows, is_active=True))
    by_committee: dict[int, list] = {}
    for m in mediators:
        by_committee.setdefault(m.committee_id, []).append(m)
    for c in rows:
        c.roll = by_committee.get(c.pk, [])
    return render(request, "mediation/committees.html", {"committees": rows, "period": _year_period()})


@login_required
def figures(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    start, end, by = dt.date(today.year, 1, 1), today, "committee"
    form = forms.FiguresForm(request.GET or None, initial={"start": start, "end": end, "by": by})
    if form.is_bound and form.is_valid():
        start = form.cleaned_data.get("start") or start
        end = form.cleaned_data.get("end") or end
        by = form.cleaned_data.get("by") or by
    period = metrics.Period.from_dates(start, end)
    visible = restrict(Mediation.objects.all(), request.user)
    rows = selectors.mediation_figures_by(visible, by, period=period)
    if by != "month":
        rows = [r for r in rows if r["assigned"] or r["concluded"] or r["pending"]]
    referrals = selectors.referral_figures_by_kind(restrict(Referral.objects.all(), request.user), period=period)
    for r in referrals:
        r["label"] = ReferralKind(r["kind"]).label
    return render(
        request,
        "mediation/figures.html",
        {
            "form": form,
            "period": period,
            "by": by,
            "rows": rows,
            "total": selectors.mediation_figures(visible, period=period),
            "referrals": referrals,
        },
    )


# ============================================================================================
# Assignment with the ranked suggestions
# ============================================================================================


@login_required
@require_http_methods(["GET", "POST"])
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(request.user, pk)
    if case.kind not in services.MEDIABLE_KINDS:
        raise Http404("该事项不交人民调解。")
    suggestions = selectors.suggest_mediators(case, limit=0)
    existing = Mediation.objects.filter(pk=case.pk).select_related("mediator__user", "committee").first()
    form = forms.AssignForm(request.POST or None, suggestions=suggestions, initial={"version": case.version})
    can = any(
        lifecycle.allowed(request.user, case, a) for a in ("mediation_assign", "mediation_reassign")
    ) or request.user.is_superuser
    status = 200
    if request.method == "POST":
        if not can:
            form.add_error(None, "您无权分派该事项的调解员。")
            status = 403
        elif form.is_valid():
            s = form.cleaned_data["mediator"]
            try:
                mediation = services.mediation_assign(
                    case=case, by=request.user, mediator=s.mediator, committee=s.committee,
                    note=f"建议第 {suggestions.index(s) + 1} 位：{s.why}"[:300],
                    comment=form.cleaned_data.get("comment", ""), expected_version=_version(form),
                )
            except StaleEdit as exc:
                form.add_error(None, f"{exc} {STALE_HINT}")
                status = 409
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 403 if isinstance(exc, NotAllowed) else 400
            else:
                messages.success(request, f"已交 {mediation.committee.name} {mediation.mediator.name} 调解。")
                return redirect("mediation:detail", pk=case.pk)
        else:
            status = 400
    return render(
        request,
        "mediation/assign.html",
        {"case": case, "suggestions": suggestions, "form": form, "existing": existing, "can": can,
         "weights": _weights()},
        status=status,
    )


def _weights() -> list[tuple[str, str]]:
    s = selectors
    return [
        ("擅长该类纠纷", f"+{s.DOMAIN_POINTS}"),
        ("专业调委会对口", f"+{s.COMMITTEE_DOMAIN_POINTS}"),
        ("同村（社区）", f"+{s.SAME_VILLAGE_POINTS}"),
        ("同乡镇（街道）", f"+{s.SAME_TOWN_POINTS}"),
        ("县级调解员", f"+{s.COUNTY_POINTS}"),
        ("首席/高级/中级", "+6/+4/+2"),
        ("每件在办案件", f"−{s.LOAD_PENALTY}"),
        ("已满负荷", f"−{s.FULL_PENALTY}"),
    ]


# ============================================================================================
# The mediation page and its actions
# ============================================================================================


@dataclass(frozen=True)
class Action:
    name: str
    transition: str
    label: str
    make: Callable[..., Any]  # make(mediation, data) -> form
    run: Callable[..., Any]  # run(mediation, user, form)
    style: str = ""
    condition: Callable[[Mediation], bool] = lambda m: True


def _has_agreement(m: Mediation) -> bool:
    return Agreement.objects.filter(pk=m.pk).exists()


def _is_referral(m: Mediation) -> bool:
    return m.case.kind == CaseKind.REFERRAL


ACTIONS: list[Action] = [
    Action(
        "consent", "mediation_consent", "当事人同意调解",
        lambda m, d: forms.ConsentForm(d, prefix="consent", initial={"version": m.case.version}),
        lambda m, u, f: services.mediation_consent(
            mediation=m, by=u, way=f.cleaned_data["way"], note=f.cleaned_data["note"], expected_version=_version(f)
        ),
        style="primary",
    ),
    Action(
        "sign", "mediation_sign", "签署调解协议",
        lambda m, d: forms.VersionForm(d, prefix="sign", initial={"version": m.case.version}),
        lambda m, u, f: services.mediation_sign(mediation=m, by=u, expected_version=_version(f)),
        style="primary",
        condition=_has_agreement,
    ),
    Action(
        "fail", "mediation_fail", "调解不成",
        lambda m, d: forms.ReferralFailForm(d, prefix="fail", initial={"version": m.case.version})
        if _is_referral(m)
        else forms.FailForm(
            d, prefix="fail", initial={"version": m.case.version},
            units=_county_units(m.case, [k for kinds in services.ROUTE_UNIT_KINDS.values() for k in kinds]),
        ),
        lambda m, u, f: services.mediation_fail(
            mediation=m, by=u, reason=f.cleaned_data["reason"],
            route_on=f.cleaned_data.get("route_on") or "litigation", unit=f.cleaned_data.get("unit"),
            expected_version=_version(f),
        ),
        style="danger",
    ),
    Action(
        "follow-up", "mediation_follow_up", "履行回访",
        lambda m, d: forms.FollowUpForm(d, prefix="follow-up", initial={"version": m.case.version}),
        lambda m, u, f: services.mediation_follow_up(
            mediation=m, by=u, performance=f.cleaned_data["performance"],
            performed_amount=f.cleaned_data.get("performed_amount"), satisfaction=f.cleaned_data["satisfaction"],
            note=f.cleaned_data.get("note", ""), expected_version=_version(f),
        ),
        style="primary",
        condition=lambda m: not _is_referral(m),
    ),
    Action(
        "report", "referral_report", "向委派单位反馈结果",
        lambda m, d: forms.ReportForm(
            d, prefix="report", initial={"version": m.case.version, "text": _report_text(m)}
        ),
        lambda m, u, f: services.referral_report(
            referral=m.case.referral, by=u, text=f.cleaned_data["text"], expected_version=_version(f)
        ),
        style="primary",
        condition=_is_referral,
    ),
    Action(
        "confirm-apply", "mediation_confirmation", "申请司法确认",
        lambda m, d: forms.ConfirmApplyForm(
            d, prefix="confirm-apply", courts=_county_units(m.case, [DepartmentKind.COURT, DepartmentKind.TRIBUNAL]),
            initial={"applied_on": timezone.localdate()},
        ),
        lambda m, u, f: services.confirmation_apply(
            agreement=m.agreement, by=u, court=f.cleaned_data["court"], applied_on=f.cleaned_data["applied_on"]
        ),
        condition=lambda m: m.outcome == Outcome.SUCCESS
        and m.agreement.confirmation in (Confirmation.NONE, Confirmation.REJECTED),
    ),
    Action(
        "confirm-record", "mediation_confirmation", "登记司法确认结果",
        lambda m, d: forms.ConfirmRecordForm(d, prefix="confirm-record", initial={"decided_on": timezone.localdate()}),
        lambda m, u, f: services.confirmation_record(
            agreement=m.agreement, by=u, confirmed=f.cleaned_data["confirmed"], decided_on=f.cleaned_data["decided_on"],
            court_ref=f.cleaned_data["court_ref"], note=f.cleaned_data.get("note", ""),
        ),
        condition=lambda m: m.outcome == Outcome.SUCCESS and m.agreement.confirmation == Confirmation.APPLIED,
    ),
]
ACTIONS_BY_NAME = {a.name: a for a in ACTIONS}


def _report_text(m: Mediation) -> str:
    referral = m.case.referral
    if m.outcome == Outcome.SUCCESS:
        a = Agreement.objects.filter(pk=m.pk).first()
        terms = "；".join(a.term_lines) if a else ""
        return (
            f"贵单位{referral.external_no}号委派（移送）的纠纷，经{m.committee.name}调解员{m.mediator.name}调解，"
            f"双方达成调解协议（{a.number if a else ''}）：{terms}。协议书随附，当事人可申请司法确认。"
        )
    if m.outcome == Outcome.FAILED:
        return (
            f"贵单位{referral.external_no}号委派（移送）的纠纷，经{m.committee.name}调解员{m.mediator.name}调解，"
            f"未能达成协议（原因：{m.failure_reason}），现退回贵单位依法处理。"
        )
    return ""


def _available(user: Any, m: Mediation) -> list[Action]:
    out = []
    for a in ACTIONS:
        if lifecycle.allowed(user, m.case, a.transition) and a.condition(m):
            out.append(a)
    return out


def _detail_context(request: HttpRequest, m: Mediation, bound: dict[str, Any] | None = None) -> dict[str, Any]:
    case = m.case
    user = request.user
    bound = bound or {}
    items = []
    for a in _available(user, m):
        form = bound.get(a.name) or a.make(m, None)
        items.append({"action": a, "form": form, "open": a.name in bound})
    agreement = Agreement.objects.filter(pk=m.pk).first()
    referral = Referral.objects.filter(pk=m.pk).select_related("referring_unit", "source_case").first()
    return {
        "m": m,
        "case": case,
        "items": items,
        "agreement": agreement,
        "referral": referral,
        "sessions": m.sessions.select_related("recorded_by"),
        "parties": case.parties.select_related("person").order_by("role", "pk"),
        "timeline": case.timeline.select_related("actor").order_by("at", "id"),
        "remaining": remaining_text(case.due_at) if case.is_open else ("", "none"),
        "can_record": lifecycle.allowed(user, case, "mediation_session"),
        "can_draft": lifecycle.allowed(user, case, "mediation_draft") and not (agreement and agreement.is_signed),
        "can_reassign": lifecycle.allowed(user, case, "mediation_reassign") or lifecycle.allowed(
            user, case, "mediation_assign"
        ),
    }


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    m = selectors.mediation_get_for_user(request.user, pk)
    return render(request, "mediation/detail.html", _detail_context(request, m))


@login_required
@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    m = selectors.mediation_get_for_user(request.user, pk)
    a = ACTIONS_BY_NAME.get(action)
    if a is None:
        raise Http404("没有这个操作。")
    form = a.make(m, request.POST)
    status = 400
    if form.is_valid():
        try:
            a.run(m, request.user, form)
        except StaleEdit as exc:
            form.add_error(None, f"{exc} {STALE_HINT}")
            status = 409
        except DomainError as exc:
            form.add_error(None, str(exc))
            status = 403 if isinstance(exc, NotAllowed) else 400
        else:
            messages.success(request, f"已{a.label}。")
            return redirect("mediation:detail", pk=pk)
    m = selectors.mediation_get_for_user(request.user, pk)
    return render(request, "mediation/detail.html", _detail_context(request, m, {a.name: form}), status=status)


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest, pk: int) -> HttpResponse:
    m = selectors.mediation_get_for_user(request.user, pk)
    number = m.sessions.count() + 1
    initial = {
        "version": m.case.version,
        "held_at": timezone.localtime().replace(second=0, microsecond=0),
        "place": f"{m.committee.name}调解室",
        "participants": "、".join(
            [p.person.name for p in m.case.parties.select_related("person").order_by("role", "pk")]
            + [f"调解员{m.mediator.name}"]
        ),
    }
    form = forms.SessionForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                s = services.session_record(
                    mediation=m, by=request.user, held_at=d["held_at"], place=d["place"],
                    participants=d["participants"], record=d["record"], result=d["result"],
                    expected_version=d.get("version"),
                )
            except StaleEdit as exc:
                form.add_error(None, f"{exc} {STALE_HINT}")
                status = 409
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 403 if isinstance(exc, NotAllowed) else 400
            else:
                messages.success(request, f"已记录第 {s.number} 次调解。")
                return redirect("mediation:detail", pk=pk)
    return render(request, "mediation/session.html", {"m": m, "case": m.case, "form": form, "number": number}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    m = selectors.mediation_get_for_user(request.user, pk)
    existing = Agreement.objects.filter(pk=m.pk).first()
    initial: dict[str, Any] = {"version": m.case.version}
    if existing is not None:
        initial.update(
            facts=existing.facts, terms=existing.terms, amount=existing.amount, beneficiaries=existing.beneficiaries,
            performance_way=existing.performance_way, performance_due=existing.performance_due, copies=existing.copies,
        )
    else:
        initial.update(
            facts=m.case.description or m.case.title, amount=m.case.amount,
            beneficiaries=m.case.people_count if m.case.category == Category.LABOUR else 0, copies=3,
        )
    form = forms.AgreementForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.agreement_draft(
                    mediation=m, by=request.user, facts=d["facts"], terms=d["terms"], amount=d.get("amount"),
                    beneficiaries=d.get("beneficiaries") or 0, performance_way=d.get("performance_way", ""),
                    performance_due=d.get("performance_due"), copies=d["copies"], expected_version=d.get("version"),
                )
            except StaleEdit as exc:
                form.add_error(None, f"{exc} {STALE_HINT}")
                status = 409
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 403 if isinstance(exc, NotAllowed) else 400
            else:
                messages.success(request, "调解协议草稿已保存。核对无误后，当事人签字，再点击「签署调解协议」。")
                return redirect("mediation:detail", pk=pk)
    return render(
        request, "mediation/agreement.html", {"m": m, "case": m.case, "form": form, "existing": existing},
        status=status,
    )


def _pdf_response(agreement: Agreement) -> HttpResponse:
    data = agreement_pdf(agreement)
    name = f"调解协议书-{agreement.mediation.case.tracking_no}.pdf"
    response = HttpResponse(data, content_type="application/pdf")
    from urllib.parse import quote

    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


@login_required
def agreement_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The agreement as PDF, for whoever may read the mediation — or, for a referred matter, the
    referring body's staff (they receive the agreement with the outcome report)."""
    try:
        m = selectors.mediation_get_for_user(request.user, pk)
    except Http404:
        m = selectors.referral_get_for_user(request.user, pk).case.mediation
    agreement = Agreement.objects.filter(pk=m.pk).select_related("mediation__committee", "mediation__mediator__user").first()
    if agreement is None:
        raise Http404("尚未起草调解协议。")
    return _pdf_response(agreement)


# ============================================================================================
# Referrals (诉调 / 警调 / 访调对接)
# ============================================================================================


@login_required
def referrals(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "") for k in ("kind", "open")}
    qs = selectors.referral_list_for_user(request.user, filters=filters)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for r in page.object_list:
        r.remaining = remaining_text(r.case.due_at) if r.case.is_open else ("", "none")
        r.mediation_or_none = getattr(r.case, "mediation", None) if hasattr(r.case, "mediation") else None
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "mediation/referrals.html",
        {"page": page, "filters": filters, "kinds": ReferralKind.choices, "query": query.urlencode()},
    )


def _referral_units(user: Any):
    """Units a user may register a referral from: their own referring unit, or those of their county."""
    from centers.models import Membership

    kinds = [k for ks in services.REFERRING_UNIT_KINDS.values() for k in ks]
    own = Unit.objects.filter(
        memberships__user=user, memberships__is_active=True, kind__in=kinds, is_active=True
    ).distinct()
    if own.exists():
        return own
    posts = Membership.objects.filter(user=user, is_active=True, center__isnull=False).select_related("center__region")
    paths = {county_of(p.center.region).path for p in posts}
    if user.is_superuser:
        return Unit.objects.filter(kind__in=kinds, is_active=True).order_by("region__path", "name")
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(region__path__startswith=p)
    return Unit.objects.filter(q, kind__in=kinds, is_active=True).order_by("region__path", "name")


def _referral_regions(user: Any, units):
    qs = restrict(Region.objects.exclude(kind=RegionKind.GRID), user)
    if not qs.exists() and units:
        county = county_of(units[0].region)
        qs = Region.objects.filter(path__startswith=county.path).exclude(kind=RegionKind.GRID)
    return qs.order_by("path")


@login_required
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest) -> HttpResponse:
    units = list(_referral_units(request.user))
    form = forms.ReferralForm(
        request.POST or None, units=Unit.objects.filter(pk__in=[u.pk for u in units]),
        regions=_referral_regions(request.user, units),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            source = None
            if d.get("source_case"):
                source = restrict(Case.objects.all(), request.user).filter(tracking_no=d["source_case"].strip()).first()
                if source is None:
                    form.add_error("source_case", "未找到该受理编号的事项，或您无权查看。")
            if not form.errors:
                try:
                    referral = services.referral_receive(
                        by=request.user, kind=d["kind"], referring_unit=d["referring_unit"],
                        external_no=d["external_no"], region=d["region"], title=d["title"], category=d["category"],
                        description=d.get("description", ""), parties=form.parties(), deadline=d.get("deadline"),
                        contact=d.get("contact", ""), source_case=source, amount=d.get("amount"),
                        people_count=d["people_count"],
                    )
                except DomainError as exc:
                    form.add_error(None, str(exc))
                    status = 403 if isinstance(exc, NotAllowed) else 400
                else:
                    messages.success(request, f"已登记 {referral.case.tracking_no}（{referral.short} {referral.external_no}）。")
                    return redirect("mediation:referral", pk=referral.pk)
    return render(request, "mediation/referral_new.html", {"form": form}, status=status)


@login_required
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    r = selectors.referral_get_for_user(request.user, pk)
    mediation = Mediation.objects.filter(pk=r.pk).select_related("committee", "mediator__user").first()
    agreement = Agreement.objects.filter(pk=r.pk).first()
    can_mediation = bool(lifecycle.can_read(request.user, r.case))
    return render(
        request,
        "mediation/referral.html",
        {
            "r": r,
            "case": r.case,
            "mediation": mediation,
            "agreement": agreement,
            "can_open_case": can_mediation,
            "can_assign": can_mediation and r.case.status in (Status.REGISTERED, Status.ACCEPTED)
            and mediation is None and lifecycle.allowed(request.user, r.case, "mediation_assign"),
            "remaining": remaining_text(r.case.due_at) if r.case.is_open else ("", "none"),
        },
    )


# ============================================================================================
# On the case page: a link to the mediation, or to the assignment page
# ============================================================================================


def case_page_link(user: Any, case: Case) -> tuple[str, str] | None:
    """The case page's way into mediation (cases.views.register_case_link)."""
    if case.kind not in services.MEDIABLE_KINDS:
        return None
    if Mediation.objects.filter(pk=case.pk).exists():
        return "调解详情", reverse("mediation:detail", kwargs={"pk": case.pk})
    if lifecycle.allowed(user, case, "mediation_assign"):
        return "交人民调解（推荐调解员）", reverse("mediation:assign", kwargs={"pk": case.pk})
    return None


def register_case_page() -> None:
    from cases import views as case_views

    case_views.register_case_link(case_page_link)
