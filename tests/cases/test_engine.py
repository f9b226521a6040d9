from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from cases import services
from cases.models import (
    CaseKind,
    ClockRule,
    LimitUnit,
    Notification,
    OverdueEvent,
    Satisfaction,
    Status,
    TimelineEntry,
    WarningLevel,
    WarningPolicy,
)
from cases.services import DomainError, NotAllowed, StaleEdit

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


pytestmark = pytest.mark.django_db


def test_registration_gives_tracking_number_owner_clock_and_notifies_village(cw, make_case):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case(by=cw.county_dispatcher)
    assert case.tracking_no == "430124-2026-000001"
    assert case.owning_center == cw.c_village_a
    assert case.level == "village"
    assert case.status == Status.REGISTERED
    assert case.region_path == cw.grid_a.path and case.town == cw.town_a
    # 1 working day to accept: Monday 09:00 → Tuesday 24:00.
    assert case.due_at == at(2026, 11, 25, 0, 0)
    assert "1 个工作日" in case.due_explanation
    assert case.warning_level == WarningLevel.GREEN
    assert case.timeline.get().action == "register"
    assert Notification.objects.filter(user=cw.village_a_worker, case=case, kind="new_case").exists()
    second = make_case()
    assert second.tracking_no == "430124-2026-000002"


def test_workday_clock_skips_national_day_and_explains_it(cw, make_case):
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        case = make_case()
        case = services.case_accept(case=case, by=cw.village_a_worker)
        case = services.case_assign(case=case, by=cw.village_a_worker, users=[cw.village_a_worker])
        case = services.case_start(case=case, by=cw.village_a_worker)
    # 5 working days from 30 Sep: 1–7 Oct holiday, Sat 10 Oct is a 调休 working day:
    # 8 (Thu), 9 (Fri), 10 (Sat, 调休), 12, 13 → 13 Oct 24:00.
    assert case.due_at == at(2026, 10, 14, 0, 0)
    assert "跳过节假日" in case.due_explanation and "国庆节" in case.due_explanation


def test_unknown_year_counts_weekends_only_with_a_visible_warning(cw, make_case):
    with time_machine.travel(at(2027, 3, 1, 9, 0), tick=False):
        case = make_case()
    assert "2027 年的法定节假日尚未录入" in case.due_explanation


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"has_casualty": True}, "有人员伤亡"),
        ({"people_count": 20}, "涉及 20 人"),
        ({"petition_risk": True}, "越级上访"),
        ({"amount": Decimal("2000000")}, "涉及金额"),
    ],
)
def test_red_triggers_turn_case_red_with_reason(cw, make_case, changes, reason):
    case = make_case(**changes)
    assert case.warning_level == WarningLevel.RED
    assert any(reason in r for r in case.warning_reasons)


def test_group_size_threshold_is_configurable(cw, make_case):
    policy = WarningPolicy.current()
    policy.group_size = 30
    policy.save()
    assert make_case(people_count=20).warning_level == WarningLevel.GREEN


def test_repeated_failed_mediation_turns_red(cw, make_case):
    case = make_case()
    case = services.case_record_failed_mediation(case=case, by=None)
    assert case.warning_level == WarningLevel.GREEN
    case = services.case_record_failed_mediation(case=case, by=None)
    assert case.warning_level == WarningLevel.RED
    assert "调解 2 次未成" in case.warning_reasons


def test_risk_note_is_yellow(cw, make_case):
    case = make_case(risk_note="当事人情绪激动")
    assert case.warning_level == WarningLevel.YELLOW
    assert case.warning_reasons == ["风险迹象：当事人情绪激动"]


def walk_to_in_progress(cw, case, by=None):
    by = by or cw.village_a_worker
    case = services.case_accept(case=case, by=by)
    case = services.case_assign(case=case, by=by, users=[cw.village_a_worker])
    return services.case_start(case=case, by=by)


