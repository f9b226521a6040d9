"""County settings: each change recorded with who and why, and what it affects recomputed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from cases import services as case_services
from cases.clocks import WorkCalendar, compute_deadline
from cases.models import (
    CalendarYear,
    ClockRule,
    LimitUnit,
    PointEvent,
    PointKind,
    PointWeight,
    Status,
    SupervisionOrder,
    TimelineEntry,
    WarningLevel,
    WarningPolicy,
    WorkDay,
)
from countyadmin import county_settings
from countyadmin.models import AdminAction, AdminLog

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def rule_for(status: str, level: str = "") -> ClockRule:
    return ClockRule.objects.get(kind="", status=status, level=level, category="", phase="", is_active=True)


def post_rule(client, rule: ClockRule, **changes):
    data = {
        "kind": rule.kind,
        "status": rule.status,
        "phase": rule.phase,
        "level": rule.level,
        "category": rule.category,
        "limit": rule.limit,
        "unit": rule.unit,
        "yellow_ratio": rule.yellow_ratio,
        "note": rule.note,
        "is_active": "on" if rule.is_active else "",
        "reason": "县委政法委通知：受理时限调整",
    }
    data.update(changes)
    return client.post(reverse("countyadmin:rule_edit", args=[rule.pk]), data)


def test_rule_change_recomputes_open_clocks_and_records_who_and_why(aw, make_case, client_for) -> None:
    rule = rule_for(Status.REGISTERED)
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        waiting = [make_case(title=f"待受理{i}") for i in range(3)]
        accepted = case_services.case_accept(case=make_case(title="已受理"), by=aw.village_a_staff)
        closed_before = accepted.due_at
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        response = post_rule(client_for(aw.county_admin), rule, limit=3)
        assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.limit == 3
    for case in waiting:
        case.refresh_from_db()
        expected = compute_deadline(rule, case.step_started_at, WorkCalendar())
        assert case.due_at == expected.due_at == at(2026, 11, 27, 0, 0)  # 3 working days after Monday
        assert case.yellow_at == expected.yellow_at
        entry = TimelineEntry.objects.get(case=case, action="clock_recomputed")
        assert "本环节期限 2026-11-24 24:00 → 2026-11-26 24:00" in entry.summary
        assert entry.actor == aw.county_admin and "受理时限调整" in entry.comment
    accepted.refresh_from_db()
    assert accepted.due_at == closed_before  # another step's rule: untouched
    assert not TimelineEntry.objects.filter(case=accepted, action="clock_recomputed").exists()
    log = AdminLog.objects.get(action=AdminAction.CLOCK_RULE)
    assert log.by == aw.county_admin and log.reason == "县委政法委通知：受理时限调整"
    assert log.data["before"]["limit"] == 1 and log.data["after"]["limit"] == 3
    assert log.data["recomputed"]["deadlines_changed"] == 3
    latest = rule.history.first()
    assert latest.history_user == aw.county_admin and "受理时限调整" in latest.history_change_reason


def test_a_rule_shortened_into_the_past_is_escalated_by_the_sweep(aw, make_case) -> None:
    rule = rule_for(Status.REGISTERED)
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case()
    with time_machine.travel(at(2026, 11, 23, 9, 30), tick=False):
        county_settings.clock_rule_save(
            by=aw.county_admin, rule=rule, reason="试点：30 分钟内受理", limit=10, unit=LimitUnit.MINUTES
        )
        case.refresh_from_db()
        assert case.due_at == at(2026, 11, 23, 9, 10) and not case.overdue_fired
        assert case.warning_level == WarningLevel.GREEN  # the sweep colours and escalates it
        case_services.sweep()
    case.refresh_from_db()
    assert case.owning_center == aw.town_a_center and case.warning_level == WarningLevel.RED


def test_a_paused_case_keeps_the_time_it_stood_still(aw, make_case) -> None:
    rule = rule_for(Status.IN_PROGRESS, "village")
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case()
        case = case_services.case_accept(case=case, by=aw.village_a_staff)
        case = case_services.case_start(case=case, by=aw.village_a_staff)
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        case = case_services.case_pause(case=case, by=aw.village_a_staff, comment="等待鉴定")
    with time_machine.travel(at(2026, 11, 23, 13, 0), tick=False):
        case = case_services.case_resume(case=case, by=aw.village_a_staff)
        assert case.due_at == compute_deadline(
            rule, case.step_started_at, WorkCalendar()
        ).due_at + dt.timedelta(hours=3)
        county_settings.clock_rule_save(by=aw.county_admin, rule=rule, reason="村级时限延长", limit=7)
    case.refresh_from_db()
    rule.refresh_from_db()
    assert case.due_at == compute_deadline(rule, case.step_started_at, WorkCalendar()).due_at + dt.timedelta(
        hours=3
    )
    assert "暂停计时 3.0 小时" in case.due_explanation


def test_entering_next_years_holiday_notice_moves_working_day_deadlines(aw, make_case, client_for) -> None:
    assert not CalendarYear.objects.filter(year=2027).exists()
    with time_machine.travel(at(2026, 12, 31, 9, 0), tick=False):
        case = make_case()  # 1 working day to accept: 2027-01-01 counts as a working day for now
        assert case.due_at == at(2027, 1, 2, 0, 0)
        assert "2027 年的法定节假日尚未录入" in case.due_explanation
        client = client_for(aw.county_admin)
        page = client.get(reverse("countyadmin:calendar") + "?year=2027").content.decode()
        assert "尚未录入" in page
        bad = client.post(
            reverse("countyadmin:calendar"),
            {"year": 2027, "holidays": "2027-13-01 元旦", "workdays": "", "reason": "国办通知"},
        )
        assert bad.status_code == 400 and "不是有效日期" in bad.content.decode()
        bad = client.post(
            reverse("countyadmin:calendar"),
            {"year": 2027, "holidays": "2026-12-31 元旦", "workdays": "", "reason": "国办通知"},
        )
        assert bad.status_code == 400 and "不在 2027 年" in bad.content.decode()
        response = client.post(
            reverse("countyadmin:calendar"),
            {
                "year": 2027,
                "holidays": "2027-01-01 元旦\n2027-02-06至2027-02-12 春节",
                "workdays": "2027-02-14 春节调休、2027-02-20 春节调休",
                "reason": "国办发明电〔2026〕X号",
            },
        )
        assert response.status_code == 302
    assert CalendarYear.objects.get(year=2027).source == WorkDay.Source.COUNTY
    assert not WorkDay.objects.get(date=dt.date(2027, 1, 1)).is_workday
    assert WorkDay.objects.get(date=dt.date(2027, 2, 14)).is_workday  # a Sunday worked
    assert not WorkDay.objects.filter(date=dt.date(2027, 2, 6)).exists()  # a Saturday off: nothing differs
    case.refresh_from_db()
    assert case.due_at == at(2027, 1, 5, 0, 0)  # the next working day is Monday 4 January
    assert "尚未录入" not in case.due_explanation and "元旦" in case.due_explanation
    log = AdminLog.objects.get(action=AdminAction.CALENDAR)
    assert log.reason == "国办发明电〔2026〕X号" and log.data["recomputed"]["deadlines_changed"] == 1


def test_lower_group_threshold_turns_open_cases_red_and_back(aw, make_case, client_for) -> None:
    case = make_case(people_count=4)
    other = make_case(people_count=1)
    assert case.warning_level == WarningLevel.GREEN
    client = client_for(aw.county_admin)
    response = client.post(
        reverse("countyadmin:warnings"),
        {"group_size": 4, "amount_threshold": "1000000", "failed_mediations": 2, "reason": "重点时段从严"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    other.refresh_from_db()
    assert case.warning_level == WarningLevel.RED and "阈值 4 人" in "；".join(case.warning_reasons)
    assert other.warning_level == WarningLevel.GREEN
    assert SupervisionOrder.objects.filter(case=case, kind="auto_red").exists()  # the red response ran
    assert WarningPolicy.current().history.first().history_change_reason == "重点时段从严"
    county_settings.warning_policy_update(
        by=aw.county_admin,
        reason="恢复",
        group_size=5,
        amount_threshold=Decimal("1000000"),
        failed_mediations=2,
    )
    case.refresh_from_db()
    assert case.warning_level == WarningLevel.GREEN
    assert AdminLog.objects.filter(action=AdminAction.WARNING_POLICY).count() == 2


def test_points_weights_count_from_now_on_with_who_and_why(aw, make_case, client_for) -> None:
    case = make_case()
    from cases import assessment

    assessment.insert([assessment.yellow_card(case=case, now=case.created_at, book=assessment.PointBook())])
    before = PointEvent.objects.get(kind=PointKind.YELLOW_CARD).points
    client = client_for(aw.county_admin)
    form = client.get(reverse("countyadmin:points")).context["form"]
    data = {name: field.initial for name, field in form.fields.items() if name.startswith("w_")}
    data["w_yellow_card"] = "-3"
    data["reason"] = "季考评办法修订"
    assert client.post(reverse("countyadmin:points"), data).status_code == 302
    assert PointWeight.objects.get(kind=PointKind.YELLOW_CARD).points == Decimal("-3.0")
    assert PointEvent.objects.get(kind=PointKind.YELLOW_CARD).points == before  # past events keep theirs
    weight_history = PointWeight.objects.get(kind=PointKind.YELLOW_CARD).history.first()
    assert (
        weight_history.history_user == aw.county_admin
        and weight_history.history_change_reason == "季考评办法修订"
    )
    assert "-5.0→-3.0" in AdminLog.objects.get(action=AdminAction.POINT_WEIGHTS).summary


def test_only_the_county_changes_settings(aw, client_for) -> None:
    town = client_for(aw.town_a_leader)
    assert "由县级中心统一修改" in town.get(reverse("countyadmin:settings")).content.decode()
    for name in ("rules", "calendar", "warnings", "points"):
        assert town.get(reverse(f"countyadmin:{name}")).status_code == 403
    assert client_for(aw.town_a_dispatcher).get(reverse("countyadmin:settings")).status_code == 403
    with pytest.raises(case_services.NotAllowed):
        county_settings.warning_policy_update(
            by=aw.town_a_leader, reason="x", group_size=3, amount_threshold=Decimal(1), failed_mediations=1
        )
    county = client_for(aw.county_leader)
    for name in ("settings", "rules", "calendar", "warnings", "points"):
        assert county.get(reverse(f"countyadmin:{name}")).status_code == 200


def test_a_large_recompute_goes_to_celery_and_a_second_delivery_changes_nothing(
    aw, make_case, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from countyadmin import tasks

    monkeypatch.setattr(county_settings, "RECOMPUTE_SYNC_LIMIT", 0)
    queued = []
    monkeypatch.setattr(tasks.recompute_clocks, "delay", lambda **kw: queued.append(kw))
    rule = rule_for(Status.REGISTERED)
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case()
        with django_capture_on_commit_callbacks(execute=True):
            _, result = county_settings.clock_rule_save(by=aw.county_admin, rule=rule, reason="延长", limit=2)
        assert result == {"queued": 1} and len(queued) == 1
        case.refresh_from_db()
        assert case.due_at == at(2026, 11, 25, 0, 0)  # not yet recomputed
        first = tasks.recompute_clocks(**queued[0])
        again = tasks.recompute_clocks(**queued[0])
    case.refresh_from_db()
    assert case.due_at == at(2026, 11, 26, 0, 0)
    assert first["deadlines_changed"] == 1 and again["deadlines_changed"] == 0
    assert AdminLog.objects.get(action=AdminAction.CLOCK_RULE).data["recomputed"]["examined"] == 1
