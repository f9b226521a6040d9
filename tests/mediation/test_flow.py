"""A mediation's life through the services: assignment, consent, sessions, agreement, follow-up;
failure routed on; judicial confirmation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from cases.clocks import end_of_day
from cases.models import AssignmentRole, CaseAssignment, Notification, Status
from cases.selectors import case_get_for_user, my_queue
from cases.services import DomainError, NotAllowed
from mediation.models import (
    PHASE_PERFORMANCE,
    AgreementStatus,
    Confirmation,
    ConsentWay,
    Mediation,
    Outcome,
    Performance,
    RouteOn,
    SessionResult,
)
from mediation.selectors import mediator_queue
from mediation.services import (
    agreement_draft,
    confirmation_apply,
    confirmation_record,
    mediation_assign,
    mediation_consent,
    mediation_fail,
    mediation_follow_up,
    mediation_sign,
    session_record,
)

pytestmark = pytest.mark.django_db


def _mediate(mw, case, mediator=None):
    m = mediation_assign(case=case, by=mw.town_a_dispatcher, mediator=mediator or mw.mediator_a, note="同乡镇")
    return mediation_consent(mediation=m, by=m.mediator.user, way=ConsentWay.APPLICATION)


def _session(m, n=1, result=SessionResult.CONTINUE):
    return session_record(
        mediation=m, by=m.mediator.user, held_at=timezone.now() - dt.timedelta(hours=3 - n),
        place="东门社区调解室", participants="王秀兰、陈建军、调解员李调解",
        record=f"第{n}次：双方陈述，调解员释法说理。", result=result,
    )


def test_success_from_assignment_to_follow_up(mw, make_dispute):
    case = make_dispute()
    m = mediation_assign(case=case, by=mw.town_a_dispatcher, mediator=mw.mediator_a, note="同乡镇，擅长邻里纠纷")
    assert m.case.status == Status.ASSIGNED and m.committee == mw.town_a_committee
    assert CaseAssignment.objects.filter(case=case, user=mw.mediator_a.user, role=AssignmentRole.MEDIATOR, is_active=True).exists()
    assert Notification.objects.filter(user=mw.mediator_a.user, kind="mediation_assigned", case=case).exists()
    assert case.pk in my_queue(mw.mediator_a.user).values_list("pk", flat=True)

    with pytest.raises(DomainError, match="尚无调解记录|起草"):
        mediation_sign(mediation=m, by=mw.mediator_a.user)
    m = mediation_consent(mediation=m, by=mw.mediator_a.user, way=ConsentWay.APPLICATION, note="双方书面申请")
    assert m.case.status == Status.IN_PROGRESS and m.consent_at is not None
    s1 = _session(m, 1)
    s2 = _session(m, 2, SessionResult.AGREED)
    assert (s1.number, s2.number) == (1, 2)

    due = timezone.localdate() + dt.timedelta(days=10)
    agreement_draft(
        mediation=m, by=mw.mediator_a.user, facts="5 楼水管爆裂致 4 楼受损。",
        terms="陈建军赔偿王秀兰维修费 8,000 元\n陈建军于十日内修复水管", amount=Decimal("8000"),
        performance_way="银行转账", performance_due=due,
    )
    m = mediation_sign(mediation=m, by=mw.mediator_a.user)
    case = m.case
    assert m.outcome == Outcome.SUCCESS and m.ended_at is not None
    assert case.status == Status.RESOLVED and case.resolved_at is not None
    assert case.phase == PHASE_PERFORMANCE
    a = m.agreement
    assert a.status == AgreementStatus.SIGNED and a.number.startswith("城关街道人民调解委员会调字〔")
    assert a.number.endswith("0001号")
    # The follow-up clock starts at the performance deadline: 5 working days after it.
    assert case.step_started_at == end_of_day(due) and case.due_at > end_of_day(due) + dt.timedelta(days=4)
    assert case.clock_rule.phase == PHASE_PERFORMANCE and "履行回访" in case.clock_rule.note

    with pytest.raises(DomainError, match="尚未届满"):
        mediation_follow_up(mediation=m, by=mw.mediator_a.user, performance=Performance.PARTIAL, satisfaction="basic")
    with pytest.raises(DomainError, match="已签署"):
        agreement_draft(mediation=m, by=mw.mediator_a.user, facts="x", terms="y")

    with time_machine.travel(timezone.now() + dt.timedelta(days=12)):
        m = mediation_follow_up(
            mediation=m, by=mw.mediator_a.user, performance=Performance.FULL, satisfaction="satisfied",
            note="已按期支付并修复",
        )
    assert m.case.status == Status.CLOSED and m.case.satisfaction == "satisfied" and m.case.closed_on_time
    a.refresh_from_db()
    assert a.performance == Performance.FULL and a.performed_amount == Decimal("8000")
    actions = list(case.timeline.values_list("action", flat=True))
    assert actions == [
        "register", "accept", "mediation_assign", "mediation_consent", "mediation_session", "mediation_session",
        "mediation_draft", "mediation_sign", "mediation_follow_up",
    ]


def test_agreement_numbers_count_per_committee_and_year(mw, make_dispute):
    numbers = []
    for _ in range(2):
        m = _mediate(mw, make_dispute())
        _session(m)
        agreement_draft(mediation=m, by=m.mediator.user, facts="事实", terms="条款")
        numbers.append(mediation_sign(mediation=m, by=m.mediator.user).agreement.number)
    assert [n[-5:] for n in numbers] == ["0001号", "0002号"]


def test_failure_routed_to_litigation_moves_the_case_to_the_court(mw, make_dispute):
    case = make_dispute()
    m = _mediate(mw, case)
    _session(m, 1, SessionResult.DEADLOCK)
    with pytest.raises(DomainError, match="受理单位"):
        mediation_fail(mediation=m, by=mw.mediator_a.user, reason="赔偿数额分歧大", route_on=RouteOn.LITIGATION)
    with pytest.raises(DomainError, match="不是本县可受理"):
        mediation_fail(
            mediation=m, by=mw.mediator_a.user, reason="分歧大", route_on=RouteOn.LITIGATION, unit=mw.hrss_bureau
        )
    m = mediation_fail(
        mediation=m, by=mw.mediator_a.user, reason="赔偿数额分歧大，陈建军拒绝赔偿",
        route_on=RouteOn.LITIGATION, unit=mw.court,
    )
    case = m.case
    assert m.outcome == Outcome.FAILED and m.route_unit == mw.court and m.routed_at is not None
    assert case.status == Status.ASSIGNED and case.owning_unit == mw.court
    assert case.failed_mediations == 1
    assert Notification.objects.filter(user=mw.court_staff, case=case, kind="mediation_routed").exists()
    assert case_get_for_user(mw.court_staff, case.pk).pk == case.pk  # the court now owns the handling
    # The mediator's part is done: off their queue, but they may still read it.
    assert case.pk not in my_queue(mw.mediator_a.user).values_list("pk", flat=True)
    assert not mediator_queue(mw.mediator_a).exists()
    assert case_get_for_user(mw.mediator_a.user, case.pk)
    actions = list(case.timeline.values_list("action", flat=True))
    assert actions[-3:] == ["mediation_fail", "mediation_failed", "mediation_route"]


def test_failure_without_a_unit_closes_the_case(mw, make_dispute):
    m = _mediate(mw, make_dispute())
    m = mediation_fail(mediation=m, by=mw.mediator_a.user, reason="申请人撤回调解申请", route_on=RouteOn.NONE)
    assert m.case.status == Status.CLOSED and m.case.closed_at is not None and m.route_unit is None


def test_refused_consent_is_a_failure_before_any_session(mw, make_dispute):
    m = mediation_assign(case=make_dispute(), by=mw.town_a_dispatcher, mediator=mw.mediator_a)
    m = mediation_fail(
        mediation=m, by=mw.mediator_a.user, reason="被申请人不同意调解", route_on=RouteOn.LITIGATION,
        unit=mw.tribunal_b,
    )
    assert m.case.owning_unit == mw.tribunal_b and m.consent_at is None


def test_only_the_mediator_or_the_owner_may_record_a_session(mw, make_dispute):
    m = _mediate(mw, make_dispute())
    with pytest.raises(NotAllowed):
        session_record(
            mediation=m, by=mw.mediator_b.user, held_at=timezone.now(), place="x", participants="y", record="z"
        )
    with pytest.raises(DomainError, match="晚于现在"):
        session_record(
            mediation=m, by=mw.mediator_a.user, held_at=timezone.now() + dt.timedelta(days=1), place="x",
            participants="y", record="z",
        )


def test_a_stale_assignment_is_refused(mw, make_dispute):
    case = make_dispute()
    from cases.services import StaleEdit

    mediation_assign(case=case, by=mw.town_a_dispatcher, mediator=mw.mediator_a, expected_version=case.version)
    with pytest.raises(StaleEdit):
        mediation_assign(
            case=case, by=mw.town_a_dispatcher, mediator=mw.mediator_village_a, expected_version=case.version,
            comment="换人",
        )


def test_petitions_and_hazards_are_not_mediated_directly(mw, make_dispute):
    case = make_dispute()
    case.kind = "petition"
    with pytest.raises(DomainError, match="访调对接"):
        mediation_assign(case=case, by=mw.town_a_dispatcher, mediator=mw.mediator_a)
    assert not Mediation.objects.exists()


def test_judicial_confirmation_within_thirty_days(mw, make_dispute):
    m = _mediate(mw, make_dispute())
    _session(m)
    agreement_draft(mediation=m, by=m.mediator.user, facts="事实", terms="一次性赔偿 8000 元", amount=Decimal("8000"))
    m = mediation_sign(mediation=m, by=m.mediator.user)
    a = m.agreement
    today = timezone.localdate()
    with pytest.raises(DomainError, match="不是人民法院"):
        confirmation_apply(agreement=a, by=m.mediator.user, court=mw.hrss_bureau, applied_on=today)
    with time_machine.travel(timezone.now() + dt.timedelta(days=40)):
        with pytest.raises(DomainError, match="30 日内"):
            confirmation_apply(agreement=a, by=m.mediator.user, court=mw.court, applied_on=timezone.localdate())
    a = confirmation_apply(agreement=a, by=m.mediator.user, court=mw.court, applied_on=today)
    assert a.confirmation == Confirmation.APPLIED
    with pytest.raises(DomainError, match="案号"):
        confirmation_record(agreement=a, by=m.mediator.user, confirmed=True, decided_on=today, court_ref="")
    a = confirmation_record(
        agreement=a, by=m.mediator.user, confirmed=True, decided_on=today, court_ref="（2026）湘0124民特12号"
    )
    assert a.confirmation == Confirmation.CONFIRMED and a.confirmation_court == mw.court
    assert m.case.timeline.filter(action="mediation_confirmation").count() == 2
