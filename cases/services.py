"""Writes on cases: one function per write or transition (HackSoft / Zulip style).

Every function runs in one transaction, checks the current state and the actor, writes a
timeline row in the same transaction, and enqueues side effects with `transaction.on_commit`.
No other code sets `Case.status`. Petitions, mediation and grids call these functions rather
than touching a case themselves.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm
from simple_history.utils import bulk_update_with_history

from centers.models import Center, Membership, Region, RegionKind, Role, Unit, User
from centers.selectors import (
    ancestor_of_kind,
    ancestor_paths,
    center_of_region,
    county_of,
    parent_center,
    staff_of,
)
from centers.services import DomainError

from . import assessment, lifecycle, supervision
from .bulk import bulk_insert_objects, bulk_insert_rows, bulk_update_rows, history_snapshot
from .clocks import Deadline, RuleBook, WorkCalendar, compute_deadline, fmt
from .models import (
    CLOCK_STATES,
    AssignmentRole,
    Attachment,
    Case,
    CaseAssignment,
    CaseKind,
    CaseParty,
    CaseSequence,
    JointMeeting,
    LeaderPackage,
    MeetingTask,
    Notification,
    OverdueEvent,
    PartyRole,
    Person,
    PersonKind,
    RevealLog,
    Satisfaction,
    Status,
    SweepRun,
    TimelineEntry,
    WarningLevel,
    WarningPolicy,
)

__all__ = ["DomainError", "StaleEdit", "NotAllowed"]


class StaleEdit(DomainError):
    """Someone else changed the case since this user loaded it."""


class NotAllowed(DomainError):
    pass


NOTIFY_ROLES = (Role.DISPATCHER, Role.CENTER_LEADER)
LEADER_ROLES = (Role.CENTER_LEADER, Role.LEADERSHIP)


# ============================================================================================
# People
# ============================================================================================


def person_find(*, id_number: str = "", phone: str = "") -> Person | None:
    from . import crypto

    if id_number:
        h = crypto.lookup_hash("id", crypto.normalize_id_number(id_number))
        p = Person.objects.filter(id_number_hash=h).order_by("pk").first()
        if p:
            return p
    if phone:
        h = crypto.lookup_hash("phone", crypto.normalize_phone(phone))
        return Person.objects.filter(phone_hash=h).order_by("-updated_at").first()
    return None


def _birth_and_gender(id_number: str) -> tuple[dt.date | None, str]:
    from stdnum.cn import ric

    # The checksum, not ric.validate: its look-up of the county code in stdnum's table costs ~1 ms
    # (bulk imports derive this for every new person) and refuses codes that postdate the birth
    # year, although a card carries the code of the place that issued it (see reception.validators).
    number = (id_number or "").strip().upper()
    try:
        if len(number) != 18 or number[-1] != ric.calc_check_digit(number):
            return None, ""
    except ValueError:  # not digits: an invalid number simply yields no derived facts
        return None, ""
    try:
        birth = ric.get_birth_date(number)
    except Exception:  # noqa: BLE001
        birth = None
    gender = "男" if int(number[16]) % 2 else "女"
    return birth, gender


@transaction.atomic
def person_upsert(
    *,
    name: str,
    id_number: str = "",
    phone: str = "",
    kind: str = PersonKind.INDIVIDUAL,
    address: str = "",
    region: Region | None = None,
) -> Person:
    """The person with this ID number (or, without one, this phone and name), created or updated."""
    from . import crypto

    name = name.strip()
    person = None
    if id_number:
        person = person_find(id_number=id_number)
    elif phone:
        h = crypto.lookup_hash("phone", crypto.normalize_phone(phone))
        person = Person.objects.filter(phone_hash=h, name=name, id_number_hash="").first()
    if person is None:
        person = Person(kind=kind, name=name)
    if name:
        person.name = name
    if id_number:
        person.set_id_number(id_number)
        if kind == PersonKind.INDIVIDUAL:
            birth, gender = _birth_and_gender(crypto.normalize_id_number(id_number))
            person.birth_date = birth or person.birth_date
            person.gender = gender or person.gender
    if phone:
        person.set_phone(phone)
    if address:
        person.address = address
    if region is not None:
        person.region = region
    person.save()
    return person


@dataclass(frozen=True)
class PersonData:
    """One person for `person_upsert_bulk`."""

    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""


@transaction.atomic
def person_upsert_bulk(*, people: Sequence[PersonData], batch_size: int = 1000) -> list[Person]:
    """`person_upsert` for many at once (channel imports), with one lookup query per key kind.

    Same matching rule as `person_upsert`: by ID number when there is one, otherwise by phone and
    name among people without an ID number. The same person twice in `people` is created once.
    New people are bulk inserted with their history rows; known ones get a new phone or address.
    """
    from . import crypto

    keys: list[tuple[str, str]] = []
    for p in people:
        if p.id_number:
            keys.append(("id", crypto.lookup_hash("id", crypto.normalize_id_number(p.id_number))))
        elif p.phone:
            keys.append(("phone", crypto.lookup_hash("phone", crypto.normalize_phone(p.phone)) + "|" + p.name.strip()))
        else:
            keys.append(("none", ""))
    id_hashes = {k for kind, k in keys if kind == "id"}
    phone_hashes = {k.split("|", 1)[0] for kind, k in keys if kind == "phone"}
    found: dict[tuple[str, str], Person] = {}
    for person in Person.objects.filter(id_number_hash__in=id_hashes).order_by("-pk"):
        found[("id", person.id_number_hash)] = person  # the lowest pk wins, as in person_find
    for person in Person.objects.filter(phone_hash__in=phone_hashes, id_number_hash="").order_by("updated_at"):
        found[("phone", f"{person.phone_hash}|{person.name}")] = person  # the latest wins
    new: dict[tuple[str, str], Person] = {}
    changed: dict[int, Person] = {}
    out: list[Person] = []
    for p, key in zip(people, keys, strict=True):
        person = (found.get(key) or new.get(key)) if key[0] != "none" else None
        if person is None:
            person = Person(kind=PersonKind.INDIVIDUAL, name=p.name.strip()[:100])
            if p.id_number:
                normalized = crypto.normalize_id_number(p.id_number)
                person.set_id_number(normalized)
                person.birth_date, person.gender = _birth_and_gender(normalized)
            if p.phone:
                person.set_phone(p.phone)
            person.address = p.address[:200]
            if key[0] != "none":
                new[key] = person
            else:
                new[("none", str(len(new)))] = person
        elif person.pk is not None:
            phone_hash = crypto.lookup_hash("phone", crypto.normalize_phone(p.phone)) if p.phone else ""
            if phone_hash and phone_hash != person.phone_hash:
                person.set_phone(p.phone)
                changed[person.pk] = person
            if p.address and p.address != person.address:
                person.address = p.address[:200]
                changed[person.pk] = person
        out.append(person)
    created = bulk_insert_objects(Person, list(new.values()), page_size=batch_size)
    history_snapshot(Person, created, reason="批量登记", date=timezone.now(), created=True)
    if changed:
        now = timezone.now()
        for person in changed.values():
            person.updated_at = now
        bulk_update_with_history(
            list(changed.values()), Person, ["phone_enc", "phone_hash", "phone_masked", "address", "updated_at"],
            batch_size=batch_size,
        )
    return out


@transaction.atomic
def person_reveal(*, user: User, person: Person, what: str, reason: str = "") -> str:
    """The full ID or phone number, for a role that may see it; every reveal is logged."""
    from centers.models import PII_ROLES

    roles = set(Membership.objects.filter(user=user, is_active=True).values_list("role", flat=True))
    if not (user.is_superuser or roles & PII_ROLES):
        raise NotAllowed("您的岗位无权查看完整证件号码或手机号。")
    if what not in (RevealLog.What.ID_NUMBER, RevealLog.What.PHONE):
        raise DomainError("未知的查看内容。")
    RevealLog.objects.create(user=user, what=what, person=person, reason=reason[:200])
    return person.id_number if what == RevealLog.What.ID_NUMBER else person.phone


def export_logged(*, user: User, filter_description: str, row_count: int) -> None:
    RevealLog.objects.create(
        user=user, what=RevealLog.What.EXPORT, filter_description=filter_description, row_count=row_count
    )


# ============================================================================================
# Tracking numbers
# ============================================================================================


def next_tracking_no(*, region: Region, year: int) -> str:
    """县代码-年-序号, e.g. 430121-2026-000123: unique, gap-free per county and year.

    The counter row is bumped with an UPDATE (which takes the row lock until commit), so two
    registrations at once never get the same number.
    """
    prefix = county_of(region).code[:6]
    with transaction.atomic():
        updated = CaseSequence.objects.filter(prefix=prefix, year=year).update(last=F("last") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    CaseSequence.objects.create(prefix=prefix, year=year, last=1)
            except IntegrityError:
                CaseSequence.objects.filter(prefix=prefix, year=year).update(last=F("last") + 1)
        last = CaseSequence.objects.get(prefix=prefix, year=year).last
    return f"{prefix}-{year}-{last:06d}"


# ============================================================================================
# Warnings
# ============================================================================================


def evaluate_warning(case: Case, now: dt.datetime, policy: WarningPolicy) -> tuple[str, list[str]]:
    """The colour and its reasons, from the stored facts. Red beats yellow beats green."""
    red: list[str] = []
    yellow: list[str] = []
    clock_running = case.status in CLOCK_STATES and case.due_at is not None
    if clock_running and case.due_at <= now:
        red.append(f"已超期（本环节期限 {fmt(case.due_at)}）")
    if case.overdue_count:
        red.append(f"超期上报 {case.overdue_count} 次")
    if case.has_casualty:
        red.append("有人员伤亡")
    if case.people_count >= policy.group_size:
        red.append(f"涉及 {case.people_count} 人（群体性，阈值 {policy.group_size} 人）")
    if case.petition_risk:
        red.append("有越级上访苗头或事实")
    if case.amount is not None and case.amount >= policy.amount_threshold:
        red.append(f"涉及金额 {case.amount:,.0f} 元（阈值 {policy.amount_threshold:,.0f} 元）")
    if case.failed_mediations >= policy.failed_mediations:
        red.append(f"调解 {case.failed_mediations} 次未成")
    if clock_running and case.yellow_at is not None and case.yellow_at <= now and case.due_at > now:
        yellow.append(f"临近期限（期限 {fmt(case.due_at)}）")
    if case.risk_note:
        yellow.append(f"风险迹象：{case.risk_note}")
    level = WarningLevel.RED if red else WarningLevel.YELLOW if yellow else WarningLevel.GREEN
    return level, red + yellow


def _apply_warning(case: Case, now: dt.datetime, policy: WarningPolicy) -> tuple[str, str]:
    old = case.warning_level
    level, reasons = evaluate_warning(case, now, policy)
    if level != old:
        case.warning_changed_at = now
    case.warning_level = level
    case.warning_reasons = reasons
    return old, level


# ============================================================================================
# Clock
# ============================================================================================


_shared_tables: contextvars.ContextVar[list | None] = contextvars.ContextVar("clock_tables", default=None)


@contextlib.contextmanager
def clock_tables_shared() -> Iterator[None]:
    """Within this block every `Context.load` reuses one load of the rules, calendar and policy.

    For one operation that runs several transitions (a registration that opens, accepts and starts
    a case): the tables are read once instead of once per transition. Never wrap code that edits
    those tables.
    """
    token = _shared_tables.set([])
    try:
        yield
    finally:
        _shared_tables.reset(token)


@dataclass
class Context:
    """What a write needs to look up once: the rules, the calendar, the thresholds."""

    now: dt.datetime
    rules: RuleBook
    calendar: WorkCalendar
    policy: WarningPolicy

    deadlines: dict[tuple[int, dt.datetime, int], Deadline] = dataclasses.field(default_factory=dict)

    @classmethod
    def load(cls, now: dt.datetime | None = None) -> Context:
        shared = _shared_tables.get()
        if shared is None:
            return cls(now or timezone.now(), RuleBook(), WorkCalendar(), WarningPolicy.current())
        if not shared:
            shared.extend((RuleBook(), WorkCalendar(), WarningPolicy.current()))
        return cls(now or timezone.now(), *shared)

    def deadline(self, rule: Any, start: dt.datetime, extension_hours: int) -> Deadline:
        """compute_deadline, remembered: a sweep starts many clocks from one rule at one instant."""
        key = (rule.pk, start, extension_hours)
        found = self.deadlines.get(key)
        if found is None:
            found = self.deadlines[key] = compute_deadline(rule, start, self.calendar, extension_hours=extension_hours)
        return found


def _start_step(case: Case, ctx: Context, *, new_step: bool = True, start: dt.datetime | None = None) -> None:
    """Start the clock of the case's current state at its current level (at `start`, default now)."""
    if new_step and case.step_started_at is not None:
        case.step_no += 1
    case.step_started_at = start or ctx.now
    case.extension_hours = 0
    case.overdue_fired = False
    case.paused_at = None
    _set_deadline(case, ctx)


