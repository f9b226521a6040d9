"""Reads for the hall. Lists take the user and go through the jurisdiction gate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from cases import metrics
from cases.models import OPEN_STATES, Case, CaseKind, CaseParty, Person, TimelineEntry
from centers.jurisdiction import get_for_user_or_404, restrict
from centers.models import Center, Membership, Role, Unit

from .models import Duty, Route, Summons, Ticket, TicketStatus, Visit, VisitCase, Window

HALL_ROLES = (Role.WINDOW_CLERK, Role.HALL_SUPERVISOR)


def hall_center_for(user: Any) -> Center | None:
    """The center whose hall this user works in (as a clerk or the supervisor), the highest first."""
    if not getattr(user, "is_authenticated", False):
        return None
    m = (
        Membership.objects.filter(user=user, is_active=True, role__in=HALL_ROLES, center__isnull=False)
        .select_related("center__region")
        .order_by("center__region__depth", "pk")
        .first()
    )
    return m.center if m else None


def is_hall_staff(user: Any, center: Center, *roles: str) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return Membership.objects.filter(
        user=user, center=center, is_active=True, role__in=roles or HALL_ROLES
    ).exists()


def is_supervisor(user: Any, center: Center) -> bool:
    return is_hall_staff(user, center, Role.HALL_SUPERVISOR)


def windows_of(center: Center) -> QuerySet[Window]:
    return Window.objects.filter(center=center, is_active=True).select_related("unit").order_by("number")


def duties_today(user: Any, day: dt.date | None = None) -> QuerySet[Duty]:
    day = day or timezone.localdate()
    return Duty.objects.filter(user=user, date=day, window__is_active=True).select_related(
        "window__center__region"
    )


def roster(center: Center, day: dt.date) -> dict[int, list[Any]]:
    """window id → clerks on duty that day (one query)."""
    out: dict[int, list[Any]] = {}
    for d in (
        Duty.objects.filter(window__center=center, date=day).select_related("user").order_by("user__username")
    ):
        out.setdefault(d.window_id, []).append(d.user)
    return out


def eligible_tickets(window: Window, day: dt.date) -> QuerySet[Ticket]:
    """Numbers this window may call: its own, its department's, and the general queue's."""
    return Ticket.objects.filter(
        Q(window=window) | Q(window__isnull=True, department__in=[window.department, ""]),
        center_id=window.center_id,
        day=day,
        status=TicketStatus.WAITING,
    ).order_by("taken_at", "pk")


def current_ticket(window: Window, day: dt.date) -> Ticket | None:
    return (
        Ticket.objects.filter(called_window=window, day=day, status=TicketStatus.CALLED)
        .order_by("-called_at")
        .first()
    )


def ticket_for_user(user: Any, pk: int) -> Ticket:
    return get_for_user_or_404(
        Ticket.objects.select_related("center", "window", "called_window"), user, pk=pk
    )


def visit_for_user(user: Any, pk: int) -> Visit:
    qs = Visit.objects.select_related("center__region", "person", "registered_by", "window", "region")
    return get_for_user_or_404(qs, user, pk=pk)


# --------------------------------------------------------------------------------------------
# Returning visitors
# --------------------------------------------------------------------------------------------

COUNSELLING_MASK = "心理咨询（内容保密）"


@dataclass
class History:
    person: Person | None
    visits: list[dict] = field(default_factory=list)
    open_cases: list[dict] = field(default_factory=list)


def person_history(user: Any, person: Person | None, *, visits: int = 10, cases: int = 20) -> History:
    """Earlier visits and open matters of `person`, as far as `user` may see them.

    Matters come through the gate (`restrict`): a counselling case, which lives at the county
    with the counsellors, stays hidden from a town clerk; the visit row then says only 心理咨询.
    """
    if person is None:
        return History(None)
    readable = restrict(Case.objects.all(), user)
    # The person's matters first, by the two small indexed look-ups, then the gate on those ids:
    # an OR of two sub-selects lets the planner walk the whole case table by date (1.5 s at 1M).
    mine = set(CaseParty.objects.filter(person=person).values_list("case_id", flat=True))
    mine.update(VisitCase.objects.filter(visit__person=person).values_list("case_id", flat=True))
    open_qs = (
        readable.filter(pk__in=sorted(mine), status__in=OPEN_STATES)
        .select_related("owning_center", "owning_unit")
        .order_by("-created_at")[:cases]
    )
    open_cases = [
        {
            "id": c.pk,
            "tracking_no": c.tracking_no,
            "title": COUNSELLING_MASK if c.kind == CaseKind.COUNSELLING else c.title,
            "kind": c.get_kind_display(),
            "kind_code": c.kind,
            "status": c.get_status_display(),
            "warning": c.warning_level,
            "owner": (c.owning_unit or c.owning_center).name,
            "created": timezone.localtime(c.created_at).strftime("%Y-%m-%d"),
        }
        for c in open_qs
    ]
    visit_rows = list(
        restrict(Visit.objects.filter(person=person), user)
        .select_related("center", "registered_by")
        .order_by("-registered_at")[:visits]
    )
    links: dict[int, list[str]] = {}
    for vc in VisitCase.objects.filter(visit__in=visit_rows, case__in=readable).select_related("case"):
        links.setdefault(vc.visit_id, []).append(vc.case.tracking_no)
    visit_list = [
        {
            "id": v.pk,
            "at": timezone.localtime(v.registered_at).strftime("%Y-%m-%d %H:%M"),
            "center": v.center.name,
            "route": v.get_route_display(),
            "matter": COUNSELLING_MASK if v.route == Route.COUNSELLING else v.matter,
            "people": v.people_count,
            "clerk": v.registered_by.display_name,
            "cases": links.get(v.pk, []),
        }
        for v in visit_rows
    ]
    return History(person, visit_list, open_cases)


# --------------------------------------------------------------------------------------------
# My registrations (首问负责)
# --------------------------------------------------------------------------------------------


def my_registrations(user: Any) -> QuerySet[Case]:
    """Cases this clerk registered or joined a visit to, newest first, with their latest progress.

    Not narrowed by the gate: the first-responsible clerk follows every matter they took in. The
    page shows a counselling case's number and status only (see `readable_ids`).
    """
    latest = TimelineEntry.objects.filter(case=OuterRef("pk")).order_by("-at", "-id")
    return (
        Case.objects.filter(
            Q(registered_by=user)
            | Q(pk__in=VisitCase.objects.filter(visit__registered_by=user).values("case_id"))
        )
        .select_related("owning_center", "owning_unit")
        .annotate(
            last_summary=Subquery(latest.values("summary")[:1]), last_at=Subquery(latest.values("at")[:1])
        )
        .order_by("-created_at", "-pk")
    )


def readable_ids(user: Any, ids: list[int]) -> set[int]:
    return set(restrict(Case.objects.filter(pk__in=ids), user).values_list("pk", flat=True))


# --------------------------------------------------------------------------------------------
# Joint handling
# --------------------------------------------------------------------------------------------


def summonses_for_unit_staff(user: Any) -> QuerySet[Summons]:
    """Summonses addressed to the user's units, open ones first."""
    units = Membership.objects.filter(user=user, is_active=True, unit__isnull=False).values("unit_id")
    return (
        Summons.objects.filter(unit_id__in=units)
        .select_related("case", "unit", "summoned_by")
        .order_by(F("acknowledged_at").asc(nulls_first=True), "due_at")
    )


