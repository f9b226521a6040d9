"""The hazard lifecycle and its clock, through the shared case engine."""

from __future__ import annotations

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services as case_services
from cases.models import AssignmentRole, CaseAssignment, CaseKind, Channel, Notification, Status, WarningLevel
from cases.selectors import my_queue
from cases.services import DomainError, NotAllowed, StaleEdit
from grids import services
from grids.models import Hazard, HazardType, Severity

from .conftest import at, png

pytestmark = pytest.mark.django_db


def report(gw, severity=Severity.GENERAL, **kw):
    kw.setdefault("hazard_type", HazardType.FIRE)
    kw.setdefault("place", "东门社区3栋楼道")
    kw.setdefault("description", "楼道堆放电动车充电")
    return services.hazard_report(by=gw.grid_worker_a, grid=gw.grid_a, severity=severity, **kw)


def test_reported_hazard_is_a_village_case_with_severity_clock_and_reporter_as_assistant(gw):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        hazard = report(gw, photo=png())
    case = hazard.case
    assert case.kind == CaseKind.HAZARD and case.channel == Channel.GRID
    assert case.region == gw.grid_a and case.owning_center == gw.c_village_a and case.level == "village"
    assert case.registered_by == gw.grid_worker_a and case.phase == Severity.GENERAL
    # 一般隐患: 2 working days to hand it to a unit: Monday 09:00 → Wednesday 24:00.
    assert case.status == Status.REGISTERED and case.due_at == at(2026, 11, 26, 0, 0)
    assert "安全隐患 · 待受理" in case.due_explanation
    assert CaseAssignment.objects.filter(
        case=case, user=gw.grid_worker_a, role=AssignmentRole.ASSISTANT, is_active=True
    ).exists()
    assert hazard.photo.content_type == "image/png" and hazard.photo.case_id == case.pk
    # The station's dispatcher sees it in their queue; the reporter has it in theirs.
    assert case in my_queue(gw.village_a_worker)
    assert case in my_queue(gw.grid_worker_a)


def test_serious_hazard_gets_four_hours_and_is_yellow_at_once(gw):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        hazard = report(gw, severity=Severity.SERIOUS, hazard_type=HazardType.GAS, place="菜市场燃气瓶")
    assert hazard.case.due_at == at(2026, 11, 23, 13, 0)
    assert hazard.case.warning_level == WarningLevel.YELLOW
    assert "重大安全隐患" in hazard.case.warning_reasons[0]


def test_full_lifecycle_assign_rectify_reject_rectify_verify(gw):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        hazard = report(gw)
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        hazard = services.hazard_assign(
            hazard=hazard, by=gw.village_a_worker, unit=gw.police_a, requirement="清理楼道，禁止楼道充电"
        )
    case = hazard.case
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and case.owning_unit == gw.police_a
    assert hazard.responsible_unit == gw.police_a
    # 一般隐患: 15 working days to rectify from Monday 23 Nov → Monday 14 Dec 24:00.
    assert case.due_at == at(2026, 12, 15, 0, 0)
    assigned = Notification.objects.get(user=gw.unit_staff, case=case, kind="hazard_assigned")
    assert assigned.url == f"/grids/hazards/{hazard.pk}/"  # the unit lands on the hazard's own page
    assert case in my_queue(gw.unit_staff)

    with pytest.raises(DomainError, match="整改佐证"):
        services.hazard_rectify(hazard=hazard, by=gw.unit_staff, rectification="已清理", evidence=None)
    with time_machine.travel(at(2026, 11, 25, 16, 0), tick=False):
        hazard = services.hazard_rectify(
            hazard=hazard, by=gw.unit_staff, rectification="已清理楼道，张贴告示", evidence=png("after.png")
        )
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.resolved_at == at(2026, 11, 25, 16, 0)
    assert hazard.rectified_by == gw.unit_staff and hazard.evidence.name.startswith("整改佐证")
    rectified = Notification.objects.get(user=gw.grid_worker_a, case=case, kind="hazard_rectified")
    assert rectified.url == f"/grids/hazards/{hazard.pk}/"
    # Verification: 3 working days.
    assert case.due_at == at(2026, 12, 1, 0, 0)

    with time_machine.travel(at(2026, 11, 26, 9, 0), tick=False):
        hazard = services.hazard_reject(
            hazard=hazard, by=gw.grid_worker_a, comment="仍有两辆电动车在楼道充电"
        )
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and hazard.rejections == 1 and case.resolved_at is None
    assert case.due_at == at(2026, 12, 18, 0, 0)  # a new 15-working-day clock from 26 Nov
    assert Notification.objects.filter(user=gw.unit_staff, case=case, kind="hazard_rejected").exists()

    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):
        hazard = services.hazard_rectify(
            hazard=hazard,
            by=gw.unit_staff,
            rectification="电动车已移至集中充电棚",
            evidence=png("after2.png"),
        )
    with time_machine.travel(at(2026, 11, 27, 15, 0), tick=False):
        hazard = services.hazard_verify(hazard=hazard, by=gw.grid_worker_a, comment="现场核查无误")
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.closed_on_time is True and case.due_at is None
    assert hazard.verified_by == gw.grid_worker_a and hazard.verified_at == at(2026, 11, 27, 15, 0)
    actions = list(case.timeline.values_list("action", flat=True))
    assert actions == [
        "register",
        "hazard_assign",
        "hazard_rectify",
        "hazard_reject",
        "hazard_rectify",
        "hazard_verify",
    ]
    assert all(e.met_deadline for e in case.timeline.exclude(action="register"))


