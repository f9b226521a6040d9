"""Writes of the reception hall: one function per write, keyword-only, each in one transaction.

Matters become cases through `cases.services` (and through the petitions and mediation modules'
own services, see `routing`); this module never sets a case's status itself.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from guardian.shortcuts import assign_perm

from cases.models import (
    OPEN_STATES,
    Attachment,
    Case,
    CaseKind,
    CaseParty,
    Category,
    PartyRole,
    Person,
    Satisfaction,
    Status,
    TimelineEntry,
    WarningPolicy,
)
from cases.services import (
    NotAllowed,
    case_accept,
    case_close,
    case_comment,
    case_resolve,
    case_start,
    center_staff,
    clock_tables_shared,
    notify,
    person_find,
    person_upsert,
)
from centers.jurisdiction import restrict
from centers.models import Center, DepartmentKind, Region, Role, Unit, User
from centers.services import DomainError

from . import routing, uploads
from .models import (
    Appointment,
    AppointmentPurpose,
    BookingStatus,
    CounsellingRecord,
    CounsellingSession,
    Duty,
    LeaderBooking,
    LeaderSlot,
    Route,
    StatusLink,
    Summons,
    Ticket,
    TicketCounter,
    TicketStatus,
    Visit,
    VisitCase,
    Window,
)
from .selectors import eligible_tickets, is_hall_staff, is_supervisor
from .validators import clean_id_number, clean_phone

# Queue-number letters by department (综合受理 = A); a window-specific number uses its window's letter.
PREFIXES: dict[str, str] = {
    "": "A",
    DepartmentKind.PUBLIC_SECURITY: "B",
    DepartmentKind.POLICE_STATION: "B",
    DepartmentKind.PROCURATORATE: "C",
    DepartmentKind.COURT: "D",
    DepartmentKind.TRIBUNAL: "D",
    DepartmentKind.JUSTICE: "E",
    DepartmentKind.JUSTICE_OFFICE: "E",
    DepartmentKind.PETITION: "F",
    DepartmentKind.HRSS: "G",
    DepartmentKind.HOUSING: "H",
    DepartmentKind.CIVIL_AFFAIRS: "J",
}
OTHER_PREFIX = "K"
MAX_PHOTOS = 6
# Status-page tokens: 12 characters from 31 unambiguous ones (~59 bits), short enough to type.
TOKEN_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # noqa: S105 - an alphabet, not a secret
TOKEN_LENGTH = 12


def _for_update(qs):
    """Row locks that skip rows another transaction holds (PostgreSQL); plain reads elsewhere."""
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


# ============================================================================================
# Windows and the roster
# ============================================================================================


@transaction.atomic
def window_create(
    *, by: User, center: Center, number: int, name: str, department: str, unit: Unit | None = None
) -> Window:
    if not is_supervisor(by, center):
        raise NotAllowed("只有大厅主管可以设置窗口。")
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写窗口名称。")
    if not 1 <= number <= 99:
        raise DomainError("窗口号须在 1 到 99 之间。")
    if department not in DepartmentKind.values:
        raise DomainError("请选择窗口所属部门类别。")
    if unit is not None and not unit.region.path.startswith(_county_path(center)):
        raise DomainError("进驻部门须为本县的部门。")
    if Window.objects.filter(center=center, number=number).exists():
        raise DomainError(f"{number} 号窗口已存在。")
    return Window.objects.create(center=center, number=number, name=name, department=department, unit=unit)


@transaction.atomic
def window_set_active(*, by: User, window: Window, active: bool) -> Window:
    if not is_supervisor(by, window.center):
        raise NotAllowed("只有大厅主管可以启用或停用窗口。")
    window.is_active = active
    window.save(update_fields=["is_active"])
    return window


@transaction.atomic
def duty_set(*, by: User, window: Window, date: dt.date, users: Sequence[User]) -> list[Duty]:
    """The roster of `window` on `date`: exactly these clerks (each must be a clerk of the center)."""
    if not is_supervisor(by, window.center):
        raise NotAllowed("只有大厅主管可以排班。")
    if date < timezone.localdate():
        raise DomainError("不能为过去的日期排班。")
    clerks = set(
        User.objects.filter(
            memberships__center=window.center,
            memberships__role__in=(Role.WINDOW_CLERK, Role.HALL_SUPERVISOR),
            memberships__is_active=True,
        ).values_list("pk", flat=True)
    )
    outsiders = [u.display_name for u in users if u.pk not in clerks]
    if outsiders:
        raise DomainError(f"{'、'.join(outsiders)} 不是本中心的窗口工作人员，不能排班。")
    Duty.objects.filter(window=window, date=date).exclude(user__in=list(users)).delete()
    return [
        Duty.objects.get_or_create(window=window, user=u, date=date, defaults={"assigned_by": by})[0]
        for u in users
    ]


# ============================================================================================
# The queue
# ============================================================================================


def _next_seq(center: Center, day: dt.date, prefix: str) -> int:
    """Bump the day's counter; the UPDATE holds the row lock until commit, so numbers never repeat."""
    updated = TicketCounter.objects.filter(center=center, day=day, prefix=prefix).update(last=F("last") + 1)
    if not updated:
        try:
            with transaction.atomic():
                TicketCounter.objects.create(center=center, day=day, prefix=prefix, last=1)
                return 1
        except IntegrityError:
            TicketCounter.objects.filter(center=center, day=day, prefix=prefix).update(last=F("last") + 1)
    return TicketCounter.objects.get(center=center, day=day, prefix=prefix).last