def test_full_lifecycle_writes_timeline_and_compliance(cw, make_case):
    case = walk_to_in_progress(cw, make_case())
    case = services.case_resolve(case=case, by=cw.village_a_worker, comment="双方达成一致")
    assert case.status == Status.RESOLVED and case.result == "双方达成一致"
    case = services.case_close(case=case, by=cw.village_a_worker, satisfaction=Satisfaction.SATISFIED)
    assert case.status == Status.CLOSED and case.closed_on_time is True
    actions = list(case.timeline.values_list("action", flat=True))
    assert actions == ["register", "accept", "assign", "start", "resolve", "close"]
    assert all(e.met_deadline for e in case.timeline.exclude(action="register"))
    case = services.case_reopen(case=case, by=cw.village_a_worker, comment="当事人反映未履行")
    assert case.status == Status.IN_PROGRESS and case.closed_at is None


def test_fail_then_close_records_unresolved(cw, make_case):
    case = walk_to_in_progress(cw, make_case())
    case = services.case_fail(case=case, by=cw.village_a_worker, comment="引导诉讼")
    assert case.status == Status.UNRESOLVED
    case = services.case_close(case=case, by=cw.village_a_worker, satisfaction=Satisfaction.BASIC)
    assert case.status == Status.CLOSED


def test_illegal_move_and_missing_comment_are_refused(cw, make_case):
    case = make_case()
    with pytest.raises(DomainError, match="不能执行「化解」"):
        services.case_resolve(case=case, by=cw.village_a_worker, comment="x")
    case = walk_to_in_progress(cw, case)
    with pytest.raises(DomainError, match="须填写说明"):
        services.case_resolve(case=case, by=cw.village_a_worker, comment="  ")


def test_outsiders_cannot_act_and_sibling_town_is_refused(cw, make_case):
    case = make_case()
    with pytest.raises(NotAllowed):
        services.case_accept(case=case, by=cw.town_b_dispatcher)
    with pytest.raises(NotAllowed):
        services.case_accept(case=case, by=cw.village_b_worker)
    # The town above may not accept for the village, but may escalate or take over.
    with pytest.raises(NotAllowed):
        services.case_accept(case=case, by=cw.town_a_dispatcher)
    taken = services.case_take_over(case=case, by=cw.town_a_dispatcher, comment="提级")
    assert taken.owning_center == cw.c_town_a and taken.status == Status.ACCEPTED and taken.level == "town"


def test_assignee_gains_object_permission_outside_region(cw, make_case):
    from cases.selectors import case_get_for_user

    case = services.case_accept(case=make_case(), by=cw.village_a_worker)
    from django.http import Http404

    with pytest.raises(Http404):
        case_get_for_user(cw.mediator_b, case.pk)
    services.case_assign(case=case, by=cw.village_a_worker, users=[cw.mediator_b], role="mediator")
    assert case_get_for_user(cw.mediator_b, case.pk).pk == case.pk
    case = services.case_start(case=case_get_for_user(cw.mediator_b, case.pk), by=cw.mediator_b)
    assert case.status == Status.IN_PROGRESS


def test_stale_edit_is_refused_and_loses_nothing(cw, make_case):
    case = make_case()
    v = case.version
    services.case_update(case=case, by=cw.village_a_worker, expected_version=v, description="甲的补充")
    with pytest.raises(StaleEdit, match="请刷新页面"):
        services.case_update(case=case, by=cw.village_a_worker, expected_version=v, address="乙改的地址")
    case.refresh_from_db()
    assert case.description == "甲的补充" and case.address == ""
    with pytest.raises(StaleEdit):
        services.case_accept(case=case, by=cw.village_a_worker, expected_version=v)


def test_update_that_adds_a_red_trigger_turns_red_and_is_on_timeline(cw, make_case):
    case = make_case()
    case = services.case_update(
        case=case, by=cw.village_a_worker, expected_version=case.version, people_count=25
    )
    assert case.warning_level == WarningLevel.RED
    assert "预警 绿色→红色" in case.timeline.filter(action="update").last().summary