def summons_for_user(user: Any, pk: int) -> Summons:
    return get_for_user_or_404(Summons.objects.select_related("case", "unit"), user, pk=pk)


def units_in_county(center: Center, kinds: tuple[str, ...] = ()) -> QuerySet[Unit]:
    """Active units of the county the center belongs to (optionally of some kinds)."""
    from centers.selectors import county_of

    county = county_of(center.region)
    qs = Unit.objects.filter(region__path__startswith=county.path, is_active=True).select_related("region")
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs.order_by("region__depth", "region__path", "name")


def mediators_in_county(center: Center) -> QuerySet:
    """Users holding an active mediator post (Role.MEDIATOR) at a center or unit of the center's county."""
    from centers.models import User
    from centers.selectors import county_of

    path = county_of(center.region).path
    posts = Membership.objects.filter(role=Role.MEDIATOR, is_active=True).filter(
        Q(center__region__path__startswith=path) | Q(unit__region__path__startswith=path)
    )
    return User.objects.filter(is_active=True, pk__in=posts.values("user_id")).order_by("username")


# --------------------------------------------------------------------------------------------
# Hall overview (大厅主管)
# --------------------------------------------------------------------------------------------


@dataclass
class QueueRow:
    window: Window
    clerks: list[Any]
    waiting: int
    oldest_wait_min: int | None
    called_today: int
    avg_wait_min: float | None
    serving: str