def _set_deadline(case: Case, ctx: Context) -> None:
    rule = None
    if case.status in CLOCK_STATES:
        rule = ctx.rules.match(
            kind=case.kind, status=case.status, level=case.level, category=case.category, phase=case.phase
        )
    case.clock_rule = rule
    if rule is None:
        case.due_at = case.yellow_at = None
        case.due_explanation = "" if case.status not in CLOCK_STATES else "本环节未设时限。"
        return
    d = ctx.deadline(rule, case.step_started_at, case.extension_hours)
    case.due_at, case.yellow_at, case.due_explanation = d.due_at, d.yellow_at, d.explanation
    if case.due_at > ctx.now:
        case.overdue_fired = False


def _compliance(case: Case, now: dt.datetime) -> dict[str, Any]:
    """Whether the step now ending met its deadline, stored on the timeline row."""
    if case.due_at is None:
        return {"step_due_at": None, "met_deadline": None, "late_seconds": None}
    late = int((now - case.due_at).total_seconds())
    return {"step_due_at": case.due_at, "met_deadline": late <= 0, "late_seconds": max(late, 0)}


def _level_of(center: Center) -> str:
    kind = center.region.kind
    return kind if kind in ("village", "town", "county", "city", "province") else "village"


# ============================================================================================
# Notifications
# ============================================================================================


@dataclass(slots=True)
class NoticeRow:
    """One inbox row to insert: plain attributes, no model instance (a sweep writes thousands)."""

    user_id: int
    case_id: int | None
    kind: str
    title: str
    body: str
    url: str
    created_at: dt.datetime
    dedupe_key: str
    sms: bool
    read_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None


def notification_rows(
    *,
    users: Iterable[User],
    case: Case | None,
    kind: str,
    title: str,
    body: str = "",
    dedupe_key: str,
    sms: bool = False,
    now: dt.datetime | None = None,
    url: str = "",
) -> list[NoticeRow]:
    now = now or timezone.now()
    url = url or (f"/cases/{case.pk}/" if case is not None else "")
    case_id = case.pk if case is not None else None
    title, dedupe_key = title[:200], dedupe_key[:200]
    return [
        NoticeRow(user_id, case_id, kind, title, body, url, now, dedupe_key, sms)
        for user_id in dict.fromkeys(u.pk for u in users)
    ]


NOTIFICATION_FIELDS = ("user_id", "case_id", "kind", "title", "body", "url", "created_at", "read_at", "dedupe_key", "sms", "sent_at")


def notifications_insert(rows: Sequence[NoticeRow]) -> None:
    """Insert inbox rows (the unique (user, dedupe_key) drops repeats) and send SMS after commit."""
    if not rows:
        return
    get = attrgetter(*NOTIFICATION_FIELDS)
    bulk_insert_rows(
        Notification, [dict(zip(NOTIFICATION_FIELDS, get(n), strict=True)) for n in rows], ignore_conflicts=True
    )
    if any(r.sms for r in rows):
        _send_after_commit()


def notify(
    *,
    users: Iterable[User],
    case: Case | None,
    kind: str,
    title: str,
    body: str = "",
    dedupe_key: str,
    sms: bool = False,
    now: dt.datetime | None = None,
    url: str = "",
) -> int:
    """Inbox rows (once per user and event) and, after commit, the SMS/email sender.

    `url` is where the inbox row leads; by default the case page.
    """
    rows = notification_rows(
        users=users, case=case, kind=kind, title=title, body=body, dedupe_key=dedupe_key, sms=sms, now=now, url=url
    )
    notifications_insert(rows)
    return len(rows)


def _send_after_commit() -> None:
    from .tasks import send_notifications

    transaction.on_commit(send_notifications.delay)


def center_staff(center: Center, roles: Sequence[str] = NOTIFY_ROLES) -> list[User]:
    return list(staff_of(center, *roles))


