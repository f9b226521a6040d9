"""The county hall on the demo day: windows, today's roster, the queue, visits of every kind, a
leader reception day with a booking, and appointments.

Everything goes through reception.services (the supervisor's and the clerks' own paths), so the
hall overview, the daily statistics, the receipts and the clocks are real. Keyed on the county
hall's windows: a second run creates nothing.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone
from stdnum.cn import ric

from cases.models import Category, Person
from centers.models import Center, DepartmentKind, Region, RegionKind, Unit, User
from centers.selectors import center_of_region
from centers.services import DomainError
from mediation.models import Mediator
from reception.models import AppointmentPurpose, Route, Window
from reception.services import (
    RouteOptions,
    appointment_create,
    duty_set,
    leader_booking_create,
    leader_slot_create,
    ticket_call_next,
    ticket_take,
    visit_register,
    window_create,
)

from . import names
from .context import SeedContext

# (number, name, department, unit name suffix, clerk)
WINDOWS = [
    (1, "信访接待窗口", DepartmentKind.PETITION, "信访局", "clerk1"),
    (2, "人社劳动保障窗口", DepartmentKind.HRSS, "人力资源和社会保障局", "clerk2"),
    (3, "法律服务窗口", DepartmentKind.JUSTICE, "司法局", "clerk3"),
    (4, "诉讼服务窗口", DepartmentKind.COURT, "人民法院", "clerk3"),
]

# (route, category, matter, people, window number)
VISITS = [
    (Route.PETITION, Category.PROPERTY, "小区物业长期不维修电梯，多次反映未果", 1, 1),
    (Route.PETITION, Category.LAND, "征地补偿款分配不公，要求公开分配方案", 6, 1),
    (Route.MEDIATION, Category.NEIGHBOUR, "邻居加建围墙占用通道，双方多次争吵", 2, 1),
    (Route.MEDIATION, Category.LABOUR, "工地包工头拖欠三个月工资约 2.4 万元", 1, 2),
    (Route.ON_THE_SPOT, Category.LABOUR, "咨询灵活就业社保补贴申领条件", 1, 2),
    (Route.CONSULTATION, Category.FAMILY, "离婚后子女抚养费调整如何主张", 1, 3),
    (Route.LEGAL_AID, Category.LABOUR, "工伤认定后用人单位拒不赔偿，申请法律援助", 1, 3),
    (Route.LAW_LITIGATION, Category.LENDING, "民间借贷判决后对方拒不履行，要求法院执行", 1, 4),
    (Route.COUNSELLING, Category.FAMILY, "", 1, 1),
]


def _id_number(rng: random.Random, born: dt.date) -> str:
    body = f"430124{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def seed(ctx: SeedContext) -> None:
    county = ctx.county
    if county is None:
        return
    center = center_of_region(county)
    if center is None or Window.objects.filter(center=center).exists():
        return
    users = {u.username: u for u in User.objects.filter(
        username__in=["hall_supervisor", "clerk1", "clerk2", "clerk3", "county_leader", "mediator_county",
                      "mediator_labour"]
    )}
    boss = users.get("hall_supervisor")
    if boss is None or not all(users.get(w[4]) for w in WINDOWS):
        return
    windows = _windows(ctx, center, county, boss, users)
    visits = _visits(ctx, center, county, windows, users)
    _queue(ctx, center, windows, users)
    _leader_day(ctx, center, boss, users, visits)


def _windows(ctx: SeedContext, center: Center, county: Region, boss: User, users: dict) -> dict[int, Window]:
    out: dict[int, Window] = {}
    today = timezone.localdate()
    for number, name, department, unit_suffix, _clerk in WINDOWS:
        unit = Unit.objects.filter(region=county, name=f"{county.name}{unit_suffix}").first()
        out[number] = window_create(
            by=boss, center=center, number=number, name=name, department=department, unit=unit
        )
    for number, *_rest, clerk in WINDOWS:
        for day in (today, today + dt.timedelta(days=1)):
            duty_set(by=boss, window=out[number], date=day, users=[users[clerk]])
    ctx.note("大厅窗口", len(out))
    return out


def _visits(ctx: SeedContext, center: Center, county: Region, windows: dict[int, Window], users: dict) -> list:
    rng = random.Random("demo/reception/visits")  # noqa: S311 - demo data
    # The first community, where the mediation demo's matters are too (the rest of the county's
    # places stay free of protected records, so a place can still be rebuilt by the seed).
    village = Region.objects.filter(path__startswith=county.path, kind=RegionKind.VILLAGE).order_by("code").first()
    village = village or county
    units = {u.kind: u for u in Unit.objects.filter(region=county)}
    mediators = {m.user.username: m.user for m in Mediator.objects.select_related("user")}
    clerk_of = {number: users[w[4]] for number, w in zip(windows, WINDOWS, strict=True)}
    now = timezone.now()
    out = []
    for i, (route, category, matter, people, window_no) in enumerate(VISITS):
        options = RouteOptions()
        if route in (Route.ON_THE_SPOT,):
            options = RouteOptions(result="已当面讲解申领条件和所需材料，来访人表示清楚", satisfaction="satisfied")
        elif route == Route.CONSULTATION:
            options = RouteOptions(unit=units.get(DepartmentKind.JUSTICE))
        elif route == Route.LEGAL_AID:
            options = RouteOptions(unit=units.get(DepartmentKind.JUSTICE))
        elif route == Route.LAW_LITIGATION:
            options = RouteOptions(unit=units.get(DepartmentKind.COURT))
        elif route == Route.MEDIATION:
            username = "mediator_labour" if category == Category.LABOUR else "mediator_county"
            options = RouteOptions(mediator=mediators.get(username))
            if options.mediator is None:
                continue
        born = dt.date(rng.randrange(1955, 2000), rng.randrange(1, 13), rng.randrange(1, 29))
        try:
            visit = visit_register(
                by=clerk_of[window_no],
                center=center,
                name=names.person_name(rng),
                id_number=_id_number(rng, born),
                phone=names.mobile(rng),
                address=f"{village.name}{rng.randrange(1, 90)}号",
                region=village,
                category=category,
                matter=matter,
                people_count=people,
                route=route,
                options=options,
                window=windows[window_no],
                # Spread over the last two hours.
                now=now - dt.timedelta(minutes=15 * (len(VISITS) - i)),
            )
        except DomainError as exc:  # a trimmed demo county may lack a unit or a counsellor
            ctx.out(f"  演示来访未登记（{matter or route}）：{exc}")
            continue
        out.append(visit)
    ctx.note("来访登记", len(out))
    return out


def _queue(ctx: SeedContext, center: Center, windows: dict[int, Window], users: dict) -> None:
    """A few numbers waiting in the hall, one being served at the petition window."""
    clerk = users["clerk1"]
    taken = [
        ticket_take(by=clerk, center=center, window=windows[1]),
        ticket_take(by=clerk, center=center, window=windows[1], people_count=2),
        ticket_take(by=clerk, center=center, window=windows[2]),
        ticket_take(by=clerk, center=center, window=windows[3]),
    ]
    ticket_call_next(by=clerk, window=windows[1])
    ctx.note("排队号", len(taken))


def _leader_day(ctx: SeedContext, center: Center, boss: User, users: dict, visits: list) -> None:
    """Tomorrow morning the county leader receives visitors; the land-compensation group is booked."""
    leader = users.get("county_leader")
    if leader is None:
        return
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    slot = leader_slot_create(
        by=boss,
        center=center,
        leader=leader,
        date=tomorrow,
        starts_at=dt.time(9, 0),
        ends_at=dt.time(11, 30),
        topics="征地拆迁、劳资纠纷、群体性诉求",
        place="县综治中心领导接访室",
        capacity=8,
    )
    ctx.note("领导接访日", 1)
    group = next((v for v in visits if v.people_count >= 5), None)
    if group is not None:
        case = group.cases.first()
        if case is not None:
            leader_booking_create(by=boss, slot=slot, person=group.person, case=case)
            ctx.note("领导接访预约", 1)
    # A mediation session to come back for, with its SMS reminder the day before.
    mediated = next((v for v in visits if v.route == Route.MEDIATION), None)
    if mediated is not None:
        person: Person = mediated.person
        at = timezone.make_aware(dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time(14, 30)))
        appointment_create(
            by=users["clerk1"],
            center=center,
            person=person,
            purpose=AppointmentPurpose.MEDIATION,
            at=at,
            case=mediated.cases.first(),
            place="县综治中心调解室",
            note="请双方当事人携带身份证和相关证据材料",
        )
        ctx.note("预约回访", 1)