def test_escalate_manually_moves_up_and_restarts_clock(cw, make_case):
    case = make_case()
    case = services.case_escalate(case=case, by=cw.village_a_worker, comment="涉及两村，需乡镇协调")
    assert case.owning_center == cw.c_town_a and case.level == "town" and case.status == Status.REGISTERED
    assert case.step_no == 2
    assert Notification.objects.filter(user=cw.town_a_dispatcher, kind="escalated", case=case).exists()
    # The village still sees the case (its place) but can no longer act on it.
    with pytest.raises(NotAllowed):
        services.case_accept(case=case, by=cw.village_a_worker)
    case = services.case_escalate(case=case, by=cw.town_a_dispatcher, comment="需县级协调")
    assert case.owning_center == cw.c_county
    with pytest.raises(DomainError, match="最高层级"):
        services.case_escalate(case=case, by=cw.county_dispatcher, comment="再上报")


def test_transfer_to_unit_lets_unit_staff_act(cw, make_case):
    case = services.case_accept(case=make_case(), by=cw.village_a_worker)
    case = services.case_transfer(case=case, by=cw.village_a_worker, unit=cw.police_a, comment="涉治安")
    assert case.owning_unit == cw.police_a and case.status == Status.ASSIGNED
    case = services.case_start(case=case, by=cw.police_a_staff)
    assert case.status == Status.IN_PROGRESS


def test_pause_stops_the_clock_and_resume_moves_the_deadline(cw, make_case):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = walk_to_in_progress(cw, make_case())
        due = case.due_at
        case = services.case_pause(case=case, by=cw.village_a_worker, comment="等待法院鉴定")
    with time_machine.travel(at(2026, 11, 26, 9, 0), tick=False):
        run = services.sweep()
        assert run.examined == 0  # a paused case is not swept
        case = services.case_resume(case=case, by=cw.village_a_worker)
    assert case.due_at == due + dt.timedelta(days=3)


def test_extension_moves_deadline_and_yellow(cw, make_case):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = walk_to_in_progress(cw, make_case())
        due = case.due_at
        case = services.case_extend(case=case, by=cw.town_a_dispatcher, days=5, comment="需现场勘查")
    assert case.due_at == due + dt.timedelta(days=5)
    assert "已批准延期 5 天" in case.due_explanation
    with pytest.raises(NotAllowed):
        services.case_extend(case=case, by=cw.village_a_worker, days=5, comment="自己延期")


def test_extension_keeps_the_time_the_clock_stood_still(cw, make_case):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = walk_to_in_progress(cw, make_case())
        due = case.due_at
        case = services.case_pause(case=case, by=cw.village_a_worker, comment="等待法院鉴定")
    with time_machine.travel(at(2026, 11, 25, 9, 0), tick=False):
        case = services.case_resume(case=case, by=cw.village_a_worker)
        assert case.due_at == due + dt.timedelta(days=2)
        case = services.case_extend(case=case, by=cw.town_a_dispatcher, days=5, comment="需现场勘查")
    assert case.due_at == due + dt.timedelta(days=7)  # the two paused days are not lost
    assert "暂停计时 48.0 小时" in case.due_explanation and "已批准延期 5 天" in case.due_explanation
    with time_machine.travel(at(2026, 11, 26, 9, 0), tick=False):
        case = services.case_pause(case=case, by=cw.village_a_worker, comment="等待当事人")
        with pytest.raises(DomainError, match="不能执行「批准延期」"):
            services.case_extend(case=case, by=cw.town_a_dispatcher, days=1, comment="暂停中延期")
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):
        case = services.case_resume(case=case, by=cw.village_a_worker)
        case = services.case_extend(case=case, by=cw.town_a_dispatcher, days=1, comment="再延一天")
    assert case.due_at == due + dt.timedelta(days=9)  # 5 + 1 days extended, 2 + 1 days paused


