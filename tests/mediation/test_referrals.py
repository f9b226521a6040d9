"""诉调/警调/访调对接: each referral's own clock, the overdue notice, and the outcome report back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import Http404

from cases.clocks import end_of_day
from cases.models import CaseKind, Category, Channel, Notification, PartyRole, Status, WarningLevel
from cases.selectors import case_get_for_user
from cases.services import DomainError, PartyInput, sweep
from mediation.models import ConsentWay, Outcome, ReferralKind, RouteOn
from mediation.selectors import referral_get_for_user, referral_list_for_user
from mediation.services import (
    agreement_draft,
    mediation_assign,
    mediation_consent,
    mediation_fail,
    mediation_sign,
    referral_receive,
    referral_report,
    session_record,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SH)  # a working Monday


def receive(mw, kind=ReferralKind.COURT, unit=None, no="（2026）湘0124民诉前调1号", **kw):
    return referral_receive(
        by=kw.pop("by", mw.court_staff),
        kind=kind,
        referring_unit=unit or mw.court,
        external_no=no,
        region=mw.grid_a,
        title="买卖合同货款纠纷",
        category=Category.CONSUMER,
        parties=[
            PartyInput(name="湘源建材店", role=PartyRole.APPLICANT, phone="13800138001"),
            PartyInput(name="赵四", role=PartyRole.RESPONDENT, phone="13900139001"),
        ],
        amount=Decimal("36000"),
        **kw,
    )


def start(mw, referral):
    m = mediation_assign(case=referral.case, by=mw.town_a_dispatcher, mediator=mw.mediator_a)
    return mediation_consent(mediation=m, by=mw.mediator_a.user, way=ConsentWay.REFERRED)


def conclude(m, ok=True):
    session_record(
        mediation=m, by=m.mediator.user, held_at=m.case.updated_at, place="城关街道调解室",
        participants="双方", record="调解过程",
    )
    if ok:
        agreement_draft(mediation=m, by=m.mediator.user, facts="欠货款", terms="赵四分两期付清货款 36000 元",
                        amount=Decimal("36000"))
        return mediation_sign(mediation=m, by=m.mediator.user)
    return mediation_fail(mediation=m, by=m.mediator.user, reason="被告否认欠款", route_on=RouteOn.LITIGATION)


def test_a_court_referral_runs_thirty_days_from_receipt(mw):
    with time_machine.travel(MONDAY, tick=False):
        r = receive(mw, contact="立案庭 张法官")
    case = r.case
    assert case.kind == CaseKind.REFERRAL and case.channel == Channel.COURT and case.phase == ReferralKind.COURT
    assert case.status == Status.ACCEPTED and case.owning_center == mw.village_a_center  # the place's station
    with time_machine.travel(MONDAY + dt.timedelta(days=2), tick=False):
        m = start(mw, r)
    # The mediation clock started at the receipt, not at the consent two days later.
    assert m.case.step_started_at == MONDAY
    assert m.case.due_at == end_of_day(dt.date(2026, 4, 1))  # 30 days after 2026-03-02
    assert m.case.clock_rule.phase == ReferralKind.COURT


def test_the_courts_own_deadline_replaces_the_rule(mw):
    with time_machine.travel(MONDAY, tick=False):
        r = receive(mw, deadline=dt.date(2026, 3, 20))
        m = start(mw, r)
    assert m.case.due_at == end_of_day(dt.date(2026, 3, 20))
    assert "凤岭县人民法院确定的期限" in m.case.due_explanation
    assert m.case.timeline.filter(action="referral_deadline").exists()


def test_a_police_diversion_has_fifteen_days(mw):
    with time_machine.travel(MONDAY, tick=False):
        r = receive(mw, kind=ReferralKind.POLICE, unit=mw.police_a, no="JQ20260302001", by=mw.town_a_dispatcher)
        m = start(mw, r)
    assert r.case.channel == Channel.POLICE_110
    assert m.case.due_at == end_of_day(dt.date(2026, 3, 17))


def test_the_wrong_referring_body_or_a_repeated_number_is_refused(mw):
    with pytest.raises(DomainError, match="不能发起"):
        receive(mw, unit=mw.police_a)
    receive(mw)
    with pytest.raises(DomainError, match="已经登记过"):
        receive(mw)


def test_an_overdue_referral_turns_red_stays_and_tells_the_court(mw):
    with time_machine.travel(MONDAY, tick=False):
        r = receive(mw)
        m = start(mw, r)
    due = m.case.due_at
    run = sweep(now=due + dt.timedelta(minutes=1))
    assert run.escalated == 0
    case = case_get_for_user(mw.town_a_dispatcher, r.pk)
    assert case.warning_level == WarningLevel.RED and case.owning_center == mw.village_a_center
    assert case.status == Status.IN_PROGRESS and case.overdue_count == 1
    told = Notification.objects.filter(case=case, kind="referral_overdue")
    assert {n.user for n in told} == {mw.court_staff, mw.mediator_a.user}  # the station has no dispatcher
    sweep(now=due + dt.timedelta(minutes=2))  # a second run tells no one again
    assert Notification.objects.filter(case=case, kind="referral_overdue").count() == told.count()


def test_the_outcome_report_goes_back_to_the_court_on_time(mw):
    with time_machine.travel(MONDAY, tick=False):
        r = receive(mw)
        m = start(mw, r)
    with time_machine.travel(MONDAY + dt.timedelta(days=5), tick=False):
        m = conclude(m)
        assert m.case.status == Status.RESOLVED
        report_due = m.case.due_at
        assert report_due == end_of_day(dt.date(2026, 3, 11))  # 3 working days after Sat 03-07: Mon–Wed
        with pytest.raises(DomainError, match="结果告知"):
            referral_report(referral=r, by=mw.mediator_a.user, text=" ")
        r = referral_report(referral=r, by=mw.mediator_a.user, text="双方达成调解协议，协议书随附。")
    assert r.case.status == Status.CLOSED and r.report_outcome == Outcome.SUCCESS
    assert r.report_on_time is True and r.report_due_at == report_due
    note = Notification.objects.get(user=mw.court_staff, kind="referral_report")
    assert note.url == f"/mediation/referrals/{r.pk}/" and "调解成功" in note.title
    # The court sees its referral and the report, not the rest of the center's case.
    assert referral_get_for_user(mw.court_staff, r.pk) == r
    assert list(referral_list_for_user(mw.court_staff)) == [r]
    with pytest.raises(Http404):
        case_get_for_user(mw.court_staff, r.pk)
    with pytest.raises(Http404):
        referral_get_for_user(mw.town_b_dispatcher, r.pk)


def test_a_late_report_of_a_failure_is_stored_as_late(mw):
    with time_machine.travel(MONDAY, tick=False):
        r = receive(mw)
        m = start(mw, r)
        m = conclude(m, ok=False)
    assert m.case.status == Status.UNRESOLVED and m.route_unit == mw.court and m.case.failed_mediations == 1
    assert m.route_on == RouteOn.LITIGATION  # back to the court, which files the suit
    with time_machine.travel(MONDAY + dt.timedelta(days=10), tick=False):
        r = referral_report(referral=r, by=mw.mediator_a.user, text="调解不成，退回贵院依法立案审理。")
    assert r.report_outcome == Outcome.FAILED and r.report_on_time is False
    assert r.case.status == Status.CLOSED and r.case.closed_on_time is False


def test_a_petition_handed_to_mediation_is_linked_to_the_petition(mw):
    from cases.services import PersonData
    from petitions.services import petition_register

    petition = petition_register(
        by=mw.county_dispatcher, channel=Channel.VISIT, category=Category.NEIGHBOUR, title="邻里纠纷信访",
        region=mw.grid_a, petitioners=[PersonData(name="王五", phone="13700137000")],
    )
    with pytest.raises(DomainError):
        mediation_assign(case=petition.case, by=mw.county_dispatcher, mediator=mw.mediator_a)
    r = referral_receive(
        by=mw.county_dispatcher, kind=ReferralKind.PETITION, referring_unit=mw.petition_bureau,
        external_no=petition.case.tracking_no, region=mw.grid_a, title="邻里纠纷（信访移交）",
        category=Category.NEIGHBOUR, parties=[PartyInput(name="王五", phone="13700137000")],
        source_case=petition.case,
    )
    assert r.case.channel == Channel.VISIT and r.case.phase == ReferralKind.PETITION
    assert petition.case in r.case.related.all()
    assert petition.case.timeline.filter(action="mediation_handed_over").exists()
