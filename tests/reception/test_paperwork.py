"""The hall's paperwork: group representatives, the counselling room's privacy, the daily statistics
of every kind, appointments with SMS reminders and leader reception days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from cases.models import CaseKind, CaseParty, LeaderInstruction, Notification, PartyRole, Status, WarningLevel
from cases.senders import ConsoleSender
from centers.services import DomainError
from reception import services
from reception.models import Appointment, AppointmentPurpose, BookingStatus, Route, Visit
from reception.selectors import hall_daily_stats
from reception.services import PartyInput, RouteOptions, visit_register
from tests.reception.conftest import idn

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def register(h, route, *, by=None, options=None, **kw):
    kw.setdefault("name", "张三")
    kw.setdefault("id_number", idn())
    kw.setdefault("phone", "13800138000")
    kw.setdefault("matter", "工地欠薪三个月")
    return visit_register(
        by=by or h.clerk,
        center=h.center,
        region=kw.pop("region", h.village_a),
        route=route,
        options=options or RouteOptions(),
        window=h.w1,
        **kw,
    )


# --------------------------------------------------------------------------------------------
# Group visits
# --------------------------------------------------------------------------------------------


def test_group_of_eight_records_its_representatives_turns_red_and_tells_the_supervisor(hall):
    reps = [PartyInput(name=n, role="representative", phone=f"1390731000{i}") for i, n in enumerate("甲乙丙")]
    visit = register(hall, Route.PETITION, people_count=8, representatives=reps)
    (case,) = visit.cases.all()
    assert visit.is_group and case.people_count == 8
    assert case.warning_level == WarningLevel.RED and any("群体性" in r for r in case.warning_reasons)
    names = set(
        CaseParty.objects.filter(case=case, role=PartyRole.REPRESENTATIVE).values_list(
            "person__name", flat=True
        )
    )
    assert names == {"甲", "乙", "丙"}
    n = Notification.objects.get(user=hall.supervisor, kind="group_visit")
    assert "8 人" in n.title and "甲、乙、丙" in n.body and n.sms
    assert not Notification.objects.filter(user=hall.clerk2, kind="group_visit").exists()


def test_group_without_named_representatives_has_the_visitor_as_representative(hall):
    visit = register(hall, Route.PETITION, people_count=6)
    (case,) = visit.cases.all()
    reps = CaseParty.objects.filter(case=case, role=PartyRole.REPRESENTATIVE)
    assert [r.person.name for r in reps] == ["张三"]


def test_more_than_five_representatives_are_refused_and_nothing_is_written(hall):
    reps = [PartyInput(name=f"代表{i}", role="representative") for i in range(6)]
    with pytest.raises(DomainError, match="最多 5 人"):
        register(hall, Route.PETITION, people_count=30, representatives=reps)
    assert not Visit.objects.exists()


def test_the_registration_page_shows_the_representatives_limit_on_the_field(hall, client_for):
    c = client_for(hall.clerk)
    r = c.post(
        "/reception/register/",
        {
            "name": "张三",
            "id_number": idn(),
            "phone": "13800138000",
            "region": hall.village_a.pk,
            "people_count": 30,
            "category": "labour",
            "matter": "集体讨薪",
            "route": Route.PETITION,
            "representatives": "\n".join(f"代表{i} 1390731000{i}" for i in range(6)),
            "summons_hours": 2,
            "satisfaction": "satisfied",
            "party-TOTAL_FORMS": 0,
            "party-INITIAL_FORMS": 0,
        },
    )
    body = r.content.decode()
    assert r.status_code == 200 and "集体访代表最多 5 人" in body
    assert 'class="field has-error' in body.split("集体访代表最多 5 人")[0].rsplit("<div", 1)[1]
    assert not Visit.objects.exists()


# --------------------------------------------------------------------------------------------
# Counselling: the content is the counselling room's and the county center's only
# --------------------------------------------------------------------------------------------


@pytest.fixture
def counselling(hall):
    visit = register(hall, Route.COUNSELLING, matter="失眠焦虑，想找人聊聊", phone="13907310009")
    (case,) = visit.cases.all()
    return case


def test_counselling_sessions_outcome_and_follow_up(hall, counselling):
    with pytest.raises(DomainError, match="咨询师"):
        services.counselling_session_add(by=hall.clerk, case=counselling, minutes=50, notes="x")
    services.counselling_session_add(
        by=hall.counsellor, case=counselling, minutes=50, notes="谈及工作压力与睡眠"
    )
    counselling.refresh_from_db()
    assert counselling.status == Status.IN_PROGRESS and counselling.counselling.counsellor == hall.counsellor
    follow = timezone.localdate() + dt.timedelta(days=7)
    services.counselling_finish(
        by=hall.counsellor, case=counselling, outcome="情绪平稳，建议规律作息", follow_up_on=follow
    )
    counselling.refresh_from_db()
    assert counselling.status == Status.CLOSED
    # The timeline, which more people read than the record, never carries the content.
    assert not counselling.timeline.filter(comment__contains="作息").exists()
    appt = Appointment.objects.get(case=counselling)
    assert appt.purpose == AppointmentPurpose.COUNSELLING and appt.person.name == "张三"


def test_counselling_content_across_roles(hall, counselling, client_for):
    services.counselling_session_add(by=hall.counsellor, case=counselling, minutes=40, notes="谈及家庭矛盾")
    url = f"/reception/counselling/{counselling.pk}/"
    for user in (hall.counsellor, hall.county_dispatcher, hall.county_leader):
        body = client_for(user).get(url).content.decode()
        assert "失眠焦虑" in body and "谈及家庭矛盾" in body, user
        assert client_for(user).get(f"/cases/{counselling.pk}/").status_code == 200, user
    # County hall staff may know the case exists, never what it is about.
    for user in (hall.clerk, hall.supervisor):
        r = client_for(user).get(url)
        body = r.content.decode()
        assert r.status_code == 200 and "心理咨询（内容保密）" in body, user
        assert "失眠焦虑" not in body and "谈及家庭矛盾" not in body, user
        assert (
            client_for(user).post(url, {"action": "session", "s-minutes": 10, "s-notes": "x"}).status_code
            == 404
        )
        case_page = client_for(user).get(f"/cases/{counselling.pk}/")
        assert case_page.status_code == 302 and case_page["Location"] == url, user
        listing = client_for(user).get("/reception/counselling/").content.decode()
        assert counselling.tracking_no in listing and "失眠焦虑" not in listing
    # Towns, villages, units and the other town's hall do not see it at all.
    for user in (
        hall.town_a_dispatcher,
        hall.town_b_dispatcher,
        hall.town_b_clerk,
        hall.unit_staff,
        hall.mediator,
    ):
        assert client_for(user).get(url).status_code == 404, user
    # A counsellor writes through the page; the first-responsible clerk's list stays masked.
    r = client_for(hall.counsellor).post(url, {"action": "session", "s-minutes": 30, "s-notes": "第二次咨询"})
    assert r.status_code == 302 and counselling.counselling_sessions.count() == 2
    mine = client_for(hall.clerk).get("/reception/mine/").content.decode()
    assert counselling.tracking_no in mine and "失眠焦虑" not in mine


# --------------------------------------------------------------------------------------------
# The hall's daily statistics count every kind
# --------------------------------------------------------------------------------------------


def test_daily_statistics_count_every_kind_and_show_on_the_overview(hall, client_for):
    day = at(2026, 3, 10, 10, 0)
    with time_machine.travel(day, tick=False):
        register(hall, Route.ON_THE_SPOT, options=RouteOptions(result="当场答复社保查询"), now=day)
        register(hall, Route.PETITION, id_number=idn(seq="201"), now=day)
        register(
            hall,
            Route.MEDIATION,
            options=RouteOptions(mediator=hall.mediator),
            id_number=idn(seq="202"),
            now=day,
        )
        register(
            hall,
            Route.LAW_LITIGATION,
            options=RouteOptions(unit=hall.court),
            id_number=idn(seq="203"),
            now=day,
        )
        register(
            hall,
            Route.CONSULTATION,
            options=RouteOptions(result="讲解劳动合同法"),
            id_number=idn(seq="204"),
            now=day,
        )
        register(
            hall,
            Route.CONSULTATION,
            options=RouteOptions(result="讲解继承"),
            id_number=idn(seq="205"),
            now=day,
        )
        register(
            hall,
            Route.LEGAL_AID,
            options=RouteOptions(unit=hall.justice_bureau),
            id_number=idn(seq="206"),
            now=day,
        )
        register(hall, Route.COUNSELLING, id_number=idn(seq="207"), now=day)
        register(
            hall,
            Route.JOINT,
            options=RouteOptions(units=[hall.court, hall.hrss_bureau]),
            id_number=idn(seq="208"),
            people_count=7,
            now=day,
        )
        # Another day and another hall are not counted.
        register(hall, Route.PETITION, id_number=idn(seq="209"), now=at(2026, 3, 9, 16, 0))
        stats = hall_daily_stats(hall.center, dt.date(2026, 3, 10))
        by_kind = {k["kind"]: k for k in stats["kinds"]}
        assert set(by_kind) == set(CaseKind.values)
        expected = {
            CaseKind.ON_THE_SPOT: 1,
            CaseKind.PETITION: 1,
            CaseKind.DISPUTE: 1,
            CaseKind.LAW_LITIGATION: 1,
            CaseKind.CONSULTATION: 2,
            CaseKind.LEGAL_AID: 1,
            CaseKind.COUNSELLING: 1,
            CaseKind.JOINT: 1,
        }
        assert {k: v["n"] for k, v in by_kind.items() if v["n"]} == expected
        assert stats["total"] == 9 and stats["visits"] == 9 and stats["groups"] == 1
        assert (
            by_kind[CaseKind.CONSULTATION]["settled"] == 2 and by_kind[CaseKind.ON_THE_SPOT]["settled"] == 1
        )
        assert by_kind[CaseKind.JOINT]["people"] == 7
        body = client_for(hall.supervisor).get("/reception/overview/").content.decode()
    assert "今日各类事项" in body and "共 9 件" in body
    row = body.split('data-kind="consultation"')[1].split("</tr>")[0]
    assert '<td class="n">2</td>' in row and "法律咨询" in row
    assert 'data-kind="hazard"' in body  # every kind is listed, zeros included


# --------------------------------------------------------------------------------------------
# Appointments and their reminders
# --------------------------------------------------------------------------------------------


def test_reminders_are_sent_once_when_due(hall):
    visit = register(hall, Route.PETITION, phone="13907310001")
    case = visit.cases.get()
    ConsoleSender.sent.clear()
    t0 = at(2026, 3, 10, 10, 0)
    a = services.appointment_create(
        by=hall.clerk,
        center=hall.center,
        person=visit.person,
        case=case,
        purpose=AppointmentPurpose.DOCUMENT,
        at=at(2026, 3, 12, 9, 30),
        place="1号窗口",
        now=t0,
    )
    assert a.remind_at == at(2026, 3, 11, 9, 30)
    assert services.appointment_reminders_sweep(now=at(2026, 3, 11, 9, 0)) == 0
    assert services.appointment_reminders_sweep(now=at(2026, 3, 11, 9, 31)) == 1
    assert services.appointment_reminders_sweep(now=at(2026, 3, 11, 9, 32)) == 0
    assert len(ConsoleSender.sent) == 1
    assert "03月12日 09:30" in ConsoleSender.sent[0]["body"] and "领取文书" in ConsoleSender.sent[0]["body"]
    a.refresh_from_db()
    assert a.reminded_at == at(2026, 3, 11, 9, 31)
    # A cancelled appointment is never reminded.
    b = services.appointment_create(
        by=hall.clerk,
        center=hall.center,
        person=visit.person,
        purpose=AppointmentPurpose.OTHER,
        at=at(2026, 3, 20, 9, 0),
        now=t0,
    )
    services.appointment_cancel(by=hall.clerk, appointment=b)
    assert services.appointment_reminders_sweep(now=at(2026, 3, 19, 10, 0)) == 0
    assert len(ConsoleSender.sent) == 1


def test_the_reminder_task_is_on_the_beat_schedule(settings):
    tasks = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "reception.tasks.send_appointment_reminders" in tasks


# --------------------------------------------------------------------------------------------
# Leader reception days
# --------------------------------------------------------------------------------------------


def test_booking_a_slot_reminds_the_visitor_and_the_outcome_is_the_leaders_instruction(hall):
    visit = register(hall, Route.PETITION, phone="13907310002")
    case = visit.cases.get()
    today = timezone.localdate()
    slot = services.leader_slot_create(
        by=hall.supervisor,
        center=hall.center,
        leader=hall.county_leader,
        date=today + dt.timedelta(days=2),
        starts_at=dt.time(9),
        ends_at=dt.time(11),
        topics="劳动保障",
        capacity=1,
    )
    booking = services.leader_booking_create(by=hall.clerk, slot=slot, person=visit.person, case=case)
    assert booking.appointment.purpose == AppointmentPurpose.LEADER
    assert Notification.objects.filter(user=hall.county_leader, kind="leader_booking").exists()
    other = register(hall, Route.PETITION, name="李四", id_number=idn(seq="300"), phone="13907310003")
    with pytest.raises(DomainError, match="已约满"):
        services.leader_booking_create(by=hall.clerk, slot=slot, person=other.person, case=other.cases.get())
    with pytest.raises(DomainError, match="不是事项"):
        services.leader_booking_create(by=hall.clerk, slot=slot, person=other.person, case=case)
    with pytest.raises(DomainError, match="尚未到"):
        services.leader_booking_receive(by=hall.county_leader, booking=booking, instruction="x")
    slot.date = today
    slot.save()
    services.leader_booking_receive(
        by=hall.county_leader, booking=booking, instruction="三日内结清欠薪，信访局督办"
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.RECEIVED
    ins = LeaderInstruction.objects.get(case=case)
    assert ins.leader == hall.county_leader and ins.text == "三日内结清欠薪，信访局督办"
    assert case.timeline.filter(action="leader_instruction").exists()


def test_leader_slot_needs_a_leader_and_a_planner(hall):
    kw = dict(
        center=hall.center,
        date=timezone.localdate() + dt.timedelta(days=1),
        starts_at=dt.time(9),
        ends_at=dt.time(11),
        topics="征地拆迁",
    )
    with pytest.raises(DomainError, match="领导"):
        services.leader_slot_create(by=hall.supervisor, leader=hall.clerk, **kw)
    with pytest.raises(DomainError):
        services.leader_slot_create(by=hall.clerk, leader=hall.county_leader, **kw)
    with pytest.raises(DomainError, match="结束时间"):
        services.leader_slot_create(
            by=hall.supervisor, leader=hall.county_leader, **{**kw, "ends_at": dt.time(8)}
        )


def test_leader_day_page_is_gated(hall, client_for):
    slot = services.leader_slot_create(
        by=hall.supervisor,
        center=hall.center,
        leader=hall.county_leader,
        date=timezone.localdate() + dt.timedelta(days=1),
        starts_at=dt.time(9),
        ends_at=dt.time(11),
        topics="劳动保障",
    )
    assert client_for(hall.county_leader).get(f"/reception/leader-days/{slot.pk}/").status_code == 200
    assert client_for(hall.town_b_clerk).get(f"/reception/leader-days/{slot.pk}/").status_code == 404
    assert "劳动保障" in client_for(hall.clerk).get("/reception/leader-days/").content.decode()