def test_overdue_village_case_moves_to_town_and_turns_red(cw, make_case):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case()
    with time_machine.travel(at(2026, 11, 25, 2, 0), tick=False):
        run = services.sweep()
    case.refresh_from_db()
    assert run.escalated == 1
    assert case.owning_center == cw.c_town_a and case.level == "town"
    assert case.warning_level == WarningLevel.RED
    assert any("超期上报 1 次" in r for r in case.warning_reasons)
    assert case.due_at > at(2026, 11, 25, 2, 0)  # a new clock at the town
    entry = case.timeline.get(action="overdue")
    assert entry.met_deadline is False and entry.late_seconds == 2 * 3600
    assert f"超期自动上报至 {cw.c_town_a.name}" in entry.summary
    assert Notification.objects.filter(user=cw.town_a_dispatcher, case=case, kind="escalated").count() == 1


def test_sweep_three_times_escalates_once(cw, make_case):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case()
    with time_machine.travel(at(2026, 11, 25, 2, 0), tick=False):
        for _ in range(3):
            services.sweep()
    case.refresh_from_db()
    assert case.owning_center == cw.c_town_a
    assert OverdueEvent.objects.filter(case=case).count() == 1
    assert TimelineEntry.objects.filter(case=case, action="overdue").count() == 1


def test_overdue_county_case_stays_red_and_notifies_leader_once(cw, make_case):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case(region=cw.county, owning_center=cw.c_county)
    with time_machine.travel(at(2026, 11, 26, 0, 0), tick=False):
        services.sweep()
        services.sweep()
    case.refresh_from_db()
    assert case.owning_center == cw.c_county and case.warning_level == WarningLevel.RED
    assert case.overdue_fired is True
    n = Notification.objects.filter(user=cw.county_leader, case=case)
    assert n.filter(kind="overdue_top").count() == 1
    assert "建议领导包案" in n.get(kind="overdue_top").title


def test_yellow_at_seventy_percent(cw, make_case):
    ClockRule.objects.filter(status="registered", kind="").update(limit=10, unit=LimitUnit.HOURS)
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case()
    with time_machine.travel(at(2026, 11, 23, 15, 0), tick=False):
        assert services.sweep().turned_yellow == 0
    with time_machine.travel(at(2026, 11, 23, 16, 1), tick=False):
        assert services.sweep().turned_yellow == 1
    case.refresh_from_db()
    assert case.warning_level == WarningLevel.YELLOW
    assert "临近期限" in case.warning_reasons[0]


def test_red_at_county_notifies_leaders_and_package_is_recorded(cw, make_case):
    case = make_case(region=cw.county, owning_center=cw.c_county, people_count=20)
    assert Notification.objects.filter(user=cw.county_leader, case=case, kind="red_response").count() == 1
    pkg = services.case_package(
        case=case,
        by=cw.county_leader,
        leader=cw.county_leader,
        plan="一案一策，三日内见面",
        report_back_on=timezone.localdate() + dt.timedelta(days=7),
        task_force=[cw.county_dispatcher],
    )
    assert pkg.is_active and case.timeline.filter(action="package").exists()
    with pytest.raises(DomainError, match="已有包案领导"):
        services.case_package(
            case=case,
            by=cw.county_leader,
            leader=cw.county_leader,
            plan="再包",
            report_back_on=timezone.localdate(),
        )
    meeting = services.joint_meeting_create(
        by=cw.county_leader,
        center=cw.c_county,
        case=case,
        title="欠薪群体事件联席会议",
        held_at=timezone.now(),
        participants="人社局、公安局、住建局",
        decisions="三日内垫付工资",
        tasks=[{"task": "核实工资表", "due_on": timezone.localdate(), "assignee": cw.county_dispatcher}],
    )
    assert meeting.tasks.count() == 1
    assert Notification.objects.filter(user=cw.county_dispatcher, kind="meeting_task").exists()


def test_on_the_spot_kind_uses_its_own_rule(cw, make_case):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case(kind=CaseKind.ON_THE_SPOT)
    assert case.due_at == at(2026, 11, 23, 13, 0)
