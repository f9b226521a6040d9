"""Supervision orders (督办单): issue, respond, their own clock and escalation; automatic supervision
on red; leader instructions (领导批示)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases import services
from cases.models import (
    Notification,
    PointEvent,
    PointKind,
    Status,
    SupervisionKind,
    SupervisionOrder,
    SupervisionStatus,
    TimelineEntry,
    WarningLevel,
)
from cases.services import DomainError, NotAllowed
from cases.supervision import leader_instruction_add, supervision_order_issue, supervision_order_respond

SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


MONDAY = at(2026, 11, 23, 9, 0)


def test_town_supervises_a_village_case_and_the_village_is_told(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = make_case()
        order = supervision_order_issue(
            case=case, by=cw.town_a_dispatcher, demand="三日内上门调处并反馈", due_on=dt.date(2026, 11, 26)
        )
    assert order.kind == SupervisionKind.MANUAL and order.status == SupervisionStatus.OPEN
    assert order.issuing_center == cw.c_town_a and order.issued_by == cw.town_a_dispatcher
    assert order.supervised_center == cw.c_village_a and order.supervised_unit is None
    assert order.due_at == at(2026, 11, 27, 0, 0)  # 26 Nov 24:00
    entry = case.timeline.get(action="supervise")
    assert entry.actor == cw.town_a_dispatcher and "城关街道" in entry.summary and entry.met_deadline is None
    n = Notification.objects.get(user=cw.village_a_worker, kind="supervision")
    assert n.url == f"/cases/supervision/orders/{order.pk}/" and n.sms
    event = PointEvent.objects.get(kind=PointKind.SUPERVISED)
    assert event.points == -2 and event.center == cw.c_village_a and event.town == cw.town_a


def test_a_leader_of_the_owning_center_supervises_as_leader_and_defaults_to_policy_days(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = make_case(region=cw.town_a)
        order = supervision_order_issue(case=case, by=cw.town_a_leader, demand="请加快办理")
    assert order.kind == SupervisionKind.LEADER and order.issuing_center == cw.c_town_a
    assert order.due_at == at(2026, 11, 27, 0, 0)  # 3 working days: Tue, Wed, Thu


def test_outsiders_and_the_owners_own_staff_cannot_supervise(cw, make_case):
    case = make_case()
    with pytest.raises(NotAllowed):
        supervision_order_issue(case=case, by=cw.outsider, demand="督办")
    with pytest.raises(NotAllowed):
        supervision_order_issue(case=case, by=cw.village_a_worker, demand="督办自己")
    with pytest.raises(DomainError, match="督办要求"):
        supervision_order_issue(case=case, by=cw.town_a_dispatcher, demand="  ")
    with pytest.raises(DomainError, match="早于今天"):
        supervision_order_issue(case=case, by=cw.town_a_dispatcher, demand="督办", due_on=dt.date(2020, 1, 1))
    assert not SupervisionOrder.objects.exists()


def test_response_in_time_is_stored_and_the_issuer_is_told(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = make_case()
        order = supervision_order_issue(case=case, by=cw.town_a_dispatcher, demand="反馈进展")
    with pytest.raises(NotAllowed):
        supervision_order_respond(order=order, by=cw.outsider, response="不是我的")
    with time_machine.travel(at(2026, 11, 24, 10, 0), tick=False):
        order = supervision_order_respond(
            order=order, by=cw.village_a_worker, response="已上门调处，双方同意协商"
        )
    assert (
        order.status == SupervisionStatus.RESPONDED and order.met_deadline is True and order.late_seconds == 0
    )
    assert order.responded_by == cw.village_a_worker
    assert case.timeline.filter(action="supervision_response").exists()
    assert Notification.objects.filter(user=cw.town_a_dispatcher, kind="supervision_response").exists()
    with pytest.raises(DomainError, match="已反馈"):
        supervision_order_respond(order=order, by=cw.village_a_worker, response="再报")


def test_unit_staff_respond_for_their_unit(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = make_case()
        case = services.case_accept(case=case, by=cw.village_a_worker)
        case = services.case_transfer(case=case, by=cw.village_a_worker, unit=cw.police_a, comment="涉治安")
        order = supervision_order_issue(case=case, by=cw.town_a_dispatcher, demand="派出所反馈")
    assert order.supervised_unit == cw.police_a
    assert PointEvent.objects.get(kind=PointKind.SUPERVISED).unit == cw.police_a
    order = supervision_order_respond(order=order, by=cw.police_a_staff, response="已出警调解")
    assert order.status == SupervisionStatus.RESPONDED


def test_overdue_order_escalates_once_to_the_county_then_stays_overdue_at_the_top(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = make_case()
        order = supervision_order_issue(
            case=case, by=cw.town_a_dispatcher, demand="当日反馈", due_on=dt.date(2026, 11, 23)
        )
    # Tuesday 08:00: the response is 8 hours late. Three sweeps escalate once.
    with time_machine.travel(at(2026, 11, 24, 8, 0), tick=False):
        runs = [services.sweep() for _ in range(3)]
    assert [r.supervision_overdue for r in runs] == [1, 0, 0]
    order.refresh_from_db()
    assert order.status == SupervisionStatus.ESCALATED and order.overdue_at == at(2026, 11, 24, 8, 0)
    child = order.escalation
    assert (
        child.kind == SupervisionKind.ESCALATED and child.issuing_center == cw.c_county and child.level == 2
    )
    assert child.supervised_center == cw.c_village_a and child.due_at == at(
        2026, 11, 26, 0, 0
    )  # 1 working day
    assert "升级督办" in child.demand
    assert SupervisionOrder.objects.count() == 2
    overdue = PointEvent.objects.filter(kind=PointKind.SUPERVISION_OVERDUE)
    assert list(overdue.values_list("points", "center", "supervision_order")) == [
        (-5, cw.c_village_a.pk, order.pk)
    ]
    assert TimelineEntry.objects.filter(case=case, action="supervision_overdue").count() == 1
    assert Notification.objects.filter(user=cw.county_dispatcher, kind="supervision_overdue").count() == 1
    assert Notification.objects.filter(user=cw.village_a_worker, kind="supervision_overdue").count() == 1
    # The old order takes no response; the new one does.
    with pytest.raises(DomainError, match="已升级为"):
        supervision_order_respond(order=order, by=cw.village_a_worker, response="迟到的反馈")
    # The county's order passes its deadline too: at the top it stays open, overdue, once.
    with time_machine.travel(at(2026, 11, 26, 9, 0), tick=False):
        assert services.sweep().supervision_overdue == 1
        assert services.sweep().supervision_overdue == 0
    child.refresh_from_db()
    assert child.status == SupervisionStatus.OPEN and child.overdue_at is not None
    assert not SupervisionOrder.objects.filter(parent=child).exists()
    assert overdue.count() == 2
    # The county's leaders heard of both: the town's order escalated to them, and their own overdue.
    assert Notification.objects.filter(user=cw.county_leader, kind="supervision_overdue").count() == 2
    # A late answer is still taken, and its lateness stored.
    with time_machine.travel(at(2026, 11, 26, 12, 0), tick=False):
        child = supervision_order_respond(order=child, by=cw.village_a_worker, response="已化解")
    assert child.met_deadline is False and child.late_seconds == 12 * 3600


def test_an_order_on_a_closed_case_lapses_without_points(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = make_case()
        order = supervision_order_issue(
            case=case, by=cw.town_a_dispatcher, demand="反馈", due_on=dt.date(2026, 11, 23)
        )
        from cases.models import Case

        Case.objects.filter(pk=case.pk).update(status=Status.CLOSED, due_at=None)
    with time_machine.travel(at(2026, 11, 24, 8, 0), tick=False):
        assert services.sweep().supervision_overdue == 0
    order.refresh_from_db()
    assert order.status == SupervisionStatus.LAPSED
    assert not PointEvent.objects.filter(kind=PointKind.SUPERVISION_OVERDUE).exists()


def test_a_case_turning_red_is_supervised_by_the_center_above_once(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = make_case()
        case = services.case_update(
            case=case, by=cw.village_a_worker, expected_version=case.version, people_count=25
        )
        assert case.warning_level == WarningLevel.RED
        services.case_accept(case=case, by=cw.village_a_worker)  # still red: no second order
        services.case_update(case=case, by=cw.village_a_worker, expected_version=None, has_casualty=True)
    order = SupervisionOrder.objects.get(case=case)
    assert order.kind == SupervisionKind.AUTO_RED and order.issued_by is None
    assert order.issuing_center == cw.c_town_a and order.supervised_center == cw.c_village_a
    assert "涉及 25 人" in order.demand
    assert order.due_at == at(2026, 11, 26, 0, 0)  # 2 working days
    assert case.timeline.filter(action="supervise").count() == 1
    assert Notification.objects.filter(user=cw.village_a_worker, kind="supervision").count() == 1
    # Red by a risk, not by lateness: supervision, but no points are lost for it.
    assert not PointEvent.objects.exists()


def test_a_case_registered_red_at_the_county_is_supervised_by_the_county_itself(cw, make_case):
    case = make_case(region=cw.county, owning_center=cw.c_county, has_casualty=True)
    order = SupervisionOrder.objects.get(case=case)
    assert order.issuing_center == cw.c_county and order.supervised_center == cw.c_county


def test_the_sweep_supervises_a_case_it_turns_red_once(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = make_case()
    with time_machine.travel(at(2026, 11, 25, 2, 0), tick=False):
        services.sweep()
        services.sweep()
    case.refresh_from_db()
    assert case.owning_center == cw.c_town_a and case.warning_level == WarningLevel.RED
    order = SupervisionOrder.objects.get(case=case)
    # The case now sits at the town, so the county supervises the town.
    assert order.kind == SupervisionKind.AUTO_RED
    assert order.issuing_center == cw.c_county and order.supervised_center == cw.c_town_a
    assert Notification.objects.filter(user=cw.town_a_dispatcher, kind="supervision").count() == 1
    # Escalating again later does not supervise again.
    with time_machine.travel(at(2026, 11, 30, 2, 0), tick=False):
        services.sweep()
    case.refresh_from_db()
    assert case.owning_center == cw.c_county
    assert SupervisionOrder.objects.filter(case=case, kind=SupervisionKind.AUTO_RED).count() == 1


def test_a_sweep_tells_each_case_own_handlers_only(cw, make_case):
    """Two red cases of one center in one sweep batch: the first case's handler must not be told
    about the second (the sweep's staff cache once handed out a list the caller then extended)."""
    from cases.models import CaseAssignment

    with time_machine.travel(MONDAY, tick=False):
        first = make_case(region=cw.county, by=cw.county_dispatcher, title="第一件")
    with time_machine.travel(MONDAY + dt.timedelta(minutes=5), tick=False):
        second = make_case(region=cw.county, by=cw.county_dispatcher, title="第二件")
    CaseAssignment.objects.create(case=first, user=cw.mediator, assigned_by=cw.county_dispatcher, is_active=True)
    with time_machine.travel(at(2026, 11, 30, 10, 0), tick=False):
        run = services.sweep()
    assert run.turned_red == 2
    assert SupervisionOrder.objects.filter(case__in=[first, second], kind=SupervisionKind.AUTO_RED).count() == 2
    told = Notification.objects.filter(user=cw.mediator, kind="supervision")
    assert list(told.values_list("case_id", flat=True)) == [first.pk]
    assert Notification.objects.filter(user=cw.county_dispatcher, kind="supervision").count() == 2


def test_leader_instruction_is_recorded_with_timeline_and_notice(cw, make_case):
    case = make_case()
    with pytest.raises(DomainError, match="批示领导"):
        leader_instruction_add(case=case, by=cw.town_a_dispatcher, leader=cw.town_a_dispatcher, text="抓紧")
    with pytest.raises(NotAllowed):
        leader_instruction_add(case=case, by=cw.outsider, leader=cw.county_leader, text="抓紧")
    instruction = leader_instruction_add(
        case=case,
        by=cw.town_a_dispatcher,
        leader=cw.county_leader,
        text="高度重视，三日内化解并报结果",
        instructed_at=at(2026, 11, 20, 16, 30),
    )
    assert instruction.leader == cw.county_leader and instruction.recorded_by == cw.town_a_dispatcher
    entry = case.timeline.get(action="leader_instruction")
    assert "周建国" in entry.summary and "2026-11-20 16:30" in entry.summary
    assert Notification.objects.filter(user=cw.village_a_worker, kind="leader_instruction").exists()
    with pytest.raises(DomainError, match="不能晚于现在"):
        leader_instruction_add(
            case=case,
            by=cw.county_leader,
            leader=cw.county_leader,
            text="未来",
            instructed_at=dt.datetime.now(tz=SH) + dt.timedelta(days=1),
        )
