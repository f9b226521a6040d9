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
    CaseParty,
    Category,
    PartyRole,
    Person,
    TimelineEntry,
    WarningPolicy,
)
from cases.services import NotAllowed, case_comment, center_staff, notify, person_find, person_upsert
from centers.jurisdiction import restrict
from centers.models import Center, DepartmentKind, Region, Role, Unit, User
from centers.services import DomainError

from . import routing, uploads
from .models import (
    Duty,
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
    default) is flagged as a group visit, which also makes the case red (the engine's trigger).
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