def test_who_may_do_what(gw):
    hazard = report(gw)
    # The grid worker reports and verifies; they do not hand hazards to units.
    with pytest.raises(NotAllowed):
        services.hazard_assign(hazard=hazard, by=gw.grid_worker_a, unit=gw.police_a, requirement="整改")
    with pytest.raises(NotAllowed):
        services.hazard_assign(hazard=hazard, by=gw.outsider, unit=gw.police_a, requirement="整改")
    # A unit outside the place cannot be given the hazard.
    with pytest.raises(DomainError, match="本辖区"):
        services.hazard_assign(hazard=hazard, by=gw.village_a_worker, unit=gw.police_b, requirement="整改")
    # The town above may hand it out for the village.
    hazard = services.hazard_assign(
        hazard=hazard, by=gw.town_a_dispatcher, unit=gw.police_a, requirement="整改"
    )
    with pytest.raises(NotAllowed):
        services.hazard_rectify(hazard=hazard, by=gw.grid_worker_a, rectification="x", evidence=png())
    with pytest.raises(NotAllowed):
        services.hazard_rectify(hazard=hazard, by=gw.outsider, rectification="x", evidence=png())
    hazard = services.hazard_rectify(hazard=hazard, by=gw.unit_staff, rectification="已整改", evidence=png())
    # The unit cannot verify its own work, nor can the station.
    with pytest.raises(NotAllowed):
        services.hazard_verify(hazard=hazard, by=gw.unit_staff)
    with pytest.raises(NotAllowed):
        services.hazard_verify(hazard=hazard, by=gw.village_a_worker)
    hazard = services.hazard_verify(hazard=hazard, by=gw.grid_worker_a)
    assert hazard.case.status == Status.CLOSED


def test_only_team_members_report_and_input_is_checked(gw, settings):
    with pytest.raises(NotAllowed, match="网格团队成员"):
        services.hazard_report(
            by=gw.grid_worker_a,
            grid=gw.grid_b,
            hazard_type=HazardType.FIRE,
            severity=Severity.GENERAL,
            place="x",
        )
    with pytest.raises(DomainError, match="隐患位置"):
        report(gw, place="  ")
    with pytest.raises(DomainError, match="JPG、PNG 或 WebP"):
        report(
            gw,
            photo=SimpleUploadedFile("fake.jpg", b"#!/bin/sh\necho not a photo", content_type="image/jpeg"),
        )
    settings.UPLOAD_MAX_BYTES = 50
    with pytest.raises(DomainError, match="不能超过"):
        report(gw, photo=png(size=(64, 64)))
    assert not Hazard.objects.exists()