@transaction.atomic
def notifications_mark_read(*, user: User, ids: Sequence[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


# ============================================================================================
# Timeline
# ============================================================================================


def _timeline(
    case: Case,
    *,
    action: str,
    summary: str,
    actor: User | None,
    now: dt.datetime,
    comment: str = "",
    from_status: str = "",
    to_status: str = "",
    from_center: Center | None = None,
    to_center: Center | None = None,
    compliance: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    save: bool = True,
) -> TimelineEntry:
    entry = TimelineEntry(
        case=case, at=now, actor=actor, action=action, summary=summary[:300], comment=comment,
        from_status=from_status, to_status=to_status, from_center=from_center, to_center=to_center,
        data=data or {}, **(compliance or {}),
    )
    if save:
        entry.save()
    return entry


@transaction.atomic
def case_comment(*, case: Case, by: User, text: str) -> TimelineEntry:
    text = (text or "").strip()
    if not text:
        raise DomainError("请填写办理情况。")
    if not lifecycle.can_read(by, case):
        raise NotAllowed("您无权在该事项上记录。")
    return _timeline(case, action="comment", summary="记录办理情况", actor=by, now=timezone.now(), comment=text)


# ============================================================================================
# Registration
# ============================================================================================


@transaction.atomic
def case_register(
    *,
    by: User | None,
    kind: str = CaseKind.DISPUTE,
    channel: str,
    category: str,
    title: str,
    description: str = "",
    region: Region,
    address: str = "",
    occurred_at: dt.datetime | None = None,
    amount: Decimal | None = None,
    people_count: int = 1,
    has_casualty: bool = False,
    petition_risk: bool = False,
    risk_note: str = "",
    owning_center: Center | None = None,
    owning_unit: Unit | None = None,
    parties: Sequence[tuple[Person, str]] = (),
    source_ref: str = "",
    external_id: uuid.UUID | None = None,
    status: str = Status.REGISTERED,
    phase: str = "",
    now: dt.datetime | None = None,
    notify_owner: bool = True,
) -> Case:
    """Open a case: tracking number, owner, clock, colour, parties, timeline, notice to the owner.

    `phase` is the kind's own sub-step to start in (clock rules may match on it, e.g. a hazard's
    severity), so the first clock is the right one from the start.
    """
    ctx = Context.load(now)
    title = (title or "").strip()
    if not title:
        raise DomainError("请填写事项摘要。")
    if people_count < 1:
        raise DomainError("涉及人数至少为 1。")
    if amount is not None and amount < 0:
        raise DomainError("涉及金额不能为负数。")
    if owning_center is None:
        owning_center = center_of_region(region)
        if owning_center is None:
            raise DomainError("该地点没有对应的综治中心。")
    town = ancestor_of_kind(region, RegionKind.TOWN)
    case = Case(
        tracking_no=next_tracking_no(region=region, year=timezone.localtime(ctx.now).year),
        kind=kind, channel=channel, category=category, title=title[:200], description=description,
        region=region, region_path=region.path, town=town, address=address, occurred_at=occurred_at,
        amount=amount, people_count=people_count, has_casualty=has_casualty, petition_risk=petition_risk,
        risk_note=risk_note, level=_level_of(owning_center), owning_center=owning_center,
        owning_unit=owning_unit, status=status, phase=phase, registered_by=by, created_at=ctx.now,
        updated_at=ctx.now,
        source_ref=source_ref, external_id=external_id,
    )
    if status != Status.REGISTERED:
        case.accepted_at = ctx.now
    _start_step(case, ctx, new_step=False)
    _apply_warning(case, ctx.now, ctx.policy)
    case.warning_changed_at = ctx.now
    case.save()
    for person, role in parties:
        CaseParty.objects.get_or_create(case=case, person=person, role=role or PartyRole.APPLICANT)
    _timeline(
        case, action="register", summary=f"登记（{case.get_channel_display()}），责任中心：{owning_center.name}",
        actor=by, now=ctx.now, to_status=case.status, to_center=owning_center,
        data={"warning": case.warning_level},
    )
    if notify_owner:
        recipients = [u for u in center_staff(owning_center) if by is None or u.pk != by.pk]
        notify(
            users=recipients, case=case, kind="new_case", title=f"新事项待受理：{case.tracking_no}",
            body=case.title, dedupe_key=f"new:{case.pk}", now=ctx.now,
        )
    if case.warning_level == WarningLevel.RED:
        _red_response(case, ctx.now)
    return case


@dataclass
class NewCase:
    """One case for `case_register_bulk`: the arguments of `case_register`."""

    channel: str
    category: str
    title: str
    region: Region
    kind: str = CaseKind.DISPUTE
    description: str = ""
    address: str = ""
    occurred_at: dt.datetime | None = None
    amount: Decimal | None = None
    people_count: int = 1
    has_casualty: bool = False
    petition_risk: bool = False
    risk_note: str = ""
    owning_center: Center | None = None
    owning_unit: Unit | None = None
    parties: Sequence[tuple[Person, str]] = ()
    source_ref: str = ""
    external_id: uuid.UUID | None = None
    status: str = Status.REGISTERED


def reserve_tracking_numbers(*, region: Region, year: int, count: int) -> list[str]:
    """A block of `count` consecutive tracking numbers, taken with one UPDATE of the counter row.

    The UPDATE holds the row lock until the surrounding transaction ends, exactly as
    `next_tracking_no` does, so numbers stay unique and gap-free under concurrent registrations.
    """
    if count < 1:
        return []
    prefix = county_of(region).code[:6]
    with transaction.atomic():
        updated = CaseSequence.objects.filter(prefix=prefix, year=year).update(last=F("last") + count)
        if not updated:
            try:
                with transaction.atomic():
                    CaseSequence.objects.create(prefix=prefix, year=year, last=count)
            except IntegrityError:
                CaseSequence.objects.filter(prefix=prefix, year=year).update(last=F("last") + count)
        last = CaseSequence.objects.get(prefix=prefix, year=year).last
    return [f"{prefix}-{year}-{n:06d}" for n in range(last - count + 1, last + 1)]


@transaction.atomic
def case_register_bulk(
    *, by: User | None, items: Sequence[NewCase], now: dt.datetime | None = None, batch_size: int = 1000
) -> list[Case]:
    """Open many cases in one transaction (channel imports): `case_register` for each, in bulk.

    Each case gets what `case_register` gives it — a tracking number (one reserved block per
    county), its owner and level, the clock of its first step, its colour with reasons, its
    parties, a history row and a "register" timeline row — through bulk inserts. Unlike
    `case_register` no per-case "new case" notice goes out (the caller sends one notice per
    import); red cases still get the red response. A (channel, source_ref) that exists already
    fails the whole call with IntegrityError, so callers filter those out first.
    """
    if not items:
        return []
    ctx = Context.load(now)
    year = timezone.localtime(ctx.now).year
    towns, centers, counties = _places_of({item.region.pk: item.region for item in items}.values())
    by_prefix: dict[str, list[int]] = {}
    for i, item in enumerate(items, start=1):
        if not (item.title or "").strip():
            raise DomainError(f"第 {i} 条：请填写事项摘要。")
        if item.people_count < 1:
            raise DomainError(f"第 {i} 条：涉及人数至少为 1。")
        if item.amount is not None and item.amount < 0:
            raise DomainError(f"第 {i} 条：涉及金额不能为负数。")
        region = item.region
        if item.owning_center is None and centers[region.pk] is None:
            raise DomainError(f"第 {i} 条：该地点没有对应的综治中心。")
        by_prefix.setdefault(counties[region.pk], []).append(i - 1)
    numbers: dict[int, str] = {}
    for indexes in by_prefix.values():
        block = reserve_tracking_numbers(region=items[indexes[0]].region, year=year, count=len(indexes))
        numbers.update(zip(indexes, block, strict=True))

    cases: list[Case] = []
    for i, item in enumerate(items):
        owner = item.owning_center or centers[item.region.pk]
        case = Case(
            tracking_no=numbers[i], kind=item.kind, channel=item.channel, category=item.category,
            title=item.title.strip()[:200], description=item.description, region=item.region,
            region_path=item.region.path, town=towns[item.region.pk], address=item.address,
            occurred_at=item.occurred_at, amount=item.amount, people_count=item.people_count,
            has_casualty=item.has_casualty, petition_risk=item.petition_risk, risk_note=item.risk_note,
            level=_level_of(owner), owning_center=owner, owning_unit=item.owning_unit, status=item.status,
            registered_by=by, created_at=ctx.now, updated_at=ctx.now, source_ref=item.source_ref,
            external_id=item.external_id,
        )
        if item.status != Status.REGISTERED:
            case.accepted_at = ctx.now
        _start_step(case, ctx, new_step=False)
        _apply_warning(case, ctx.now, ctx.policy)
        case.warning_changed_at = ctx.now
        cases.append(case)
    # History rows are copied from the inserted rows by one INSERT … SELECT (cases.bulk): building
    # a historical instance per case cost more than the insert itself.
    cases = bulk_insert_objects(Case, cases, page_size=batch_size)
    history_snapshot(Case, cases, reason="批量登记", date=ctx.now, created=True, user=by)
    parties: list[CaseParty] = []
    entries: list[TimelineEntry] = []
    for case, item in zip(cases, items, strict=True):
        seen: set[tuple[int, str]] = set()
        for person, role in item.parties:
            key = (person.pk, role or PartyRole.APPLICANT)
            if key not in seen:
                seen.add(key)
                parties.append(CaseParty(case=case, person=person, role=key[1]))
        entries.append(
            _timeline(
                case, action="register", actor=by, now=ctx.now, to_status=case.status, to_center=case.owning_center,
                summary=f"登记（{case.get_channel_display()}，批量导入），责任中心：{case.owning_center.name}",
                data={"warning": case.warning_level}, save=False,
            )
        )
    parties = bulk_insert_objects(CaseParty, parties, page_size=batch_size)
    history_snapshot(CaseParty, parties, reason="批量登记", date=ctx.now, created=True, user=by)
    bulk_insert_rows(TimelineEntry, [_entry_row(e) for e in entries])
    red = [case for case in cases if case.warning_level == WarningLevel.RED]
    if red:  # the red response, batched as the sweep does it
        cache = SweepCache()
        notices: list[NoticeRow] = []
        for case in red:
            notices += _red_response(case, ctx.now, staff=cache.staff)
        notices += supervision.auto_supervise_bulk(cases=red, now=ctx.now, cache=cache, calendar=ctx.calendar)
        notifications_insert(notices)
    return cases


def _places_of(
    regions: Iterable[Region],
) -> tuple[dict[int, Region | None], dict[int, Center | None], dict[int, str]]:
    """Town, responsible center and county code of each region, from two queries for all of them.

    The same answers as `ancestor_of_kind(region, TOWN)`, `center_of_region` and `county_of`
    (which ask the database once per region each).
    """
    regions = list(regions)
    paths = {p for r in regions for p in ancestor_paths(r.path)}
    by_path = {r.path: r for r in Region.objects.filter(path__in=paths)}
    center_at: dict[str, Center] = {}
    for c in Center.objects.filter(region__path__in=paths).select_related("region").order_by("pk"):
        center_at.setdefault(c.region.path, c)
    towns: dict[int, Region | None] = {}
    centers: dict[int, Center | None] = {}
    counties: dict[int, str] = {}
    for region in regions:
        chain = [by_path.get(p, region if p == region.path else None) for p in ancestor_paths(region.path)]
        chain = [r for r in chain if r is not None]  # root first, the region last
        towns[region.pk] = next((r for r in reversed(chain) if r.kind == RegionKind.TOWN), None)
        centers[region.pk] = next(
            (center_at[r.path] for r in reversed(chain) if r.path in center_at), None
        )
        county = next((r for r in reversed(chain) if r.kind == RegionKind.COUNTY), None) or chain[0]
        counties[region.pk] = county.code[:6]
    return towns, centers, counties


# ============================================================================================
# Transitions
# ============================================================================================


def _lock(case: Case | int) -> Case:
    pk = case.pk if isinstance(case, Case) else case
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("owning_center__region", "owning_unit")
        .get(pk=pk)
    )


def _check_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and case.version != expected_version:
        last = case.timeline.order_by("-at", "-id").select_related("actor").first()
        who = f"{last.actor} 于 {fmt(last.at)} " if last and last.actor else ""
        raise StaleEdit(f"该事项已被他人修改（{who}），您看到的是旧版本。请刷新页面后重新操作，您填写的内容未保存。")


def _transition(
    *,
    case: Case | int,
    action: str,
    by: User | None,
    expected_version: int | None,
    comment: str = "",
    now: dt.datetime | None = None,
    mutate=None,
    summary: str | None = None,
    restart_clock: bool = True,
    data: dict[str, Any] | None = None,
    clock_from: dt.datetime | None = None,
) -> Case:
    t = lifecycle.TRANSITIONS[action]
    ctx = Context.load(now)
    with transaction.atomic():
        locked = _lock(case)
        _check_version(locked, expected_version)
        if locked.status not in t.sources:
            raise DomainError(f"当前状态「{locked.get_status_display()}」不能执行「{t.label}」。")
        if by is not None and not lifecycle.allowed(by, locked, action):
            raise NotAllowed(f"您无权对该事项执行「{t.label}」。")
        comment = (comment or "").strip()
        if t.needs_comment and not comment:
            raise DomainError(f"「{t.label}」须填写说明。")
        compliance = _compliance(locked, ctx.now)
        old_status, old_center, old_phase = locked.status, locked.owning_center, locked.phase
        extra = mutate(locked, ctx) if mutate else None
        if t.target:
            locked.status = t.target
        step_ended = restart_clock and (
            locked.status != old_status or locked.owning_center_id != old_center.pk or locked.phase != old_phase
            or action in ("assign", "transfer")
        )
        if step_ended:
            _start_step(locked, ctx, start=clock_from)
        locked.version += 1
        locked.updated_at = ctx.now
        old_warning, _ = _apply_warning(locked, ctx.now, ctx.policy)
        locked.save()
        text = summary or t.label
        if extra and extra.get("summary"):
            text = extra["summary"]
        # Compliance facts belong to the step that ended; a transition that keeps the step running
        # (pause, resume, extend, a kind's note-like action) records none, so each step counts once.
        _timeline(
            locked, action=action, summary=text, actor=by, now=ctx.now, comment=comment,
            from_status=old_status, to_status=locked.status, from_center=old_center,
            to_center=locked.owning_center, compliance=compliance if step_ended else None, data=data,
        )
        _assess_transition(locked, old_status=old_status, old_warning=old_warning, now=ctx.now)
        if locked.warning_level == WarningLevel.RED:
            _red_response(locked, ctx.now)
    return locked


def _assess_transition(case: Case, *, old_status: str, old_warning: str, now: dt.datetime) -> None:
    """The assessment points a transition earns (cases.assessment): closing, or a clock's yellow seen first here."""
    if case.status == Status.CLOSED and old_status != Status.CLOSED:
        assessment.points_on_close(case=case, now=now)
    elif old_warning == WarningLevel.GREEN and assessment.is_clock_yellow(case, now):
        assessment.insert([assessment.yellow_card(case=case, now=now, book=assessment.PointBook())])


def case_transition(
    *,
    case: Case | int,
    action: str,
    by: User | None,
    expected_version: int | None = None,
    comment: str = "",
    mutate=None,
    summary: str | None = None,
    restart_clock: bool = True,
    data: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
    clock_from: dt.datetime | None = None,
) -> Case:
    """The engine's one door for a kind's own transitions (petitions, grids, mediation).

    `action` must be in the transition table (apps add theirs with `lifecycle.register`).
    `mutate(case, ctx)` may change the case's kind-specific facts (phase, owner, result …) under
    the row lock and may return {"summary": …}; the engine checks state, actor, version, restarts
    the clock when status, owner or phase changed, recomputes the colour and writes the timeline.
    `clock_from` starts that new clock at an earlier moment than now (a petition's 60 days run from
    its acceptance, not from the unit's receipt).
    """
    return _transition(
        case=case, action=action, by=by, expected_version=expected_version, comment=comment, now=now,
        mutate=mutate, summary=summary, restart_clock=restart_clock, data=data, clock_from=clock_from,
    )


def case_accept(*, case: Case, by: User, expected_version: int | None = None, comment: str = "") -> Case:
    def mutate(c: Case, ctx: Context):
        c.accepted_at = c.accepted_at or ctx.now

    return _transition(case=case, action="accept", by=by, expected_version=expected_version, comment=comment, mutate=mutate)


def case_assign(
    *,
    case: Case,
    by: User,
    users: Sequence[User],
    role: str = AssignmentRole.HANDLER,
    expected_version: int | None = None,
    comment: str = "",
) -> Case:
    """Hand the case to handlers or a mediator; each gains an object permission on this case."""
    if not users:
        raise DomainError("请选择承办人。")

    def mutate(c: Case, ctx: Context):
        names = []
        for u in users:
            CaseAssignment.objects.get_or_create(case=c, user=u, role=role, is_active=True, defaults={"assigned_by": by})
            assign_perm("cases.view_case", u, c)
            assign_perm("cases.change_case", u, c)
            names.append(u.display_name)
        return {"summary": f"交办给 {'、'.join(names)}（{AssignmentRole(role).label}）"}

    result = _transition(
        case=case, action="assign", by=by, expected_version=expected_version, comment=comment, mutate=mutate
    )
    notify(
        users=users, case=result, kind="assigned", title=f"您有新交办事项：{result.tracking_no}", body=result.title,
        dedupe_key=f"assigned:{result.pk}:{result.version}", sms=True,
    )
    return result


@transaction.atomic
def case_unassign(*, case: Case, by: User, user: User) -> None:
    if not lifecycle.relations(by, case) & {lifecycle.OWNER, lifecycle.ABOVE}:
        raise NotAllowed("您无权调整承办人。")
    CaseAssignment.objects.filter(case=case, user=user, is_active=True).update(is_active=False)
    remove_perm("cases.view_case", user, case)
    remove_perm("cases.change_case", user, case)
    _timeline(case, action="unassign", summary=f"撤回 {user.display_name} 的承办", actor=by, now=timezone.now())


def case_start(*, case: Case, by: User, expected_version: int | None = None, comment: str = "") -> Case:
    return _transition(case=case, action="start", by=by, expected_version=expected_version, comment=comment)


def case_pause(*, case: Case, by: User, comment: str, expected_version: int | None = None) -> Case:
    """Stop the clock while waiting (for a court, for a party): the deadline moves on resume."""

    def mutate(c: Case, ctx: Context):
        c.paused_at = ctx.now

    return _transition(
        case=case, action="pause", by=by, expected_version=expected_version, comment=comment, mutate=mutate,
        restart_clock=False,
    )


def case_resume(*, case: Case, by: User, expected_version: int | None = None, comment: str = "") -> Case:
    def mutate(c: Case, ctx: Context):
        if c.paused_at and c.due_at:
            paused = ctx.now - c.paused_at
            c.due_at += paused
            if c.yellow_at:
                c.yellow_at += paused
            hours = paused.total_seconds() / 3600
            c.due_explanation += f" 暂停计时 {hours:.1f} 小时，期限顺延至 {fmt(c.due_at)}。"
        c.paused_at = None
        if c.due_at and c.due_at > ctx.now:
            c.overdue_fired = False

    return _transition(
        case=case, action="resume", by=by, expected_version=expected_version, comment=comment, mutate=mutate,
        restart_clock=False,
    )


def case_resolve(*, case: Case, by: User, comment: str, expected_version: int | None = None) -> Case:
    def mutate(c: Case, ctx: Context):
        c.resolved_at = ctx.now
        c.result = comment

    return _transition(case=case, action="resolve", by=by, expected_version=expected_version, comment=comment, mutate=mutate)


def case_fail(*, case: Case, by: User, comment: str, expected_version: int | None = None) -> Case:
    def mutate(c: Case, ctx: Context):
        c.result = comment

    return _transition(case=case, action="fail", by=by, expected_version=expected_version, comment=comment, mutate=mutate)


def case_close(
    *, case: Case, by: User, satisfaction: str, comment: str = "", expected_version: int | None = None
) -> Case:
    """Close after the satisfaction visit (回访); records whether the whole case was on time."""
    if satisfaction not in Satisfaction.values:
        raise DomainError("请选择回访满意度。")

    def mutate(c: Case, ctx: Context):
        c.satisfaction = satisfaction
        c.closed_at = ctx.now
        c.closed_on_time = c.overdue_count == 0 and (c.due_at is None or ctx.now <= c.due_at)
        return {"summary": f"回访办结：{Satisfaction(satisfaction).label}"}

    return _transition(case=case, action="close", by=by, expected_version=expected_version, comment=comment, mutate=mutate)


def case_reopen(*, case: Case, by: User, comment: str, expected_version: int | None = None) -> Case:
    def mutate(c: Case, ctx: Context):
        c.closed_at = None
        c.closed_on_time = None
        c.resolved_at = None

    return _transition(case=case, action="reopen", by=by, expected_version=expected_version, comment=comment, mutate=mutate)


def case_escalate(*, case: Case, by: User | None, comment: str, expected_version: int | None = None) -> Case:
    """Move the case to the parent center (village → town → county); a new clock starts there."""

    def mutate(c: Case, ctx: Context):
        parent = parent_center(c.owning_center)
        if parent is None:
            raise DomainError("已是最高层级，不能再上报。")
        c.owning_center = parent
        c.owning_unit = None
        c.level = _level_of(parent)
        return {"summary": f"上报至 {parent.name}"}

    result = _transition(
        case=case, action="escalate", by=by, expected_version=expected_version, comment=comment, mutate=mutate
    )
    notify(
        users=center_staff(result.owning_center), case=result, kind="escalated",
        title=f"下级上报事项：{result.tracking_no}", body=f"{result.title}。{comment}",
        dedupe_key=f"escalated:{result.pk}:{result.step_no}",
    )
    return result


def case_transfer(
    *, case: Case, by: User, unit: Unit, comment: str, expected_version: int | None = None
) -> Case:
    """Hand the case to a functional department (转办), which then owns the handling."""

    def mutate(c: Case, ctx: Context):
        c.owning_unit = unit
        return {"summary": f"转交 {unit.name} 办理"}

    result = _transition(
        case=case, action="transfer", by=by, expected_version=expected_version, comment=comment, mutate=mutate
    )
    unit_staff = User.objects.filter(memberships__unit=unit, memberships__is_active=True, is_active=True).distinct()
    notify(
        users=unit_staff, case=result, kind="transferred", title=f"转办事项：{result.tracking_no}",
        body=result.title, dedupe_key=f"transferred:{result.pk}:{result.version}", sms=True,
    )
    return result


def case_take_over(*, case: Case, by: User, comment: str, expected_version: int | None = None) -> Case:
    """A higher center takes the case over (提级办理)."""

    def mutate(c: Case, ctx: Context):
        own = (
            Membership.objects.filter(user=by, is_active=True, center__isnull=False, role__in=lifecycle.ABOVE_ROLES)
            .select_related("center__region")
            .order_by("-center__region__depth")
        )
        target = next(
            (m.center for m in own if c.owning_center.region.path.startswith(m.center.region.path)), None
        )
        if target is None:
            raise NotAllowed("只有上级中心可以提级办理。")
        c.owning_center = target
        c.owning_unit = None
        c.level = _level_of(target)
        c.accepted_at = c.accepted_at or ctx.now
        return {"summary": f"{target.name} 提级办理"}

    return _transition(case=case, action="take_over", by=by, expected_version=expected_version, comment=comment, mutate=mutate)


def case_extend(*, case: Case, by: User, days: int, comment: str, expected_version: int | None = None) -> Case:
    """An approved extension: the current step's deadline moves by `days`; yellow follows."""
    if not 1 <= days <= 90:
        raise DomainError("延期天数须在 1 到 90 天之间。")

    def mutate(c: Case, ctx: Context):
        if c.clock_rule_id is None or c.due_at is None:
            raise DomainError("本环节未设时限，无需延期。")
        c.extension_hours += days * 24
        # The step's own rule (also while paused: a paused case's status has no rule), and the
        # time its clock already stood still in this step, which `case_resume` added to due_at.
        d = ctx.deadline(c.clock_rule, c.step_started_at, c.extension_hours)
        paused, _ = _pauses_in_step([c]).get(c.pk, (dt.timedelta(0), ""))
        c.due_at, c.yellow_at, c.due_explanation = d.due_at + paused, d.yellow_at + paused, d.explanation
        if paused:
            c.due_explanation += f" 暂停计时 {paused.total_seconds() / 3600:.1f} 小时，期限顺延至 {fmt(c.due_at)}。"
        if c.due_at > ctx.now:
            c.overdue_fired = False
        return {"summary": f"批准延期 {days} 天，期限至 {fmt(c.due_at)}"}

    return _transition(
        case=case, action="extend", by=by, expected_version=expected_version, comment=comment, mutate=mutate,
        restart_clock=False, data={"days": days},
    )


EDITABLE_FIELDS = (
    "title", "description", "category", "address", "occurred_at", "amount", "people_count",
    "has_casualty", "petition_risk", "risk_note", "failed_mediations",
)


@transaction.atomic
def case_update(*, case: Case, by: User, expected_version: int | None, **changes: Any) -> Case:
    """Edit the facts of a case, refusing a stale copy; red triggers are re-evaluated at once."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"不能修改的字段：{', '.join(sorted(unknown))}")
    ctx = Context.load()
    locked = _lock(case)
    _check_version(locked, expected_version)
    if by is not None and not lifecycle.relations(by, locked) & {lifecycle.OWNER, lifecycle.ASSIGNEE, lifecycle.ABOVE}:
        raise NotAllowed("您无权修改该事项。")
    changed = []
    for field, value in changes.items():
        if getattr(locked, field) != value:
            changed.append(str(Case._meta.get_field(field).verbose_name))
            setattr(locked, field, value)
    if not changed:
        return locked
    if "category" in changes:
        _set_deadline(locked, ctx)
    locked.version += 1
    locked.updated_at = ctx.now
    old, new = _apply_warning(locked, ctx.now, ctx.policy)
    locked.save()
    summary = f"修改：{'、'.join(changed)}"
    if old != new:
        summary += f"；预警 {WarningLevel(old).label}→{WarningLevel(new).label}"
    _timeline(locked, action="update", summary=summary, actor=by, now=ctx.now, data={"warning": new})
    if new == WarningLevel.RED and old != WarningLevel.RED:
        _red_response(locked, ctx.now)
    return locked


@transaction.atomic
def case_record_failed_mediation(*, case: Case, by: User | None, reason: str = "") -> Case:
    """Called by mediation when a mediation attempt fails: the K-th failure is a red trigger."""
    ctx = Context.load()
    locked = _lock(case)
    locked.failed_mediations += 1
    locked.version += 1
    locked.updated_at = ctx.now
    old, new = _apply_warning(locked, ctx.now, ctx.policy)
    locked.save()
    _timeline(
        locked, action="mediation_failed", summary=f"调解未成（第 {locked.failed_mediations} 次）", actor=by,
        now=ctx.now, comment=reason,
    )
    if new == WarningLevel.RED and old != WarningLevel.RED:
        _red_response(locked, ctx.now)
    return locked


# ============================================================================================
# Red response: 领导包案 and 联席会议
# ============================================================================================


def _red_response(case: Case, now: dt.datetime, staff=None) -> list[NoticeRow]:
    """A red case: supervised by the center above its owner (once per case, cases.supervision);
    at the county, the county leaders are told once, suggesting 领导包案.

    With `staff` (a sweep's cache) the rows are returned for one bulk insert; otherwise inserted.
    """
    if staff is None:
        supervision.auto_supervise(case=case, now=now)  # the sweep supervises its batch at once (auto_supervise_bulk)
    if case.level not in ("county", "city", "province"):
        return []
    leaders = staff(case.owning_center, LEADER_ROLES) if staff else center_staff(case.owning_center, LEADER_ROLES)
    reasons = "；".join(case.warning_reasons)
    rows = notification_rows(
        users=leaders, case=case, kind="red_response", title=f"红色预警：{case.tracking_no}，建议领导包案",
        body=f"{case.title}。原因：{reasons}", dedupe_key=f"red:{case.pk}", sms=True, now=now,
    )
    if staff is None:
        notifications_insert(rows)
    return rows


@transaction.atomic
def case_package(
    *,
    case: Case,
    by: User,
    leader: User,
    plan: str,
    report_back_on: dt.date,
    task_force: Sequence[User] = (),
    task_force_units: Sequence[Unit] = (),
) -> LeaderPackage:
    """领导包案: one leader, one task force, one plan, a report-back date, to the end."""
    if not lifecycle.is_leader_above_or_owner(by, case) and not lifecycle.relations(by, case) & {lifecycle.ABOVE, lifecycle.OWNER}:
        raise NotAllowed("您无权安排领导包案。")
    if not case.is_open:
        raise DomainError("已办结的事项不能包案。")
    if not (plan or "").strip():
        raise DomainError("请填写化解方案。")
    if report_back_on < timezone.localdate():
        raise DomainError("汇报日期不能早于今天。")
    if not Membership.objects.filter(user=leader, is_active=True, role__in=LEADER_ROLES).exists():
        raise DomainError("包案人须为中心领导或县领导。")
    if LeaderPackage.objects.filter(case=case, is_active=True).exists():
        raise DomainError("该事项已有包案领导。")
    package = LeaderPackage.objects.create(
        case=case, leader=leader, plan=plan.strip(), report_back_on=report_back_on, created_by=by
    )
    package.task_force.set(task_force)
    package.task_force_units.set(task_force_units)
    for u in [leader, *task_force]:
        assign_perm("cases.view_case", u, case)
    now = timezone.now()
    _timeline(
        case, action="package", summary=f"领导包案：{leader.display_name}，{report_back_on:%Y-%m-%d} 前汇报",
        actor=by, now=now, comment=plan.strip(),
    )
    notify(
        users=[leader, *task_force], case=case, kind="package", title=f"领导包案：{case.tracking_no}",
        body=f"{case.title}。汇报日期 {report_back_on:%Y-%m-%d}", dedupe_key=f"package:{package.pk}", sms=True,
        now=now,
    )
    return package


@transaction.atomic
def joint_meeting_create(
    *,
    by: User,
    center: Center,
    title: str,
    held_at: dt.datetime,
    participants: str,
    decisions: str,
    case: Case | None = None,
    place: str = "",
    participant_units: Sequence[Unit] = (),
    tasks: Sequence[dict[str, Any]] = (),
) -> JointMeeting:
    """联席会议 record with decisions and follow-up tasks (each task: task, due_on, unit/assignee)."""
    if not Membership.objects.filter(user=by, center=center, is_active=True).exists() and not by.is_superuser:
        raise NotAllowed("只能以本中心名义召集联席会议。")
    if not title.strip() or not participants.strip() or not decisions.strip():
        raise DomainError("请填写会议名称、参会人员和会议决定。")
    meeting = JointMeeting.objects.create(
        case=case, center=center, title=title.strip(), held_at=held_at, place=place, participants=participants,
        decisions=decisions, created_by=by,
    )
    meeting.participant_units.set(participant_units)
    for t in tasks:
        if not t.get("task") or not t.get("due_on"):
            raise DomainError("会议任务须有内容和完成时限。")
        MeetingTask.objects.create(
            meeting=meeting, task=t["task"], due_on=t["due_on"], unit=t.get("unit"), assignee=t.get("assignee")
        )
    if case is not None:
        _timeline(
            case, action="joint_meeting", summary=f"召开联席会议：{meeting.title}", actor=by, now=timezone.now(),
            comment=decisions,
        )
    assignees = [t["assignee"] for t in tasks if t.get("assignee")]
    notify(
        users=assignees, case=case, kind="meeting_task", title=f"联席会议任务：{meeting.title}",
        body=decisions[:200], dedupe_key=f"meeting:{meeting.pk}",
    )
    return meeting


# ============================================================================================
# The sweep
# ============================================================================================


def sweep(*, now: dt.datetime | None = None, batch_size: int = 500) -> SweepRun:
    """Escalate overdue cases and turn soon-due ones yellow. Idempotent and safe to run twice.

    Selects through the partial indexes on `due_at` / `yellow_at`, so its cost follows the due
    cases, not the open ones. Each batch runs in one transaction holding the rows' locks
    (`SKIP LOCKED` on PostgreSQL, so a second sweep at once takes other rows; SQLite's IMMEDIATE
    transactions serialize the two). An overdue event is written once per (case, step, deadline)
    under a unique constraint, and escalation moves the deadline, so a case escalates once.
    """
    ctx = Context.load(now)
    run = SweepRun.objects.create(started_at=ctx.now)
    centers = SweepCache()
    # Loop until a batch comes back empty: under SKIP LOCKED a short batch only means another
    # sweep holds some rows, not that none are left.
    while _sweep_overdue_batch(ctx, run, centers, batch_size):
        pass
    while _sweep_yellow_batch(ctx, run, centers, batch_size):
        pass
    while supervision.sweep_orders_batch(ctx, run, centers, batch_size):  # 督办单 whose response is overdue
        pass
    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at", "escalated", "turned_yellow", "turned_red", "examined", "supervision_overdue"])
    return run


def _for_update(qs):
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


SWEEP_FIELDS = [
    "owning_center", "owning_unit", "level", "status", "step_no", "step_started_at", "due_at", "yellow_at",
    "due_explanation", "clock_rule", "paused_at", "extension_hours", "overdue_fired", "overdue_count",
    "warning_level", "warning_reasons", "warning_changed_at", "version", "updated_at",
]


class SweepCache:
    """The center tree and staff lists, loaded once per sweep instead of once per case."""

    # The posts a sweep notifies (NOTIFY_ROLES, LEADER_ROLES, supervision's leaders and dispatchers):
    # `prime` loads these for a batch's centers in one query; other roles are looked up as asked.
    PRIMED_ROLES = frozenset({Role.DISPATCHER, Role.CENTER_LEADER, Role.LEADERSHIP})

    def __init__(self) -> None:
        self._centers: dict[int, Center] | None = None
        self._by_path: dict[str, Center] = {}
        self._staff: dict[tuple[int, tuple[str, ...]], list[User]] = {}
        self._posts: dict[int, list[tuple[str, User]]] = {}

    def _load(self) -> dict[int, Center]:
        if self._centers is None:
            self._centers = {c.pk: c for c in Center.objects.select_related("region")}
            self._by_path = {c.region.path: c for c in self._centers.values()}
        return self._centers

    def center(self, pk: int) -> Center:
        return self._load()[pk]

    def parent(self, center: Center) -> Center | None:
        self._load()
        path = center.region.path
        step = Region.steplen
        for end in range(len(path) - step, 0, -step):
            found = self._by_path.get(path[:end])
            if found is not None:
                return found
        return None

    def prime(self, centers: Iterable[Center]) -> None:
        """Load the active posts of `centers` (those not loaded yet) in one query."""
        ids = {c.pk for c in centers} - self._posts.keys()
        if not ids:
            return
        for pk in ids:
            self._posts[pk] = []
        posts = Membership.objects.filter(
            center_id__in=ids, is_active=True, user__is_active=True, role__in=self.PRIMED_ROLES
        ).select_related("user")
        for m in posts.order_by("pk"):
            self._posts[m.center_id].append((m.role, m.user))

    def staff(self, center: Center, roles: Sequence[str] = NOTIFY_ROLES) -> list[User]:
        """`center_staff(center, roles)` from the primed posts; a new list each call (callers extend it)."""
        key = (center.pk, tuple(sorted(roles)))
        if key not in self._staff:
            wanted = set(roles)
            if not wanted or not wanted <= self.PRIMED_ROLES:
                self._staff[key] = center_staff(center, roles)
                return list(self._staff[key])
            self.prime([center])
            users: dict[int, User] = {}
            for role, user in self._posts[center.pk]:
                if role in wanted:
                    users.setdefault(user.pk, user)
            self._staff[key] = list(users.values())
        return list(self._staff[key])


TIMELINE_FIELDS = (
    "case_id", "at", "actor_id", "action", "summary", "comment", "from_status", "to_status", "from_center_id",
    "to_center_id", "step_due_at", "met_deadline", "late_seconds", "data",
)


def _entry_row(entry: TimelineEntry) -> dict[str, Any]:
    return {f: getattr(entry, f) for f in TIMELINE_FIELDS}


def timeline_row(
    case_id: int,
    *,
    action: str,
    summary: str,
    now: dt.datetime,
    actor_id: int | None = None,
    comment: str = "",
    from_status: str = "",
    to_status: str = "",
    from_center_id: int | None = None,
    to_center_id: int | None = None,
    compliance: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`_timeline(..., save=False)` as a plain row for bulk_insert_rows (no model instance)."""
    row = {
        "case_id": case_id, "at": now, "actor_id": actor_id, "action": action, "summary": summary[:300],
        "comment": comment, "from_status": from_status, "to_status": to_status, "from_center_id": from_center_id,
        "to_center_id": to_center_id, "step_due_at": None, "met_deadline": None, "late_seconds": None,
        "data": data or {},
    }
    if compliance:
        row.update(compliance)
    return row


def _sweep_overdue_batch(ctx: Context, run: SweepRun, centers: SweepCache, batch_size: int) -> int:
    now = ctx.now
    with transaction.atomic():
        qs = Case.objects.filter(status__in=CLOCK_STATES, overdue_fired=False, due_at__lte=now).order_by("due_at")
        batch = list(_for_update(qs)[:batch_size])
        if not batch:
            return 0
        for case in batch:
            case.owning_center = centers.center(case.owning_center_id)
        owners = {case.owning_center for case in batch}
        centers.prime(owners | {p for p in map(centers.parent, owners) if p is not None})
        run.examined += len(batch)
        done = set(
            OverdueEvent.objects.filter(case_id__in=[c.pk for c in batch]).values_list("case_id", "step_no", "due_at")
        )
        events, entries, notices, hooked = [], [], [], []
        cards, red_cases, book = [], [], assessment.PointBook()
        for case in batch:
            if (case.pk, case.step_no, case.due_at) in done:
                case.overdue_fired = True  # repaired: this deadline was handled before
                continue
            old_center, old_status, due, old_step = case.owning_center, case.status, case.due_at, case.step_no
            late = fmt(due)
            compliance = _compliance(case, now)
            cards.append(
                assessment.red_card(
                    case=case, center=old_center, unit_id=case.owning_unit_id, step_no=old_step, due=due, now=now,
                    book=book, status_label=case.get_status_display(),
                )
            )
            case.overdue_count += 1
            hook = lifecycle.OVERDUE_HOOKS.get(case.kind)
            parent = None if hook is not None else centers.parent(old_center)
            if parent is not None:
                events.append({"case_id": case.pk, "step_no": old_step, "due_at": due, "fired_at": now, "action": "escalated"})
                case.owning_center, case.owning_unit, case.level = parent, None, _level_of(parent)
                case.status = Status.REGISTERED
                _start_step(case, ctx)
                summary = f"超期自动上报至 {parent.name}（原期限 {late}）"
                recipients = (parent, f"超期上报：{case.tracking_no}")
                run.escalated += 1
            elif hook is not None:
                # Supervised where it stands (see lifecycle.OVERDUE_HOOKS): red, same owner, 督办.
                events.append({"case_id": case.pk, "step_no": old_step, "due_at": due, "fired_at": now, "action": "supervised"})
                case.overdue_fired = True
                summary = f"超期（期限 {late}），红色预警，启动督办"
                recipients = None
                hooked.append((hook, case, old_step, due))
            else:
                events.append({"case_id": case.pk, "step_no": old_step, "due_at": due, "fired_at": now, "action": "top_level_red"})
                case.overdue_fired = True
                summary = f"超期（期限 {late}），已在最高层级，红色预警"
                recipients = None
            if parent is None:
                compliance = None  # the step goes on where it stands: its facts are stored when it ends
            old_warning, new_warning = _apply_warning(case, now, ctx.policy)
            if new_warning == WarningLevel.RED and old_warning != WarningLevel.RED:
                run.turned_red += 1
            case.version += 1
            case.updated_at = now
            entries.append(
                timeline_row(
                    case.pk, action="overdue", summary=summary, now=now, from_status=old_status,
                    to_status=case.status, from_center_id=old_center.pk, to_center_id=case.owning_center_id,
                    compliance=compliance, data={"due_at": due.isoformat()},
                )
            )
            key = f"overdue:{case.pk}:{old_step}:{due.isoformat()}"
            if recipients is not None:
                center, title = recipients
                users, kind = centers.staff(center), "escalated"
            elif hook is not None:
                users = []  # the hook sends the supervision notices
            else:
                users, kind = centers.staff(case.owning_center, LEADER_ROLES + NOTIFY_ROLES), "overdue_top"
                title = f"红色预警（超期）：{case.tracking_no}，建议领导包案"
            if users:
                notices += notification_rows(
                    users=users, case=case, kind=kind, title=title, body=case.title, dedupe_key=key, sms=True, now=now
                )
            if case.warning_level == WarningLevel.RED:
                notices += _red_response(case, now, staff=centers.staff)
                red_cases.append(case)
        bulk_insert_rows(OverdueEvent, events, ignore_conflicts=True)
        bulk_update_rows(Case, batch, SWEEP_FIELDS)
        history_snapshot(Case, batch, reason="超期自动处理", date=now)
        bulk_insert_rows(TimelineEntry, entries)
        assessment.insert(cards)
        notices += supervision.auto_supervise_bulk(cases=red_cases, now=now, cache=centers, calendar=ctx.calendar)
        notifications_insert(notices)
        for hook, case, step_no, due in hooked:
            hook(case=case, step_no=step_no, due_at=due, now=now)
    return len(batch)


def _sweep_yellow_batch(ctx: Context, run: SweepRun, centers: SweepCache, batch_size: int) -> int:
    now = ctx.now
    with transaction.atomic():
        qs = Case.objects.filter(
            status__in=CLOCK_STATES, warning_level=WarningLevel.GREEN, yellow_at__lte=now
        ).order_by("yellow_at")
        batch = list(_for_update(qs)[:batch_size])
        if not batch:
            return 0
        for case in batch:
            case.owning_center = centers.center(case.owning_center_id)
        centers.prime({case.owning_center for case in batch})
        run.examined += len(batch)
        entries, cards, book = [], [], assessment.PointBook()
        for case in batch:
            if assessment.is_clock_yellow(case, now):
                cards.append(assessment.yellow_card(case=case, now=now, book=book))
            old, new = _apply_warning(case, now, ctx.policy)
            if new == WarningLevel.GREEN:
                # Nothing to warn about any more (e.g. the clock was cleared): leave the index.
                case.yellow_at = None
            else:
                run.turned_yellow += 1
            case.version += 1
            case.updated_at = now
            if old != new:
                entries.append(
                    _timeline(case, action="warning", summary=f"预警 {WarningLevel(old).label}→{WarningLevel(new).label}：{'；'.join(case.warning_reasons)}",
                              actor=None, now=now, save=False)
                )
        bulk_update_rows(
            Case, batch, ["warning_level", "warning_reasons", "warning_changed_at", "yellow_at", "version", "updated_at"]
        )
        bulk_insert_rows(TimelineEntry, [_entry_row(e) for e in entries])
        assessment.insert(cards)
        handlers: dict[int, list[User]] = {}
        for a in CaseAssignment.objects.filter(case_id__in=[c.pk for c in batch], is_active=True).select_related("user"):
            handlers.setdefault(a.case_id, []).append(a.user)
        notices: list[NoticeRow] = []
        for case in batch:
            if case.warning_level == WarningLevel.YELLOW:
                notices += notification_rows(
                    users=handlers.get(case.pk) or centers.staff(case.owning_center), case=case, kind="yellow",
                    title=f"黄色预警：{case.tracking_no} 临近期限", body=case.title,
                    dedupe_key=f"yellow:{case.pk}:{case.step_no}:{case.due_at.isoformat() if case.due_at else ''}",
                    now=now,
                )
        notifications_insert(notices)
    return len(batch)


# ============================================================================================
# Pages: registration with parties, attachments, exports
# ============================================================================================


@dataclass(frozen=True)
class PartyInput:
    """One party as typed at registration; numbers already validated by the form."""

    name: str
    role: str = PartyRole.APPLICANT
    kind: str = PersonKind.INDIVIDUAL
    id_number: str = ""
    phone: str = ""
    address: str = ""


@transaction.atomic
def case_register_with_parties(*, by: User, parties: Sequence[PartyInput] = (), **fields: Any) -> Case:
    """Register a case and its parties in one transaction: on any error nothing is saved."""
    people = [
        (
            person_upsert(
                name=p.name, id_number=p.id_number, phone=p.phone, kind=p.kind, address=p.address,
            ),
            p.role,
        )
        for p in parties
    ]
    return case_register(by=by, parties=people, **fields)


# Extension → (content type, accepted leading bytes). The leading bytes are checked so that a
# renamed executable or script is refused whatever its name says.
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
_ZIP = (b"PK\x03\x04",)
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "pdf": ("application/pdf", (b"%PDF-",)),
    "ofd": ("application/ofd", _ZIP),
    "doc": ("application/msword", _OLE),
    "xls": ("application/vnd.ms-excel", _OLE),
    "ppt": ("application/vnd.ms-powerpoint", _OLE),
    "wps": ("application/vnd.ms-works", _OLE),
    "et": ("application/vnd.ms-excel", _OLE),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP),
}