@transaction.atomic
def ticket_take(
    *,
    by: User,
    center: Center,
    department: str = "",
    window: Window | None = None,
    people_count: int = 1,
    now: dt.datetime | None = None,
) -> Ticket:
    """取号: a number for one window, for a department's windows, or (blank) for any window."""
    if not is_hall_staff(by, center):
        raise NotAllowed("只有本中心大厅工作人员可以发号。")
    if not 1 <= people_count <= 999:
        raise DomainError("来访人数须在 1 到 999 之间。")
    if window is not None:
        if window.center_id != center.pk or not window.is_active:
            raise DomainError("该窗口不在本大厅或已停用。")
        department = window.department
    elif department and department not in DepartmentKind.values:
        raise DomainError("未知的办理部门。")
    now = now or timezone.now()
    day = timezone.localdate(now)
    prefix = PREFIXES.get(department, OTHER_PREFIX)
    seq = _next_seq(center, day, prefix)
    return Ticket.objects.create(
        center=center,
        day=day,
        prefix=prefix,
        seq=seq,
        number=f"{prefix}{seq:03d}",
        department=department,
        window=window,
        people_count=people_count,
        taken_at=now,
    )


def _may_work_window(user: User, window: Window, day: dt.date) -> bool:
    return Duty.objects.filter(window=window, user=user, date=day).exists() or is_supervisor(
        user, window.center
    )


def ticket_call_next(*, by: User, window: Window, now: dt.datetime | None = None) -> Ticket | None:
    """叫号: the oldest waiting number this window may serve, or None when nobody waits.

    The number being served at this window is finished first. Two clerks calling at once never
    get the same number: the candidate row is locked with SKIP LOCKED (PostgreSQL) and claimed
    with an update guarded on `status = waiting`; a lost race moves on to the next candidate.
    """
    now = now or timezone.now()
    day = timezone.localdate(now)
    if not window.is_active:
        raise DomainError("该窗口已停用。")
    if not _may_work_window(by, window, day):
        raise NotAllowed(f"您今天不在 {window} 值班，不能叫号。")
    with transaction.atomic():
        Ticket.objects.filter(called_window=window, status=TicketStatus.CALLED).update(
            status=TicketStatus.DONE, finished_at=now
        )
        for _attempt in range(20):
            candidate = _for_update(eligible_tickets(window, day)).first()
            if candidate is None:
                return None
            claimed = Ticket.objects.filter(pk=candidate.pk, status=TicketStatus.WAITING).update(
                status=TicketStatus.CALLED, called_at=now, called_window=window, called_by=by
            )
            if claimed:
                candidate.refresh_from_db()
                return candidate
    raise DomainError("叫号繁忙，请稍后再试。")


def _ticket_end(ticket: Ticket, by: User, status: str, now: dt.datetime | None) -> Ticket:
    if not (is_hall_staff(by, ticket.center)):
        raise NotAllowed("您无权处理该号。")
    now = now or timezone.now()
    done = Ticket.objects.filter(pk=ticket.pk, status=TicketStatus.CALLED).update(
        status=status, finished_at=now
    )
    if not done:
        raise DomainError(f"{ticket.number} 号当前不在办理中。")
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def ticket_finish(*, by: User, ticket: Ticket, now: dt.datetime | None = None) -> Ticket:
    return _ticket_end(ticket, by, TicketStatus.DONE, now)


@transaction.atomic
def ticket_no_show(*, by: User, ticket: Ticket, now: dt.datetime | None = None) -> Ticket:
    """过号: called but not present."""
    return _ticket_end(ticket, by, TicketStatus.NO_SHOW, now)


# ============================================================================================
# Registration
# ============================================================================================


@dataclass(frozen=True)
class PartyInput:
    """Another party named by the visitor (usually the other side of a dispute)."""

    name: str
    role: str = PartyRole.RESPONDENT
    phone: str = ""


@dataclass(frozen=True)
class RouteOptions:
    """What the chosen route needs; see `routing` for which route reads what."""

    result: str = ""  # on the spot / consultation answered at the window
    satisfaction: str = "satisfied"
    unit: Unit | None = None  # law/litigation, consultation, legal aid, petition bureau
    units: Sequence[Unit] = ()  # joint handling
    summons_hours: int = 2
    mediator: Any = None  # mediation: the mediation module's Mediator
    committee: Any = None