def test_stale_copy_is_refused(gw):
    hazard = report(gw)
    version = hazard.case.version
    services.hazard_assign(
        hazard=hazard, by=gw.village_a_worker, unit=gw.police_a, requirement="整改", expected_version=version
    )
    with pytest.raises(StaleEdit):
        services.hazard_assign(
            hazard=hazard,
            by=gw.town_a_dispatcher,
            unit=gw.police_a,
            requirement="另一份要求",
            expected_version=version,
        )


def test_unassigned_hazard_turns_yellow_then_escalates_to_the_town_red(gw):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        hazard = report(gw, severity=Severity.MAJOR)
    case = hazard.case
    # 较大隐患: 1 working day to hand out: due Tuesday 24:00; yellow at 70% of 39 h = Tuesday 12:18.
    assert case.due_at == at(2026, 11, 25, 0, 0)
    with time_machine.travel(at(2026, 11, 24, 12, 0), tick=False):
        case_services.sweep()
    case.refresh_from_db()
    assert case.warning_level == WarningLevel.GREEN
    with time_machine.travel(at(2026, 11, 24, 12, 30), tick=False):
        case_services.sweep()
    case.refresh_from_db()
    assert case.warning_level == WarningLevel.YELLOW and "临近期限" in case.warning_reasons[0]
    with time_machine.travel(at(2026, 11, 25, 0, 30), tick=False):
        case_services.sweep()
        case_services.sweep()  # twice: escalates once
    case.refresh_from_db()
    assert case.owning_center == gw.c_town_a and case.level == "town" and case.status == Status.REGISTERED
    assert case.warning_level == WarningLevel.RED and case.overdue_count == 1
    assert case.phase == Severity.MAJOR  # the severity (and so its clocks) goes with it
    assert case.due_at == at(2026, 11, 27, 0, 0)  # a new 1-working-day clock at the town (Thursday 24:00)
    assert case.timeline.filter(action="overdue").count() == 1
    assert Notification.objects.filter(user=gw.town_a_dispatcher, case=case, kind="escalated").exists()
    # The town now hands it to a unit itself.
    hazard = services.hazard_assign(
        hazard=hazard, by=gw.town_a_dispatcher, unit=gw.police_a, requirement="尽快整改"
    )
    assert hazard.case.status == Status.IN_PROGRESS


def test_overdue_rectification_escalates_and_leaves_the_unit(gw):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        hazard = report(gw, severity=Severity.SERIOUS, hazard_type=HazardType.GAS, place="菜市场燃气瓶")
        hazard = services.hazard_assign(
            hazard=hazard, by=gw.village_a_worker, unit=gw.police_a, requirement="立即停用"
        )
    case = hazard.case
    case.refresh_from_db()
    # 重大隐患: 3 calendar days to rectify, weekends included.
    assert case.due_at == at(2026, 11, 27, 0, 0)
    with time_machine.travel(at(2026, 11, 27, 0, 5), tick=False):
        run = case_services.sweep()
    assert run.escalated == 1
    case.refresh_from_db()
    assert case.owning_center == gw.c_town_a and case.owning_unit is None and case.status == Status.REGISTERED
    assert case.warning_level == WarningLevel.RED
    assert any("超期" in r for r in case.warning_reasons)


def test_overdue_at_the_county_stays_red_and_escalates_once(gw):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        hazard = report(gw, severity=Severity.SERIOUS, hazard_type=HazardType.GAS, place="菜市场燃气瓶")
    for hour in (13, 18):  # village 4 h → town 4 h → county 4 h
        with time_machine.travel(at(2026, 11, 23, hour, 1), tick=False):
            case_services.sweep()
    case = hazard.case
    case.refresh_from_db()
    assert case.owning_center == gw.c_county and case.level == "county"
    with time_machine.travel(at(2026, 11, 23, 22, 30), tick=False):
        case_services.sweep()
        case_services.sweep()
    case.refresh_from_db()
    assert (
        case.owning_center == gw.c_county
        and case.overdue_count == 3
        and case.warning_level == WarningLevel.RED
    )
    assert Notification.objects.filter(user=gw.county_leader, case=case, kind="overdue_top").count() == 1