def attachment_check(*, name: str, size: int, head: bytes) -> tuple[str, str]:
    """(extension, content type) of an acceptable upload, or a DomainError saying what is wrong."""
    from django.conf import settings

    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ATTACHMENT_TYPES:
        raise DomainError("只能上传图片（jpg、png、gif、webp）、PDF、OFD 或 Office/WPS 文档。")
    if size <= 0:
        raise DomainError("文件是空的。")
    limit = settings.UPLOAD_MAX_BYTES
    if size > limit:
        raise DomainError(f"文件过大（{size / 1048576:.1f} MB），不能超过 {limit / 1048576:.0f} MB。")
    content_type, magics = ATTACHMENT_TYPES[ext]
    if not any(head.startswith(m) for m in magics) or (ext == "webp" and head[8:12] != b"WEBP"):
        raise DomainError("文件内容与扩展名不符，请上传原始文件。")
    return ext, content_type


@transaction.atomic
def attachment_add(*, case: Case, by: User, file: Any) -> Attachment:
    """Attach a file (image, PDF, office document) to a case; refused for the wrong type or size."""
    if not lifecycle.relations(by, case) & {lifecycle.OWNER, lifecycle.ASSIGNEE, lifecycle.ABOVE}:
        raise NotAllowed("您无权为该事项上传附件。")
    name = (file.name or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
    head = file.read(16)
    file.seek(0)
    ext, content_type = attachment_check(name=name, size=file.size, head=head)
    attachment = Attachment(case=case, name=name, content_type=content_type, size=file.size, uploaded_by=by)
    # Stored under a random name: the original (often Chinese) name is kept in `name` and used
    # on download, and no one can guess another file's address.
    attachment.file.save(f"{uuid.uuid4().hex}.{ext}", file, save=False)
    attachment.save()
    _timeline(case, action="attachment", summary=f"上传附件：{name}", actor=by, now=timezone.now())
    return attachment


# Exports up to this many rows are written while the user waits; bigger ones run as a task and
# arrive in the inbox with a download link (shared/ANCHORS.md lesson 10). openpyxl writes about
# 1,500 rows per CPU second here (benchmarks/caselist_bench.py), so this keeps the wait ~3 s.
EXPORT_SYNC_MAX_ROWS = 5_000
# An .xlsx sheet holds 1,048,576 rows; beyond this the user must narrow the filter.
EXPORT_MAX_ROWS = 1_000_000
EXPORT_KEEP_DAYS = 7


def case_export_write(*, user: User, filters: Any, description: str, out: Any) -> int:
    """Write exactly the rows of the list `user` filtered (within their jurisdiction) as .xlsx to
    `out`, masked numbers only, and log the export (who, which filter, how many rows)."""
    from .exports import write_cases_xlsx
    from .selectors import case_export_rows, case_search

    rows = case_export_rows(case_search(user, filters))
    count = write_cases_xlsx(rows, out, limit=EXPORT_MAX_ROWS)
    export_logged(user=user, filter_description=description, row_count=count)
    return count


def export_dir(user_id: int):
    from pathlib import Path

    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / "exports" / str(int(user_id))


def case_export_start(*, user: User, filters: Any, description: str) -> str:
    """Queue a large export; the user is told in the inbox when the file is ready. Returns its token."""
    import dataclasses

    from .tasks import export_cases

    token = uuid.uuid4().hex
    payload = {
        k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in dataclasses.asdict(filters).items()
    }
    transaction.on_commit(
        lambda: export_cases.delay(user_id=user.pk, filters=payload, description=description, token=token)
    )
    return token


def case_export_run(*, user: User, filters: Any, description: str, token: str) -> int:
    """The task's body: write the file under the user's own export folder, then notify them."""
    import os
    import time

    from django.urls import reverse

    folder = export_dir(user.pk)
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - EXPORT_KEEP_DAYS * 86400
    for old in folder.glob("*.xlsx"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    final = folder / f"{token}.xlsx"
    if final.exists():
        return -1  # delivered twice: the file is already there and the user was told
    part = folder / f"{token}.part"
    with open(part, "wb") as out:
        count = case_export_write(user=user, filters=filters, description=description, out=out)
    os.replace(part, final)
    notify(
        users=[user], case=None, kind="export_ready", title=f"导出完成：{count} 条事项",
        body=description, dedupe_key=f"export:{token}",
        url=reverse("cases:export_download", kwargs={"token": token}),
    )
    return count


# ============================================================================================
# County administration: handing a person's work over, recomputing clocks after a rule change
# (called by countyadmin; the case's own timeline records each)
# ============================================================================================


@dataclass
class HandoverResult:
    assignments: int = 0
    first_responder: bool = False
    packages: int = 0
    supervision_orders: int = 0
    meeting_tasks: int = 0

    @property
    def total(self) -> int:
        return (
            self.assignments + int(self.first_responder) + self.packages + self.supervision_orders
            + self.meeting_tasks
        )


@transaction.atomic
def case_hand_over(
    *, case: Case | int, by: User, from_user: User, to_user: User, comment: str = "", now: dt.datetime | None = None
) -> HandoverResult:
    """Hand everything `from_user` holds on one open case to `to_user` (工作移交).

    Moves their active assignments (same role; the object permissions follow), the first-responder
    duty (首问负责, `registered_by`), the leader package they lead or serve on, the open supervision
    orders they issued (responses are reported to the issuer) and their open meeting tasks. Ended
    assignments stay as history rows; one timeline row says what moved. The caller checks that
    `by` administers both people.
    """
    from .models import SupervisionOrder, SupervisionStatus

    if from_user.pk == to_user.pk:
        raise DomainError("移交人与接收人不能是同一人。")
    now = now or timezone.now()
    locked = _lock(case)
    if not locked.is_open:
        raise DomainError(f"事项 {locked.tracking_no} 已办结，无需移交。")
    result = HandoverResult()
    moved: list[str] = []
    for a in CaseAssignment.objects.filter(case=locked, user=from_user, is_active=True):
        a.is_active = False
        a._change_reason = "工作移交"
        a.save(update_fields=["is_active"])
        CaseAssignment.objects.get_or_create(
            case=locked, user=to_user, role=a.role, is_active=True, defaults={"assigned_by": by}
        )
        result.assignments += 1
        moved.append(AssignmentRole(a.role).label)
    if result.assignments:
        remove_perm("cases.view_case", from_user, locked)
        remove_perm("cases.change_case", from_user, locked)
        assign_perm("cases.view_case", to_user, locked)
        assign_perm("cases.change_case", to_user, locked)
    if locked.registered_by_id == from_user.pk:
        locked.registered_by = to_user
        result.first_responder = True
        moved.append("首问责任人")
    for package in LeaderPackage.objects.filter(case=locked, is_active=True):
        touched = False
        if package.leader_id == from_user.pk:
            if not Membership.objects.filter(user=to_user, is_active=True, role__in=LEADER_ROLES).exists():
                raise DomainError(
                    f"{from_user.display_name} 是事项 {locked.tracking_no} 的包案领导，须由中心领导或县领导接替。"
                )
            package.leader = to_user
            package._change_reason = "工作移交"
            package.save(update_fields=["leader"])
            moved.append("包案领导")
            touched = True
        if package.task_force.filter(pk=from_user.pk).exists():
            package.task_force.remove(from_user)
            package.task_force.add(to_user)
            moved.append("包案专班成员")
            touched = True
        if touched:
            assign_perm("cases.view_case", to_user, locked)
            result.packages += 1
    orders = SupervisionOrder.objects.filter(case=locked, issued_by=from_user, status=SupervisionStatus.OPEN)
    for order in orders:
        order.issued_by = to_user
        order._change_reason = "工作移交"
        order.save(update_fields=["issued_by"])
        result.supervision_orders += 1
    if result.supervision_orders:
        moved.append(f"督办单跟踪 {result.supervision_orders} 件")
    result.meeting_tasks = MeetingTask.objects.filter(
        meeting__case=locked, assignee=from_user, done_at__isnull=True
    ).update(assignee=to_user)
    if result.meeting_tasks:
        moved.append(f"联席会议任务 {result.meeting_tasks} 项")
    if not result.total:
        return result
    locked.version += 1
    locked.updated_at = now
    locked._change_reason = "工作移交"
    locked.save(update_fields=["registered_by", "version", "updated_at"])
    _timeline(
        locked, action="handover", actor=by, now=now, comment=(comment or "").strip(),
        summary=f"工作移交：{from_user.display_name} → {to_user.display_name}（{'、'.join(dict.fromkeys(moved))}）",
        data={"from": from_user.pk, "to": to_user.pk},
    )
    notify(
        users=[to_user], case=locked, kind="handover", now=now,
        title=f"工作移交：{locked.tracking_no} 由您接手", body=f"原承办人 {from_user.display_name}。{locked.title}",
        dedupe_key=f"handover:{locked.pk}:{from_user.pk}:{to_user.pk}:{locked.version}",
    )
    return result


@dataclass
class RecomputeResult:
    examined: int = 0
    deadlines_changed: int = 0
    colours_changed: int = 0


RECOMPUTE_FIELDS = [
    "due_at", "yellow_at", "due_explanation", "clock_rule", "overdue_fired", "warning_level", "warning_reasons",
    "warning_changed_at", "version", "updated_at",
]


def _pauses_in_step(cases: Sequence[Case]) -> dict[int, tuple[dt.timedelta, str]]:
    """Per case: the clock stopped by finished pauses of its current step, and (for a paused case)
    the state its clock ran in before the pause. Read from the timeline (pause/resume rows)."""
    starts = [c.step_started_at for c in cases if c.step_started_at is not None]
    out: dict[int, tuple[dt.timedelta, str]] = {}
    if not starts:
        return out
    started = {c.pk: c.step_started_at for c in cases}
    rows = (
        TimelineEntry.objects.filter(case__in=cases, at__gte=min(starts))
        .filter(Q(to_status=Status.WAITING) | Q(from_status=Status.WAITING))
        .exclude(from_status=F("to_status"))
        .order_by("case_id", "at", "id")
        .values_list("case_id", "at", "from_status", "to_status")
    )
    open_pause: dict[int, dt.datetime] = {}
    for case_id, at, from_status, to_status in rows:
        if started.get(case_id) is None or at < started[case_id]:
            continue
        total, before = out.get(case_id, (dt.timedelta(0), ""))
        if to_status == Status.WAITING:
            open_pause[case_id] = at
            before = from_status
        elif case_id in open_pause:
            total += at - open_pause.pop(case_id)
        out[case_id] = (total, before)
    return out


def case_clocks_recompute(
    *, cases: Any, by: User | None, reason: str, now: dt.datetime | None = None, batch_size: int = 500
) -> RecomputeResult:
    """Recompute the current step's deadline and the colour of open cases after the county changed
    a clock rule, the working-day calendar or the warning thresholds (ARCHITECTURE: "a rule change
    recomputes open clocks").

    `cases` is a queryset naming the candidates (the caller narrows it to what the change can
    affect). The deadline is computed exactly as a new step's (`compute_deadline` from the step's
    start, its approved extension), plus the time the clock stood still in finished pauses of this
    step. A deadline that moves into the past is left to the sweep, which escalates it the usual
    way; colours are re-evaluated otherwise (a case that turns red gets the red response). Each
    changed case gets a history row and a timeline row naming `reason`. Batches of `batch_size`
    rows, each in one transaction under the rows' locks.
    """
    from .models import OPEN_STATES

    ctx = Context.load(now)
    now = ctx.now
    result = RecomputeResult()
    ids = list(cases.filter(status__in=OPEN_STATES).order_by("pk").values_list("pk", flat=True))
    book = assessment.PointBook()
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            batch = list(
                Case.objects.select_for_update(of=("self",))
                .filter(pk__in=ids[start : start + batch_size], status__in=OPEN_STATES)
                .select_related("owning_center__region")
                .order_by("pk")
            )
            result.examined += len(batch)
            pauses = _pauses_in_step(batch)
            changed, entries, cards, red = [], [], [], []
            for case in batch:
                paused, before = pauses.get(case.pk, (dt.timedelta(0), ""))
                clock_status = case.status if case.status in CLOCK_STATES else (before or Status.IN_PROGRESS)
                old_due, old_yellow, old_rule_id = case.due_at, case.yellow_at, case.clock_rule_id
                rule = ctx.rules.match(
                    kind=case.kind, status=clock_status, level=case.level, category=case.category, phase=case.phase
                )
                if rule is None or case.step_started_at is None:
                    case.clock_rule, case.due_at, case.yellow_at = None, None, None
                    case.due_explanation = "本环节未设时限。"
                else:
                    d = ctx.deadline(rule, case.step_started_at, case.extension_hours)
                    case.clock_rule = rule
                    case.due_at, case.yellow_at = d.due_at + paused, d.yellow_at + paused
                    case.due_explanation = d.explanation
                    if paused:
                        hours = paused.total_seconds() / 3600
                        case.due_explanation += f" 暂停计时 {hours:.1f} 小时，期限顺延至 {fmt(case.due_at)}。"
                deadline_moved = (case.due_at, case.yellow_at, case.clock_rule_id) != (old_due, old_yellow, old_rule_id)
                if case.due_at is None or case.due_at > now:
                    case.overdue_fired = False
                old_warning = case.warning_level
                old_reasons = list(case.warning_reasons or [])
                # An overdue step not yet handled is the sweep's: it escalates and colours it.
                left_to_sweep = case.due_at is not None and case.due_at <= now and not case.overdue_fired
                if not left_to_sweep and case.status != Status.WAITING:
                    _apply_warning(case, now, ctx.policy)
                colour_moved = case.warning_level != old_warning
                if not deadline_moved and not colour_moved and case.warning_reasons == old_reasons:
                    continue
                case.version += 1
                case.updated_at = now
                changed.append(case)
                parts = []
                if deadline_moved:
                    result.deadlines_changed += 1
                    parts.append(f"本环节期限 {fmt(old_due) or '不计时'} → {fmt(case.due_at) or '不计时'}")
                if colour_moved:
                    result.colours_changed += 1
                    parts.append(f"预警 {WarningLevel(old_warning).label}→{WarningLevel(case.warning_level).label}")
                    if old_warning == WarningLevel.GREEN and assessment.is_clock_yellow(case, now):
                        cards.append(assessment.yellow_card(case=case, now=now, book=book))
                    if case.warning_level == WarningLevel.RED:
                        red.append(case)
                if parts:
                    entries.append(
                        _timeline(
                            case, action="clock_recomputed", actor=by, now=now, save=False, comment=reason,
                            summary=f"规则调整重算：{'；'.join(parts)}",
                        )
                    )
            bulk_update_rows(Case, changed, RECOMPUTE_FIELDS)
            history_snapshot(Case, changed, reason=f"规则调整重算：{reason}"[:100], date=now)
            bulk_insert_rows(TimelineEntry, [_entry_row(e) for e in entries])
            assessment.insert([c for c in cards if c is not None])
            for case in red:
                _red_response(case, now)
    return result