def hall_overview(center: Center, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the supervisor's screen shows, aggregated in the database (a handful of queries)."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    tickets = Ticket.objects.filter(center=center, day=day)
    # Waiting numbers by queue (window-specific, department, general): GROUP BY in SQL.
    queues = {
        (r["window_id"], r["department"]): r
        for r in tickets.filter(status=TicketStatus.WAITING)
        .values("window_id", "department")
        .annotate(n=Count("pk"), oldest=Min("taken_at"))
    }
    # Per calling window: numbers called today and their average wait.
    served = {
        r["called_window_id"]: r
        for r in tickets.filter(called_at__isnull=False)
        .values("called_window_id")
        .annotate(n=Count("pk"), avg_wait=metrics.average_days(start="taken_at", end="called_at"))
    }
    serving = dict(
        tickets.filter(status=TicketStatus.CALLED)
        .order_by("called_at")
        .values_list("called_window_id", "number")
    )
    on_duty = roster(center, day)
    rows = []
    for w in windows_of(center):
        mine = [queues.get((w.pk, w.department)), queues.get((w.pk, "")), queues.get((None, w.department))]
        mine = [q for q in mine if q]
        waiting = sum(q["n"] for q in mine)
        oldest = min((q["oldest"] for q in mine), default=None)
        s = served.get(w.pk)
        rows.append(
            QueueRow(
                window=w,
                clerks=on_duty.get(w.pk, []),
                waiting=waiting,
                oldest_wait_min=int((now - oldest).total_seconds() // 60) if oldest else None,
                called_today=s["n"] if s else 0,
                avg_wait_min=round(s["avg_wait"].total_seconds() / 60, 1) if s and s["avg_wait"] else None,
                serving=serving.get(w.pk, ""),
            )
        )
    general = queues.get((None, ""))
    totals = tickets.aggregate(
        taken=Count("pk"),
        waiting=Count("pk", filter=Q(status=TicketStatus.WAITING)),
        avg_wait=metrics.average_days(start="taken_at", end="called_at", filter=Q(called_at__isnull=False)),
        max_wait=Max(F("called_at") - F("taken_at"), filter=Q(called_at__isnull=False)),
    )
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    visits_today = Visit.objects.filter(center=center, registered_at__gte=start)
    by_route = list(
        visits_today.values("route")
        .annotate(n=Count("pk"), people=Sum("people_count"))
        .order_by("-n", "route")
    )
    labels = dict(Route.choices)
    for r in by_route:
        r["label"] = labels.get(r["route"], r["route"])
    groups = list(
        visits_today.filter(is_group=True, departed_at__isnull=True)
        .select_related("window", "registered_by")
        .order_by("registered_at")
    )
    return {
        "day": day,
        "rows": rows,
        "general_waiting": general["n"] if general else 0,
        "totals": {
            "taken": totals["taken"],
            "waiting": totals["waiting"],
            "avg_wait_min": round(totals["avg_wait"].total_seconds() / 60, 1) if totals["avg_wait"] else None,
            "max_wait_min": round(totals["max_wait"].total_seconds() / 60, 1) if totals["max_wait"] else None,
        },
        "by_route": by_route,
        "visits_today": sum(r["n"] for r in by_route),
        "people_today": sum(r["people"] or 0 for r in by_route),
        "groups": groups,
        "group_people": sum(g.people_count for g in groups),
    }


# --------------------------------------------------------------------------------------------
# The counselling room: who sees the content
# --------------------------------------------------------------------------------------------

COUNTY_CONTENT_ROLES = (Role.DISPATCHER, Role.CENTER_LEADER, Role.LEADERSHIP)


def _county_center_id(case: Case) -> int | None:
    from centers.selectors import center_of_region, county_of

    center = center_of_region(county_of(case.owning_center.region))
    return center.pk if center else None


def is_counsellor_for(user: Any, case: Case) -> bool:
    """A counsellor of the counselling room (Role.COUNSELLOR at the county center that holds the case)."""
    if getattr(user, "is_superuser", False):
        return True
    return Membership.objects.filter(
        user=user, is_active=True, role=Role.COUNSELLOR, center_id=_county_center_id(case)
    ).exists()


def sees_counselling_content(user: Any, case: Case) -> bool:
    """Stricter than the gate: the counselling room and the county center's staff (dispatchers and
    leaders) read a counselling case's story, sessions and outcome; everyone else who may see the
    case at all (a hall clerk, the first-responsible clerk, an assignee) reads only that it exists."""
    if is_counsellor_for(user, case):
        return True
    return Membership.objects.filter(
        user=user, is_active=True, role__in=COUNTY_CONTENT_ROLES, center_id=_county_center_id(case)
    ).exists()


def counselling_cases_for(user: Any) -> QuerySet[Case]:
    """Counselling cases through the gate (the county's), open ones first."""
    return (
        restrict(Case.objects.filter(kind=CaseKind.COUNSELLING), user)
        .select_related("counselling__counsellor")
        .order_by(F("closed_at").desc(nulls_first=True), "-created_at")
    )


def counselling_for_user(user: Any, pk: int) -> Case:
    return get_for_user_or_404(
        Case.objects.filter(kind=CaseKind.COUNSELLING).select_related("owning_center__region"), user, pk=pk
    )


# --------------------------------------------------------------------------------------------
# The hall's daily statistics: every kind of matter the hall took in
# --------------------------------------------------------------------------------------------


def hall_daily_stats(center: Center, day: dt.date) -> dict[str, Any]:
    """Matters the hall of `center` opened on `day`, by kind — every kind listed, zeros included —
    and how many were settled the same day. Counted through the visits (VisitCase.opened), so a
    counselling case placed at the county and a petition handed to a unit count for this hall."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = start + dt.timedelta(days=1)
    opened = VisitCase.objects.filter(
        opened=True, visit__center=center, visit__registered_at__gte=start, visit__registered_at__lt=end
    )
    rows = {
        r["case__kind"]: r
        for r in opened.values("case__kind").annotate(
            n=Count("case_id", distinct=True),
            people=Sum("case__people_count"),
            settled=Count("case_id", distinct=True, filter=Q(case__closed_at__lt=end, case__status="closed")),
        )
    }
    kinds = [
        {
            "kind": k,
            "label": label,
            "n": rows.get(k, {}).get("n", 0),
            "people": rows.get(k, {}).get("people") or 0,
            "settled": rows.get(k, {}).get("settled", 0),
        }
        for k, label in CaseKind.choices
    ]
    visits = Visit.objects.filter(center=center, registered_at__gte=start, registered_at__lt=end).aggregate(
        n=Count("pk"), people=Sum("people_count"), groups=Count("pk", filter=Q(is_group=True))
    )
    return {
        "day": day,
        "kinds": kinds,
        "total": sum(k["n"] for k in kinds),
        "settled": sum(k["settled"] for k in kinds),
        "visits": visits["n"],
        "people": visits["people"] or 0,
        "groups": visits["groups"],
    }


# --------------------------------------------------------------------------------------------
# Leader reception days and appointments
# --------------------------------------------------------------------------------------------


def leader_slots(user: Any, *, since: dt.date) -> QuerySet:
    from .models import LeaderSlot

    return (
        restrict(LeaderSlot.objects.filter(date__gte=since), user)
        .select_related("leader", "center")
        .annotate(booked=Count("bookings", filter=~Q(bookings__status="cancelled")))
        .order_by("date", "starts_at", "pk")
    )


def leader_slot_for_user(user: Any, pk: int):
    """The slot through the gate; its leader always sees their own day."""
    from .models import LeaderSlot

    qs = LeaderSlot.objects.select_related("leader", "center__region")
    slot = qs.filter(pk=pk, leader=user).first() if getattr(user, "is_authenticated", False) else None
    return slot or get_for_user_or_404(qs, user, pk=pk)


@dataclass
class LeaderVisitor:
    booking: Any
    history: History


def leader_day(user: Any, slot: Any) -> list[LeaderVisitor]:
    """The slot's visitors, each with their earlier visits and open matters as `user` may see them."""
    bookings = list(
        slot.bookings.exclude(status="cancelled")
        .select_related("person", "case", "instruction", "booked_by")
        .order_by("booked_at", "pk")
    )
    return [LeaderVisitor(b, person_history(user, b.person)) for b in bookings]


def appointments_for(center: Center, *, since: dt.datetime) -> QuerySet:
    from .models import Appointment

    return (
        Appointment.objects.filter(center=center, at__gte=since)
        .select_related("person", "case", "created_by")
        .order_by("at", "pk")
    )