def _county_path(center: Center) -> str:
    from centers.selectors import county_of

    return county_of(center.region).path


def _new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def status_link_for(case: Case) -> StatusLink:
    """The case's public status link, created once (the token never changes)."""
    link = StatusLink.objects.filter(case=case).first()
    if link is not None:
        return link
    for _ in range(5):
        try:
            with transaction.atomic():
                return StatusLink.objects.create(case=case, token=_new_token())
        except IntegrityError:
            link = StatusLink.objects.filter(case=case).first()
            if link is not None:
                return link
    raise DomainError("生成查询码失败，请重试。")


def _attachable(by: User, cases: Sequence[Case]) -> list[Case]:
    """The cases to join, re-read through the gate: open, and visible to the clerk."""
    ids = [c.pk for c in cases]
    found = {
        c.pk: c for c in restrict(Case.objects.filter(pk__in=ids), by).select_related("owning_center__region")
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise DomainError("所选的已有事项不存在或您无权查看。")
    closed = [c.tracking_no for c in found.values() if c.status not in OPEN_STATES]
    if closed:
        raise DomainError(f"事项 {'、'.join(closed)} 已办结，不能并入；如需重新办理请另行登记。")
    return [found[i] for i in ids]


@clock_tables_shared()
@transaction.atomic
def visit_register(
    *,
    by: User,
    center: Center,
    name: str,
    id_number: str = "",
    phone: str = "",
    address: str = "",
    region: Region,
    category: str = Category.OTHER,
    matter: str,
    description: str = "",
    people_count: int = 1,
    parties: Sequence[PartyInput] = (),
    representatives: Sequence[PartyInput] = (),
    route: str,
    options: RouteOptions | None = None,
    attach_to: Sequence[Case] = (),
    photos: Sequence[Any] = (),
    ticket: Ticket | None = None,
    window: Window | None = None,
    now: dt.datetime | None = None,
) -> Visit:
    """来访登记: the visitor, the visit, and the cases it opens (by route) or joins, in one transaction.

    The registering clerk is recorded as first-responsible (首问负责) on the visit and on every
    case it opens (`Case.registered_by`). A group of WarningPolicy.group_size people or more (5 by
    default) is flagged as a group visit, which also makes the case red (the engine's trigger);
    its representatives (at most five; the visitor when none are named) become parties of its
    cases and the hall supervisors are notified at once.
    """
    options = options or RouteOptions()
    now = now or timezone.now()
    if not is_hall_staff(by, center):
        raise NotAllowed("只有本中心大厅工作人员可以登记来访。")
    name = (name or "").strip()
    matter = (matter or "").strip()
    if not name:
        raise DomainError("请填写来访人姓名。")
    if not id_number and not phone:
        raise DomainError("身份证号码和联系电话至少填写一项，以便回访和识别再次来访。")
    id_number = clean_id_number(id_number) if id_number else ""
    phone = clean_phone(phone) if phone else ""
    if route not in Route.values:
        raise DomainError("请选择分类（办理方式）。")
    if route != Route.COUNSELLING and not matter:
        raise DomainError("请填写来访事由。")
    if category not in Category.values:
        raise DomainError("未知的类别。")
    if not region.path.startswith(center.region.path):
        raise DomainError("事项发生地须在本中心辖区内。")
    if people_count < 1:
        raise DomainError("来访人数至少为 1。")
    if len([r for r in representatives if r.name.strip()]) > MAX_REPRESENTATIVES:
        raise DomainError(REPRESENTATIVES_ERROR)
    if len(photos) > MAX_PHOTOS:
        raise DomainError(f"照片或扫描件最多 {MAX_PHOTOS} 个。")
    for upload in photos:
        problem = uploads.problem(upload)
        if problem:
            raise DomainError(f"{getattr(upload, 'name', '')}：{problem}")
    if window is not None and window.center_id != center.pk:
        raise DomainError("窗口不属于本中心。")
    if ticket is not None and (
        ticket.center_id != center.pk or ticket.status not in (TicketStatus.CALLED, TicketStatus.WAITING)
    ):
        raise DomainError("该排队号不在办理中。")
    if ticket is not None and Visit.objects.filter(ticket=ticket).exists():
        raise DomainError(f"{ticket.number} 号已登记过。")
    attach = _attachable(by, attach_to)
    if route == Route.ATTACH and not attach:
        raise DomainError("请勾选要并入的已有事项。")

    person = _visitor(name=name, id_number=id_number, phone=phone, address=address.strip())
    party_people: list[tuple[Person, str]] = []
    for p in parties:
        if not p.name.strip():
            continue
        if p.role not in PartyRole.values:
            raise DomainError(f"{p.name}：未知的当事人身份。")
        party_people.append(
            (person_upsert(name=p.name, phone=clean_phone(p.phone) if p.phone else ""), p.role)
        )
    is_group = people_count >= WarningPolicy.current().group_size
    visit = Visit.objects.create(
        center=center,
        window=window,
        ticket=ticket,
        person=person,
        registered_by=by,
        registered_at=now,
        route=route,
        category=category,
        region=region,
        matter=("心理咨询" if route == Route.COUNSELLING else matter)[:200],
        people_count=people_count,
        is_group=is_group,
    )
    links: list[VisitCase] = []
    if route != Route.ATTACH:
        request = routing.RouteRequest(
            by=by,
            center=center,
            visit=visit,
            person=person,
            parties=party_people,
            region=region,
            category=category,
            matter=matter,
            description=description.strip(),
            address=address.strip(),
            people_count=people_count,
            options=options,
            now=now,
            id_number=id_number,
            phone=phone,
        )
        opened = routing.route(route, request)
        links.append(VisitCase(visit=visit, case=opened.case, opened=True, next_step=opened.next_step[:300]))
    for case in attach:
        CaseParty.objects.get_or_create(case=case, person=person, role=PartyRole.APPLICANT)
        for party, role in party_people:
            CaseParty.objects.get_or_create(case=case, person=party, role=role)
        case_comment(
            case=case,
            by=by,
            text=f"{center.name} 来访登记（{people_count} 人）：{visit.matter}"
            + (f"\n{description}" if description else ""),
        )
        links.append(
            VisitCase(visit=visit, case=case, opened=False, next_step=routing.next_step_of(case)[:300])
        )
    VisitCase.objects.bulk_create(links)
    if is_group:
        _record_group(
            by=by, visit=visit, person=person, representatives=representatives, cases=[x.case for x in links]
        )
    for link in links:
        status_link_for(link.case)
        for upload in photos:
            _attach_scan(link.case, upload, by)
    if ticket is not None:
        Ticket.objects.filter(pk=ticket.pk, status__in=(TicketStatus.CALLED, TicketStatus.WAITING)).update(
            status=TicketStatus.DONE,
            finished_at=now,
            called_at=F("called_at") if ticket.called_at else now,
            called_window=ticket.called_window or window,
            called_by=ticket.called_by or by,
        )
    return visit


def _visitor(*, name: str, id_number: str, phone: str, address: str) -> Person:
    """The visitor's Person. Typed without an ID number, a phone on file under the same name is the
    same returning visitor (what the form's look-up showed), even if that record has an ID number."""
    if not id_number and phone:
        known = person_find(phone=phone)
        if known is not None and known.name == name:
            if address and address != known.address:
                known.address = address
                known.save(update_fields=["address", "updated_at"])
            return known
    return person_upsert(name=name, id_number=id_number, phone=phone, address=address)


def _attach_scan(case: Case, upload: Any, by: User) -> Attachment:
    stored_name, content_type = uploads.checked(upload)
    attachment = Attachment(
        case=case,
        name=f"来访材料.{stored_name.rsplit('.', 1)[-1]}",
        content_type=content_type,
        size=upload.size,
        uploaded_by=by,
    )
    upload.seek(0)
    attachment.file.save(stored_name, upload, save=False)
    attachment.save()
    return attachment


@transaction.atomic
def visit_depart(*, by: User, visit: Visit, now: dt.datetime | None = None) -> Visit:
    """The visitors have left the hall (clears a group from the overview's "in the hall now")."""
    if not is_hall_staff(by, visit.center):
        raise NotAllowed("您无权操作该来访记录。")
    if visit.departed_at is not None:
        raise DomainError("该来访已登记离厅。")
    Visit.objects.filter(pk=visit.pk, departed_at__isnull=True).update(departed_at=now or timezone.now())
    visit.refresh_from_db()
    return visit


# ============================================================================================
# Joint handling (联调联处): summonses and their acknowledgements
# ============================================================================================


def _timeline_row(
    case: Case, *, action: str, summary: str, actor: User | None, now: dt.datetime, comment: str = ""
) -> TimelineEntry:
    """A domain event on the case's timeline (the engine's own table; status is untouched)."""
    return TimelineEntry(
        case=case, at=now, actor=actor, action=action, summary=summary[:300], comment=comment
    )


def unit_staff_of(unit: Unit) -> list[User]:
    return list(
        User.objects.filter(memberships__unit=unit, memberships__is_active=True, is_active=True).distinct()
    )


def summons_create(
    *, by: User, case: Case, units: Sequence[Unit], hours: int, now: dt.datetime
) -> list[Summons]:
    """中心吹哨: summon each unit, with its own due time; its staff see the case and are notified.

    Called inside the registration's transaction (routing.route_joint).
    """
    if len(units) < 2:
        raise DomainError("联调联处须召集至少两个部门。")
    if not 1 <= hours <= 72:
        raise DomainError("报到时限须在 1 到 72 小时之间。")
    county = _county_path(case.owning_center)
    due = now + dt.timedelta(hours=hours)
    rows = []
    for unit in units:
        if not unit.is_active or not unit.region.path.startswith(county):
            raise DomainError(f"{unit.name} 不是本县在用的部门。")
        rows.append(Summons(case=case, unit=unit, summoned_by=by, summoned_at=now, due_at=due))
        staff = unit_staff_of(unit)
        for user in staff:
            assign_perm("cases.view_case", user, case)
        notify(
            users=staff,
            case=case,
            kind="summons",
            title=f"联调联处召集：{case.tracking_no}，请于 {hours} 小时内报到",
            body=case.title,
            dedupe_key=f"summons:{case.pk}:{unit.pk}",
            sms=True,
            now=now,
        )
    created = Summons.objects.bulk_create(rows)
    names = "、".join(u.name for u in units)
    _timeline_row(
        case, action="summons", summary=f"中心吹哨：召集 {names}，限 {hours} 小时内报到", actor=by, now=now
    ).save()
    return created


@transaction.atomic
def summons_acknowledge(
    *, by: User, summons: Summons, note: str = "", now: dt.datetime | None = None
) -> Summons:
    """部门报到: a member of the summoned unit acknowledges (once)."""
    now = now or timezone.now()
    if not by.is_superuser and not by.memberships.filter(unit=summons.unit, is_active=True).exists():
        raise NotAllowed(f"只有 {summons.unit.name} 的工作人员可以报到。")
    done = Summons.objects.filter(pk=summons.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=by, note=(note or "").strip()[:200]
    )
    if not done:
        raise DomainError(f"{summons.unit.name} 已报到。")
    summons.refresh_from_db()
    case = summons.case
    late = summons.acknowledged_at > summons.due_at
    _timeline_row(
        case,
        action="summons_ack",
        actor=by,
        now=now,
        comment=summons.note,
        summary=f"{summons.unit.name} 报到（{by.display_name}）" + ("，已超过时限" if late else ""),
    ).save()
    pending = Summons.objects.filter(case=case, acknowledged_at__isnull=True).count()
    if pending == 0 and case.registered_by_id:
        notify(
            users=[case.registered_by],
            case=case,
            kind="summons_done",
            title=f"联调联处各部门均已报到：{case.tracking_no}",
            body=case.title,
            dedupe_key=f"summons_done:{case.pk}",
            now=now,
        )
    return summons


def summons_sweep(*, now: dt.datetime | None = None, batch_size: int = 500) -> int:
    """Flag summonses past their due time without acknowledgement, once each, and chase them.

    Selects through the partial index summons_due_idx; `overdue_at` is set with a guarded update,
    so a sweep run twice, or two at once, notifies once.
    """
    now = now or timezone.now()
    flagged = 0
    while True:
        with transaction.atomic():
            qs = Summons.objects.filter(
                acknowledged_at__isnull=True, overdue_at__isnull=True, due_at__lte=now
            ).order_by("due_at")
            batch = list(
                _for_update(qs).select_related("case__owning_center__region", "case__registered_by", "unit")[
                    :batch_size
                ]
            )
            if not batch:
                return flagged
            entries = []
            for s in batch:
                if not Summons.objects.filter(
                    pk=s.pk, overdue_at__isnull=True, acknowledged_at__isnull=True
                ).update(overdue_at=now):
                    continue
                flagged += 1
                case = s.case
                users = [*center_staff(case.owning_center), *unit_staff_of(s.unit)]
                if case.registered_by is not None:
                    users.append(case.registered_by)
                notify(
                    users=users,
                    case=case,
                    kind="summons_overdue",
                    title=f"联调联处超时未报到：{s.unit.name}（{case.tracking_no}）",
                    body=f"{case.title}。报到时限 {timezone.localtime(s.due_at):%Y-%m-%d %H:%M}",
                    dedupe_key=f"summons_overdue:{s.pk}",
                    sms=True,
                    now=now,
                )
                entries.append(
                    _timeline_row(
                        case,
                        action="summons_overdue",
                        summary=f"{s.unit.name} 超过报到时限未报到，已催报",
                        actor=None,
                        now=now,
                    )
                )
            TimelineEntry.objects.bulk_create(entries)


# ============================================================================================
# Group visits (集体访): representatives and the supervisor's flag
# ============================================================================================

MAX_REPRESENTATIVES = 5  # 信访工作条例 第十八条: 多人提出同一信访事项的，推选代表，代表人数不超过 5 人
REPRESENTATIVES_ERROR = (
    f"集体访代表最多 {MAX_REPRESENTATIVES} 人（《信访工作条例》：多人采用走访形式提出同一事项的，"
    f"应当推选代表，代表人数不超过 {MAX_REPRESENTATIVES} 人）。"
)


def _record_group(
    *, by: User, visit: Visit, person: Person, representatives: Sequence[PartyInput], cases: Sequence[Case]
) -> list[Person]:
    """The group's representatives as parties of its cases (the visitor when none were named), and a
    notice to the hall supervisors at once. The cases are already red: their people count reaches
    WarningPolicy.group_size, the engine's red trigger."""
    reps: list[Person] = []
    for r in representatives:
        if not r.name.strip():
            continue
        reps.append(person_upsert(name=r.name.strip(), phone=clean_phone(r.phone) if r.phone else ""))
    if not reps:
        reps = [person]
    for case in cases:
        for rep in reps:
            CaseParty.objects.get_or_create(
                case=case, person=rep, role=PartyRole.REPRESENTATIVE, defaults={"note": "集体访代表"}
            )
    supervisors = list(
        User.objects.filter(
            memberships__center=visit.center,
            memberships__role=Role.HALL_SUPERVISOR,
            memberships__is_active=True,
            is_active=True,
        ).distinct()
    )
    names = "、".join(r.name for r in reps)
    notify(
        users=supervisors,
        case=cases[0] if cases else None,
        kind="group_visit",
        title=f"集体访：{visit.people_count} 人在大厅（{visit.matter[:40]}）",
        body=f"代表：{names}。窗口：{visit.window or '接待大厅'}，登记人：{by.display_name}",
        dedupe_key=f"group_visit:{visit.pk}",
        sms=True,
        now=visit.registered_at,
        url=f"/reception/visits/{visit.pk}/",
    )
    return reps


# ============================================================================================
# The counselling room (心理咨询室)
# ============================================================================================


def _counselling_case(case: Case) -> Case:
    if case.kind != CaseKind.COUNSELLING:
        raise DomainError("该事项不是心理咨询。")
    return case


def _require_counsellor(by: User, case: Case) -> None:
    from .selectors import is_counsellor_for

    if not is_counsellor_for(by, case):
        raise NotAllowed("只有心理咨询室的咨询师可以记录心理咨询。")


@transaction.atomic
def counselling_session_add(
    *, by: User, case: Case, minutes: int, notes: str, held_at: dt.datetime | None = None
) -> CounsellingSession:
    """一次咨询: the first one takes the case (受理, 开始办理) for the counsellor who holds it."""
    _counselling_case(case)
    _require_counsellor(by, case)
    notes = (notes or "").strip()
    if not notes:
        raise DomainError("请填写咨询记录。")
    if not 1 <= minutes <= 480:
        raise DomainError("咨询时长须在 1 到 480 分钟之间。")
    held_at = held_at or timezone.now()
    if held_at > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError("咨询时间不能晚于现在。")
    record, _ = CounsellingRecord.objects.select_for_update().get_or_create(case=case)
    if record.finished_at is not None:
        raise DomainError("该心理咨询已结束；如需继续，请重新登记。")
    if record.counsellor_id is None:
        record.counsellor = by
        record.save(update_fields=["counsellor"])
    if case.status == Status.REGISTERED:
        case = case_accept(case=case, by=by, comment="心理咨询室接案")
    if case.status in (Status.ACCEPTED, Status.ASSIGNED):
        case = case_start(case=case, by=by)
    return CounsellingSession.objects.create(
        case=case, counsellor=by, held_at=held_at, minutes=minutes, notes=notes
    )


@transaction.atomic
def counselling_finish(
    *,
    by: User,
    case: Case,
    outcome: str,
    follow_up_on: dt.date | None = None,
    follow_up_note: str = "",
    now: dt.datetime | None = None,
) -> CounsellingRecord:
    """结束咨询: the outcome stays in the restricted record (the timeline says only that it ended);
    a follow-up date becomes an appointment with an SMS reminder."""
    _counselling_case(case)
    _require_counsellor(by, case)
    outcome = (outcome or "").strip()
    if not outcome:
        raise DomainError("请填写咨询结果。")
    now = now or timezone.now()
    record = CounsellingRecord.objects.select_for_update().filter(case=case).first()
    if record is None or not case.counselling_sessions.exists():
        raise DomainError("尚未记录咨询，不能结束。")
    if record.finished_at is not None:
        raise DomainError("该心理咨询已结束。")
    if follow_up_on is not None and follow_up_on <= timezone.localdate(now):
        raise DomainError("回访日期须晚于今天。")
    case = case_resolve(case=case, by=by, comment="心理咨询结束（咨询内容保密，见心理咨询室记录）")
    case_close(case=case, by=by, satisfaction=Satisfaction.SATISFIED, comment="心理咨询结束")
    record.outcome, record.finished_at = outcome, now
    record.follow_up_on, record.follow_up_note = follow_up_on, (follow_up_note or "").strip()[:200]
    record.save()
    if follow_up_on is not None:
        visitor = case.parties.filter(role=PartyRole.APPLICANT).select_related("person").first()
        if visitor is not None:
            appointment_create(
                by=by,
                center=case.owning_center,
                person=visitor.person,
                case=case,
                purpose=AppointmentPurpose.COUNSELLING,
                at=timezone.make_aware(dt.datetime.combine(follow_up_on, dt.time(9, 0))),
                place="心理咨询室",
                note=record.follow_up_note,
                now=now,
            )
    return record


# ============================================================================================
# Appointments (预约回访) with SMS reminders
# ============================================================================================

REMINDER_LEAD = dt.timedelta(hours=24)


@transaction.atomic
def appointment_create(
    *,
    by: User,
    center: Center,
    person: Person,
    purpose: str,
    at: dt.datetime,
    case: Case | None = None,
    place: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """A time to come back. The reminder is due REMINDER_LEAD before (at once when that has passed);
    the sweep sends it, never a Celery ETA."""
    now = now or timezone.now()
    if purpose not in AppointmentPurpose.values:
        raise DomainError("请选择预约事由。")
    if at <= now:
        raise DomainError("预约时间须晚于现在。")
    appointment = Appointment.objects.create(
        center=center,
        person=person,
        case=case,
        purpose=purpose,
        at=at,
        place=(place or "").strip()[:100],
        note=(note or "").strip()[:200],
        remind_at=max(at - REMINDER_LEAD, now),
        created_by=by,
        created_at=now,
    )
    if case is not None:
        TimelineEntry.objects.create(
            case=case,
            at=now,
            actor=by,
            action="appointment",
            summary=f"预约{appointment.get_purpose_display()}：{timezone.localtime(at):%Y-%m-%d %H:%M}"[:300],
            data={"appointment": appointment.pk},
        )
    return appointment


@transaction.atomic
def appointment_cancel(*, by: User, appointment: Appointment, now: dt.datetime | None = None) -> Appointment:
    if not is_hall_staff(by, appointment.center) and appointment.created_by_id != by.pk:
        raise NotAllowed("您无权取消该预约。")
    if not Appointment.objects.filter(pk=appointment.pk, cancelled_at__isnull=True).update(
        cancelled_at=now or timezone.now()
    ):
        raise DomainError("该预约已取消。")
    appointment.refresh_from_db()
    return appointment


def reminder_text(a: Appointment) -> tuple[str, str]:
    when = f"{timezone.localtime(a.at):%m月%d日 %H:%M}"
    place = f"{a.center.name}{a.place}" if a.place else a.center.name
    return (
        f"【{a.center.name}】预约提醒",
        f"{a.person.name}您好，请于 {when} 到 {place}{a.get_purpose_display()}。{a.note}".strip(),
    )


def appointment_reminders_sweep(*, now: dt.datetime | None = None, batch_size: int = 500) -> int:
    """Send the reminders that are due, once each, through the pluggable SMS sender.

    Selects through appointment_remind_idx. Each row is claimed by a guarded update on
    `reminded_at IS NULL` and the claim is committed before the SMS goes out: two sweeps at once,
    or a sweep run again, never send the same reminder twice (a sender failure after the claim
    loses that one reminder rather than repeating it).
    """
    from cases.senders import get_sender

    now = now or timezone.now()
    sender = get_sender()
    sent = 0
    ids = list(
        Appointment.objects.filter(
            reminded_at__isnull=True, cancelled_at__isnull=True, remind_at__isnull=False, remind_at__lte=now
        )
        .order_by("remind_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    for pk in ids:
        with transaction.atomic():
            claimed = Appointment.objects.filter(pk=pk, reminded_at__isnull=True, cancelled_at__isnull=True).update(
                reminded_at=now
            )
        if not claimed:
            continue
        a = Appointment.objects.select_related("person", "center").get(pk=pk)
        if a.at <= now or not a.person.phone_enc:
            continue  # past, or no number to text: claimed so the sweep stops looking at it
        title, body = reminder_text(a)
        sender.send(user=a.person, title=title, body=body)
        sent += 1
    return sent


# ============================================================================================
# Leader reception days (领导接访日)
# ============================================================================================


def _slot_start(slot: LeaderSlot) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(slot.date, slot.starts_at))


def leaders_for(center: Center) -> list[User]:
    """Leaders who may receive visitors at `center`: leaders of it or of a center above it."""
    from centers.selectors import ancestor_paths

    return list(
        User.objects.filter(
            memberships__is_active=True,
            memberships__role__in=(Role.CENTER_LEADER, Role.LEADERSHIP),
            memberships__center__region__path__in=[*ancestor_paths(center.region.path), center.region.path],
            is_active=True,
        )
        .distinct()
        .order_by("full_name", "username")
    )


SLOT_ROLES = (Role.HALL_SUPERVISOR, Role.DISPATCHER, Role.CENTER_LEADER)


@transaction.atomic
def leader_slot_create(
    *,
    by: User,
    center: Center,
    leader: User,
    date: dt.date,
    starts_at: dt.time,
    ends_at: dt.time,
    topics: str,
    place: str = "",
    capacity: int = 10,
) -> LeaderSlot:
    """Put a leader's reception day on the calendar (大厅主管 or the center's staff)."""
    if not is_hall_staff(by, center, *SLOT_ROLES):
        raise NotAllowed("只有大厅主管或中心工作人员可以安排领导接访日。")
    topics = (topics or "").strip()
    if not topics:
        raise DomainError("请填写接访主题。")
    if date < timezone.localdate():
        raise DomainError("接访日期不能早于今天。")
    if ends_at <= starts_at:
        raise DomainError("结束时间须晚于开始时间。")
    if not 1 <= capacity <= 100:
        raise DomainError("可预约人数须在 1 到 100 之间。")
    if leader.pk not in {u.pk for u in leaders_for(center)}:
        raise DomainError("接访领导须为本中心或上级中心的领导。")
    return LeaderSlot.objects.create(
        center=center,
        leader=leader,
        date=date,
        starts_at=starts_at,
        ends_at=ends_at,
        topics=topics[:200],
        place=(place or "").strip()[:100],
        capacity=capacity,
        created_by=by,
    )


@transaction.atomic
def leader_booking_create(
    *, by: User, slot: LeaderSlot, person: Person, case: Case, now: dt.datetime | None = None
) -> LeaderBooking:
    """Book a visitor, about one of their matters, into a leader's slot at the window.

    The slot row is locked while its bookings are counted, so two windows never overbook it. The
    visitor gets an appointment with an SMS reminder; the leader is told; the case's timeline says so.
    """
    now = now or timezone.now()
    if not is_hall_staff(by, slot.center):
        raise NotAllowed("只有本中心大厅工作人员可以预约领导接访。")
    slot = LeaderSlot.objects.select_for_update().select_related("leader", "center").get(pk=slot.pk)
    if _slot_start(slot) <= now:
        raise DomainError("该接访时段已开始或已过，不能再预约。")
    if not restrict(Case.objects.filter(pk=case.pk), by).exists():
        raise DomainError("所选事项不存在或您无权查看。")
    if case.status not in OPEN_STATES:
        raise DomainError(f"事项 {case.tracking_no} 已办结，不能预约领导接访。")
    related = CaseParty.objects.filter(case=case, person=person).exists() or VisitCase.objects.filter(
        case=case, visit__person=person
    ).exists()
    if not related:
        raise DomainError(f"{person.name} 不是事项 {case.tracking_no} 的当事人。")
    active = slot.bookings.exclude(status=BookingStatus.CANCELLED)
    if active.filter(case=case).exists():
        raise DomainError(f"事项 {case.tracking_no} 已预约该时段。")
    if active.count() >= slot.capacity:
        raise DomainError(f"该时段已约满（{slot.capacity} 人），请选择其他接访日。")
    appointment = appointment_create(
        by=by,
        center=slot.center,
        person=person,
        case=case,
        purpose=AppointmentPurpose.LEADER,
        at=_slot_start(slot),
        place=slot.place,
        note=f"{slot.leader.display_name}接访",
        now=now,
    )
    booking = LeaderBooking.objects.create(
        slot=slot, person=person, case=case, booked_by=by, booked_at=now, appointment=appointment
    )
    notify(
        users=[slot.leader],
        case=case,
        kind="leader_booking",
        title=f"接访预约：{slot.date:%m月%d日} {person.name}（{case.tracking_no}）",
        body=case.title,
        dedupe_key=f"leader_booking:{booking.pk}",
        now=now,
        url=f"/reception/leader-days/{slot.pk}/",
    )
    return booking


@transaction.atomic
def leader_booking_receive(
    *, by: User, booking: LeaderBooking, instruction: str, now: dt.datetime | None = None
) -> LeaderBooking:
    """接访结果: the leader's instruction is written onto the case as a 领导批示 (cases.supervision),
    with its timeline entry and notices to the case's handlers; the booking is marked received."""
    from cases.supervision import leader_instruction_add

    now = now or timezone.now()
    booking = LeaderBooking.objects.select_for_update().select_related("slot__leader", "case").get(pk=booking.pk)
    if booking.status != BookingStatus.BOOKED:
        raise DomainError("该预约已处理。")
    slot = booking.slot
    if by.pk != slot.leader_id and not is_hall_staff(by, slot.center, *SLOT_ROLES):
        raise NotAllowed("只有接访领导或中心工作人员可以录入接访结果。")
    if slot.date > timezone.localdate(now):
        raise DomainError("接访日尚未到，不能录入接访结果。")
    text = (instruction or "").strip()
    if not text:
        raise DomainError("请填写领导批示（接访处理意见）。")
    record = leader_instruction_add(case=booking.case, by=by, leader=slot.leader, text=text, instructed_at=now)
    booking.status, booking.instruction, booking.received_at = BookingStatus.RECEIVED, record, now
    booking.save(update_fields=["status", "instruction", "received_at"])
    return booking
