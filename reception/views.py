"""Pages of the hall. Thin: read through selectors, write through services, show DomainError on the page.

Every page for staff answers 404 to a user who is not hall staff of a center ("not there" and
"not yours" alike); objects come through the jurisdiction gate. The public status page needs the
tracking number AND its random token, and shows no personal data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.clocks import fmt
from cases.models import DONE_STATES, CaseKind
from cases.services import person_find
from centers.models import Center
from centers.services import DomainError

from . import receipts, routing, selectors, services
from .forms import (
    AppointmentForm,
    CounsellingFinishForm,
    CounsellingSessionForm,
    DutyForm,
    LeaderBookingForm,
    LeaderOutcomeForm,
    LeaderSlotForm,
    PartyFormSet,
    StatusQueryForm,
    TicketForm,
    VisitForm,
    WindowForm,
)
from .models import Route, StatusLink, TicketStatus, Window
from .selectors import (
    COUNSELLING_MASK,
    appointments_for,
    counselling_cases_for,
    counselling_for_user,
    current_ticket,
    duties_today,
    eligible_tickets,
    hall_center_for,
    hall_daily_stats,
    hall_overview,
    is_counsellor_for,
    is_hall_staff,
    is_supervisor,
    leader_slot_for_user,
    leader_slots,
    my_registrations,
    person_history,
    readable_ids,
    roster,
    sees_counselling_content,
    summons_for_user,
    summonses_for_unit_staff,
    ticket_for_user,
    visit_for_user,
    windows_of,
)
from .validators import InvalidNumber, clean_id_number, clean_phone


def case_url(pk: int, kind: str = "") -> str:
    """The matter's page: a petition's own page, else the case page (when those apps provide one)."""
    names = (["petitions:detail"] if kind == CaseKind.PETITION else []) + ["cases:detail"]
    for name in names:
        try:
            return reverse(name, args=[pk])
        except NoReverseMatch:
            continue
    return ""


def _hall(request: HttpRequest) -> Center:
    center = hall_center_for(request.user)
    if center is None:
        raise Http404("您没有接待大厅的岗位。")
    return center


def _supervised_hall(request: HttpRequest) -> Center:
    center = _hall(request)
    if not is_supervisor(request.user, center):
        raise Http404("只有大厅主管可以查看。")
    return center


def _desk_window(request: HttpRequest, center: Center) -> Window | None:
    """The window this clerk works at today (?window= picks one of several; a supervisor may pick any)."""
    duties = {d.window_id: d.window for d in duties_today(request.user).filter(window__center=center)}
    wanted = request.GET.get("window") or request.POST.get("window")
    if wanted and wanted.isdigit():
        pk = int(wanted)
        if pk in duties:
            return duties[pk]
        if is_supervisor(request.user, center):
            return windows_of(center).filter(pk=pk).first()
        raise Http404("您今天不在该窗口值班。")
    return next(iter(duties.values()), None)


# ============================================================================================
# The clerk's desk and the queue
# ============================================================================================


@login_required
@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest) -> HttpResponse:
    center = _hall(request)
    window = _desk_window(request, center)
    today = timezone.localdate()
    if request.method == "POST":
        if window is None:
            raise Http404("您今天没有排班。")
        action = request.POST.get("action")
        try:
            if action == "call":
                ticket = services.ticket_call_next(by=request.user, window=window)
                if ticket is None:
                    messages.info(request, "目前没有等候的群众。")
                else:
                    messages.success(request, f"请 {ticket.number} 号到 {window.number} 号窗口办理。")
            elif action in ("finish", "no_show"):
                ticket = ticket_for_user(request.user, int(request.POST.get("ticket") or 0))
                if action == "finish":
                    services.ticket_finish(by=request.user, ticket=ticket)
                else:
                    services.ticket_no_show(by=request.user, ticket=ticket)
                    messages.info(request, f"{ticket.number} 号已过号。")
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect(f"{reverse('reception:desk')}?window={window.pk}")
    waiting = list(eligible_tickets(window, today)[:8]) if window else []
    context = {
        "center": center,
        "window": window,
        "windows": [d.window for d in duties_today(request.user).filter(window__center=center)],
        "current": current_ticket(window, today) if window else None,
        "waiting": waiting,
        "waiting_count": eligible_tickets(window, today).count() if window else 0,
        "recent": my_registrations(request.user)[:8],
        "today": today,
    }
    return render(request, "reception/desk.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def take(request: HttpRequest) -> HttpResponse:
    """取号 at the hall's entrance (operated by the guide or a clerk); prints a slip."""
    center = _hall(request)
    form = TicketForm(request.POST or None, center=center)
    ticket = None
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["target"]
        window = form.windows.get(target)
        try:
            ticket = services.ticket_take(
                by=request.user,
                center=center,
                window=window,
                department="" if window else target,
                people_count=form.cleaned_data["people_count"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            ahead = eligible_ahead(ticket)
            return render(
                request, "reception/ticket.html", {"ticket": ticket, "ahead": ahead, "center": center}
            )
    return render(request, "reception/take.html", {"form": form, "center": center, "ticket": ticket})


def eligible_ahead(ticket) -> int:
    from .models import Ticket

    return Ticket.objects.filter(
        center_id=ticket.center_id,
        day=ticket.day,
        status=TicketStatus.WAITING,
        taken_at__lt=ticket.taken_at,
        department=ticket.department,
    ).count()


# ============================================================================================
# Registration
# ============================================================================================


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    center = _hall(request)
    window = _desk_window(request, center)
    ticket = None
    ticket_id = request.POST.get("ticket") or request.GET.get("ticket")
    if ticket_id and str(ticket_id).isdigit():
        ticket = ticket_for_user(request.user, int(ticket_id))
    initial: dict[str, Any] = {}
    if ticket is not None:
        initial = {"ticket": ticket.pk, "people_count": ticket.people_count}
    form = VisitForm(request.POST or None, request.FILES or None, center=center, initial=initial)
    parties = PartyFormSet(request.POST or None, prefix="party")
    if request.method == "POST" and form.is_valid() and parties.is_valid():
        d = form.cleaned_data
        try:
            visit = services.visit_register(
                by=request.user,
                center=center,
                window=window,
                ticket=ticket,
                name=d["name"],
                id_number=d["id_number"],
                phone=d["phone"],
                address=d["address"],
                region=_region(center, d["region"]),
                category=d["category"],
                matter=d["matter"],
                description=d["description"],
                people_count=d["people_count"],
                parties=[
                    services.PartyInput(
                        name=p["name"], role=p.get("role") or "respondent", phone=p.get("phone", "")
                    )
                    for p in parties.cleaned_data
                    if p and p.get("name")
                ],
                representatives=d["representatives"],
                route=d["route"],
                options=services.RouteOptions(
                    result=d["result"],
                    satisfaction=d["satisfaction"],
                    unit=d["unit"],
                    units=[form.units_by_id[pk] for pk in d["units"] if pk in form.units_by_id],
                    summons_hours=d["summons_hours"] or 2,
                    mediator=form.mediators_by_id.get(d["mediator"]) if d["mediator"] else None,
                ),
                attach_to=_cases(d["attach"]),
                photos=d["photos"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "登记完成。请按回车打印回执。")
            return redirect("reception:visit", visit.pk)
    return render(
        request,
        "reception/register.html",
        {
            "form": form,
            "parties": parties,
            "center": center,
            "window": window,
            "ticket": ticket,
            "legal_unit_ids": form.legal_unit_ids,
            "routes": Route,
            "attached": [int(v) for v in request.POST.getlist("attach") if v.isdigit()],
        },
    )


def _region(center: Center, pk: int):
    from centers.models import Region

    region = Region.objects.filter(pk=pk, path__startswith=center.region.path).first()
    if region is None:
        raise DomainError("事项发生地须在本中心辖区内。")
    return region


def _cases(ids: list[int]):
    from cases.models import Case

    return list(Case.objects.filter(pk__in=ids)) if ids else []


@login_required
@require_GET
@never_cache
def lookup(request: HttpRequest) -> JsonResponse:
    """Returning visitor: by ID number (or phone), through the keyed hash; masked numbers only."""
    _hall(request)
    raw_id = (request.GET.get("id_number") or "").strip()
    raw_phone = (request.GET.get("phone") or "").strip()
    id_number = phone = ""
    errors: dict[str, str] = {}
    try:
        id_number = clean_id_number(raw_id) if raw_id else ""
    except InvalidNumber as exc:
        errors["id_number"] = str(exc)
    try:
        phone = clean_phone(raw_phone) if raw_phone else ""
    except InvalidNumber as exc:
        errors["phone"] = str(exc)
    person = person_find(id_number=id_number, phone=phone) if (id_number or phone) else None
    history = person_history(request.user, person)
    body: dict[str, Any] = {"found": person is not None, "errors": errors}
    if person is not None:
        body["person"] = {
            "name": person.name,
            "id_number": person.id_number_masked,
            "phone": person.phone_masked,
            "address": person.address,
            "matched_by": "id_number" if id_number and person.id_number_hash else "phone",
        }
        body["visits"] = history.visits
        body["open_cases"] = [{**c, "url": case_url(c["id"], c["kind_code"])} for c in history.open_cases]
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


@login_required
@require_GET
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = visit_for_user(request.user, pk)
    links = list(
        visit.visit_cases.select_related("case__owning_center", "case__owning_unit", "case__status_link")
    )
    readable = readable_ids(request.user, [vc.case_id for vc in links])
    rows = [
        {
            "link": vc,
            "case": vc.case,
            "readable": vc.case_id in readable,
            "title": COUNSELLING_MASK if vc.case.kind == CaseKind.COUNSELLING else vc.case.title,
            "url": case_url(vc.case_id, vc.case.kind) if vc.case_id in readable else "",
            "status_url": _status_path(vc.case),
            "due": fmt(vc.case.due_at) if vc.case.status not in DONE_STATES else "",
        }
        for vc in links
    ]
    return render(request, "reception/visit.html", {"visit": visit, "rows": rows})


def _status_path(case) -> str:
    link = getattr(case, "status_link", None)
    return reverse("reception:status", args=[case.tracking_no, link.token]) if link else ""


@login_required
@require_GET
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    visit = visit_for_user(request.user, pk)
    links = list(visit.visit_cases.select_related("case").order_by("-opened", "pk"))

    def status_url(link) -> tuple[str, str]:
        token = services.status_link_for(link.case).token
        return request.build_absolute_uri(
            reverse("reception:status", args=[link.case.tracking_no, token])
        ), token

    pdf = receipts.build_receipt(visit, links, status_url)
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="receipt-{visit.pk}.pdf"'
    return response


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的登记: every matter this clerk took in, with its progress (首问负责)."""
    _hall(request)
    page = Paginator(my_registrations(request.user), 30).get_page(request.GET.get("page"))
    readable = readable_ids(request.user, [c.pk for c in page])
    rows = [
        {
            "case": c,
            "title": COUNSELLING_MASK if c.kind == CaseKind.COUNSELLING else c.title,
            "url": case_url(c.pk, c.kind) if c.pk in readable else "",
            "progress": c.last_summary if c.pk in readable and c.kind != CaseKind.COUNSELLING else "",
            "due": fmt(c.due_at) if c.status not in DONE_STATES else "",
        }
        for c in page
    ]
    return render(request, "reception/mine.html", {"page": page, "rows": rows})


# ============================================================================================
# Public status page (no login, no personal data)
# ============================================================================================


def _public(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def status(request: HttpRequest, tracking_no: str, token: str) -> HttpResponse:
    link = (
        StatusLink.objects.select_related("case")
        .filter(token=token.lower(), case__tracking_no=tracking_no)
        .first()
    )
    if link is None:
        raise Http404("未找到该事项，请核对受理编号和查询码。")
    case = link.case
    done = case.status in DONE_STATES
    context = {
        "tracking_no": case.tracking_no,
        "status": case.get_status_display(),
        "next_step": routing.NEXT_BY_STATUS.get(case.status, ""),
        "due": "" if done else fmt(case.due_at),
        "done": done,
        "updated": timezone.localtime(case.updated_at),
    }
    return _public(render(request, "reception/status.html", context))


@require_GET
def status_query(request: HttpRequest) -> HttpResponse:
    form = StatusQueryForm(request.GET or None)
    if request.GET and form.is_valid():
        tracking_no = form.cleaned_data["tracking_no"].strip()
        code = form.cleaned_data["code"].strip().lower()
        if StatusLink.objects.filter(token=code, case__tracking_no=tracking_no).exists():
            return redirect("reception:status", tracking_no, code)
        form.add_error(None, "未找到该事项，请核对受理编号和查询码。")
    return _public(render(request, "reception/status_query.html", {"form": form}))


# ============================================================================================
# Hall overview, windows and roster (大厅主管)
# ============================================================================================


@login_required
@require_http_methods(["GET", "POST"])
def overview(request: HttpRequest) -> HttpResponse:
    center = _supervised_hall(request)
    if request.method == "POST":
        visit = visit_for_user(request.user, int(request.POST.get("visit") or 0))
        try:
            services.visit_depart(by=request.user, visit=visit)
            messages.success(request, "已登记离厅。")
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("reception:overview")
    now = timezone.now()
    return render(
        request,
        "reception/overview.html",
        {"center": center, **hall_overview(center, now), "stats": hall_daily_stats(center, timezone.localdate(now))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def windows(request: HttpRequest) -> HttpResponse:
    center = _supervised_hall(request)
    window_form = WindowForm(request.POST if request.POST.get("form") == "window" else None, center=center)
    duty_form = DutyForm(request.POST if request.POST.get("form") == "duty" else None, center=center)
    if request.method == "POST":
        try:
            if request.POST.get("form") == "window" and window_form.is_valid():
                d = window_form.cleaned_data
                services.window_create(
                    by=request.user,
                    center=center,
                    number=d["number"],
                    name=d["name"],
                    department=d["department"],
                    unit=window_form.units.get(d["unit"]) if d["unit"] else None,
                )
                messages.success(request, "窗口已添加。")
                return redirect("reception:windows")
            if request.POST.get("form") == "duty" and duty_form.is_valid():
                d = duty_form.cleaned_data
                services.duty_set(
                    by=request.user,
                    window=duty_form.window_map[d["window"]],
                    date=d["date"],
                    users=[duty_form.clerks[pk] for pk in d["users"] if pk in duty_form.clerks],
                )
                messages.success(request, "排班已保存。")
                return redirect("reception:windows")
            if request.POST.get("form") == "toggle":
                window = (
                    windows_of(center)
                    .model.objects.filter(center=center, pk=request.POST.get("window"))
                    .first()
                )
                if window is None:
                    raise Http404
                services.window_set_active(by=request.user, window=window, active=not window.is_active)
                return redirect("reception:windows")
        except DomainError as exc:
            (window_form if request.POST.get("form") == "window" else duty_form).add_error(None, str(exc))
    today = timezone.localdate()
    all_windows = Window.objects.filter(center=center).select_related("unit").order_by("number")
    on_duty = roster(center, today)
    rows = [{"window": w, "clerks": on_duty.get(w.pk, [])} for w in all_windows]
    return render(
        request,
        "reception/windows.html",
        {"center": center, "rows": rows, "window_form": window_form, "duty_form": duty_form, "today": today},
    )


# ============================================================================================
# Units: acknowledge a summons (部门报到)
# ============================================================================================


@login_required
@require_GET
def summonses(request: HttpRequest) -> HttpResponse:
    rows = list(summonses_for_unit_staff(request.user)[:200])
    if not rows and not request.user.memberships.filter(unit__isnull=False, is_active=True).exists():
        raise Http404("您不在任何部门任职。")
    return render(
        request, "reception/summonses.html", {"rows": rows, "now": timezone.now(), "case_url": case_url}
    )


@login_required
@require_POST
def summons_ack(request: HttpRequest, pk: int) -> HttpResponse:
    summons = summons_for_user(request.user, pk)
    try:
        services.summons_acknowledge(by=request.user, summons=summons, note=request.POST.get("note", ""))
        messages.success(request, f"{summons.unit.name} 已报到。")
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("reception:summonses")


# ============================================================================================
# The counselling room (心理咨询室)
# ============================================================================================


def counselling_guard(user: Any, case: Any) -> str | None:
    """The case page of a counselling case is the counselling room's masked page for everyone who
    passes the gate without the right to its content (cases.views.DETAIL_GUARDS)."""
    if case.kind == CaseKind.COUNSELLING and not sees_counselling_content(user, case):
        return reverse("reception:counselling", args=[case.pk])
    return None


def counselling_link(user: Any, case: Any) -> tuple[str, str] | None:
    if case.kind == CaseKind.COUNSELLING:
        return ("心理咨询室记录", reverse("reception:counselling", args=[case.pk]))
    return None


@login_required
@require_GET
def counselling_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(counselling_cases_for(request.user), 50).get_page(request.GET.get("page"))
    rows = [{"case": c, "content": sees_counselling_content(request.user, c)} for c in page.object_list]
    return render(request, "reception/counselling_list.html", {"page": page, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def counselling_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = counselling_for_user(request.user, pk)
    content = sees_counselling_content(request.user, case)
    counsellor = is_counsellor_for(request.user, case)
    action = request.POST.get("action") if request.method == "POST" else None
    session_form = CounsellingSessionForm(request.POST if action == "session" else None, prefix="s")
    finish_form = CounsellingFinishForm(request.POST if action == "finish" else None, prefix="f")
    if action and not counsellor:
        raise Http404("只有心理咨询师可以记录。")
    status = 200
    if action == "session" and session_form.is_valid():
        try:
            services.counselling_session_add(
                by=request.user,
                case=case,
                minutes=session_form.cleaned_data["minutes"],
                notes=session_form.cleaned_data["notes"],
            )
        except DomainError as exc:
            session_form.add_error(None, str(exc))
        else:
            messages.success(request, "已记录本次咨询。")
            return redirect("reception:counselling", pk=case.pk)
    elif action == "finish" and finish_form.is_valid():
        try:
            services.counselling_finish(by=request.user, case=case, **finish_form.cleaned_data)
        except DomainError as exc:
            finish_form.add_error(None, str(exc))
        else:
            messages.success(request, "心理咨询已结束。")
            return redirect("reception:counselling", pk=case.pk)
    if action:
        status = 400
    record = getattr(case, "counselling", None) if content else None
    context = {
        "case": case,
        "content": content,
        "counsellor": counsellor,
        "mask": COUNSELLING_MASK,
        "record": record,
        "sessions": case.counselling_sessions.select_related("counsellor") if content else [],
        "session_form": session_form,
        "finish_form": finish_form,
    }
    return render(request, "reception/counselling.html", context, status=status)


# ============================================================================================
# Leader reception days (领导接访日) and appointments
# ============================================================================================


def _slot_center(user: Any) -> Center | None:
    """The center whose calendar this user keeps: their hall, else a center they staff."""
    from centers.models import Membership

    center = hall_center_for(user)
    if center is not None:
        return center
    m = (
        Membership.objects.filter(user=user, is_active=True, role__in=services.SLOT_ROLES, center__isnull=False)
        .select_related("center__region")
        .order_by("center__region__depth")
        .first()
    )
    return m.center if m else None


@login_required
@require_http_methods(["GET", "POST"])
def leader_days(request: HttpRequest) -> HttpResponse:
    center = _slot_center(request.user)
    can_plan = center is not None and is_hall_staff(request.user, center, *services.SLOT_ROLES)
    form = None
    if can_plan:
        form = LeaderSlotForm(request.POST or None, leaders=services.leaders_for(center))
    status = 200
    if request.method == "POST":
        if form is None:
            raise Http404("您无权安排领导接访日。")
        if form.is_valid():
            d = form.cleaned_data
            try:
                slot = services.leader_slot_create(
                    by=request.user,
                    center=center,
                    leader=form.leaders[d["leader"]],
                    date=d["date"],
                    starts_at=d["starts_at"],
                    ends_at=d["ends_at"],
                    topics=d["topics"],
                    place=d["place"],
                    capacity=d["capacity"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"已安排 {slot}。")
                return redirect("reception:leader_days")
        status = 400
    slots = leader_slots(request.user, since=timezone.localdate())[:100]
    return render(
        request, "reception/leader_days.html", {"slots": slots, "form": form, "center": center}, status=status
    )


def _find_visitor(form) -> Any:
    person = person_find(id_number=form.cleaned_data["id_number"], phone=form.cleaned_data["phone"])
    if person is None:
        form.add_error("id_number", "未找到该来访人，请先办理来访登记。")
    return person


def _find_case(request: HttpRequest, form, tracking_no: str) -> Any:
    from cases.models import Case
    from centers.jurisdiction import restrict

    case = restrict(Case.objects.filter(tracking_no=tracking_no.strip()), request.user).first()
    if case is None:
        form.add_error("tracking_no", "没有该受理编号的事项，或您无权查看。")
    return case


@login_required
@require_http_methods(["GET", "POST"])
def leader_day(request: HttpRequest, pk: int) -> HttpResponse:
    slot = leader_slot_for_user(request.user, pk)
    can_book = is_hall_staff(request.user, slot.center)
    action = request.POST.get("action") if request.method == "POST" else None
    book_form = LeaderBookingForm(request.POST if action == "book" else None, prefix="b") if can_book else None
    outcome_errors: dict[int, Any] = {}
    if action == "book":
        if book_form is None:
            raise Http404("只有大厅工作人员可以预约。")
        if book_form.is_valid():
            person = _find_visitor(book_form)
            case = _find_case(request, book_form, book_form.cleaned_data["tracking_no"])
            if person is not None and case is not None:
                try:
                    services.leader_booking_create(by=request.user, slot=slot, person=person, case=case)
                except DomainError as exc:
                    book_form.add_error(None, str(exc))
                else:
                    messages.success(request, f"已预约：{person.name}（{case.tracking_no}）。已短信提醒来访人。")
                    return redirect("reception:leader_day", pk=slot.pk)
    elif action == "receive":
        from .models import LeaderBooking

        booking = LeaderBooking.objects.filter(slot=slot, pk=int(request.POST.get("booking") or 0)).first()
        if booking is None:
            raise Http404("没有该预约。")
        form = LeaderOutcomeForm(request.POST, prefix=f"o{booking.pk}")
        if form.is_valid():
            try:
                services.leader_booking_receive(
                    by=request.user, booking=booking, instruction=form.cleaned_data["instruction"]
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"已记录领导批示：{booking.case.tracking_no}。")
                return redirect("reception:leader_day", pk=slot.pk)
        outcome_errors[booking.pk] = form
    visitors = selectors.leader_day(request.user, slot)
    rows = [
        {
            "v": v,
            "form": outcome_errors.get(v.booking.pk) or LeaderOutcomeForm(prefix=f"o{v.booking.pk}"),
            "url": case_url(v.booking.case_id, v.booking.case.kind),
        }
        for v in visitors
    ]
    context = {
        "slot": slot,
        "rows": rows,
        "book_form": book_form,
        "can_receive": request.user.pk == slot.leader_id
        or is_hall_staff(request.user, slot.center, *services.SLOT_ROLES),
        "today": timezone.localdate(),
    }
    return render(request, "reception/leader_day.html", context, status=400 if action else 200)


@login_required
@require_http_methods(["GET", "POST"])
def appointments(request: HttpRequest) -> HttpResponse:
    center = _hall(request)
    form = AppointmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = _find_visitor(form)
        tracking_no = form.cleaned_data["tracking_no"]
        case = _find_case(request, form, tracking_no) if tracking_no else None
        if person is not None and (case is not None or not tracking_no):
            d = form.cleaned_data
            try:
                a = services.appointment_create(
                    by=request.user,
                    center=center,
                    person=person,
                    case=case,
                    purpose=d["purpose"],
                    at=d["at"],
                    place=d["place"],
                    note=d["note"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"已预约 {person.name}：{fmt(a.at)}，将短信提醒。")
                return redirect("reception:appointments")
    rows = appointments_for(center, since=timezone.now() - dt.timedelta(hours=12))[:200]
    return render(
        request,
        "reception/appointments.html",
        {"form": form, "rows": rows, "center": center},
        status=400 if request.method == "POST" else 200,
    )
