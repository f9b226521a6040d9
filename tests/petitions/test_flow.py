"""The regulation's clocks walked with a frozen clock: accept late, hand-over and 签收, the 60
days with one extension, 复查 and 复核, 评价结案 — colours, supervision records and notices."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from cases.models import Notification, OverdueEvent, Satisfaction, Status, WarningLevel
from cases.services import DomainError, NotAllowed, sweep
from petitions import services
from petitions.models import AnswerOutcome, FlagKind, Petition, Supervision, SupervisionKind

from .conftest import at

pytestmark = pytest.mark.django_db


def travel(moment):
    return time_machine.travel(moment, tick=False)


def refresh(p: Petition) -> Petition:
    return Petition.objects.select_related("case", "case__owning_center__region", "case__owning_unit").get(
        pk=p.pk
    )


def notices(user, kind="petition_supervision"):
    return Notification.objects.filter(user=user, kind=kind)


def test_acceptance_clock_is_15_days_and_late_acceptance_turns_red_with_supervision(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
    case = p.case
    assert case.kind == "petition" and case.owning_center == pw.county_center and case.level == "county"
    assert case.status == Status.REGISTERED
    # 15 days, the registration day not counted: 2 March → 17 March 24:00.
    assert case.due_at == at(2026, 3, 18, 0, 0)
    assert "15 个自然日" in case.due_explanation
    assert case.warning_level == WarningLevel.GREEN

    with travel(at(2026, 3, 13, 12, 0)):  # past 70 % of the limit
        sweep()
    p = refresh(p)
    assert p.case.warning_level == WarningLevel.YELLOW
    assert any("临近期限" in r for r in p.case.warning_reasons)

    with travel(at(2026, 3, 18, 1, 0)):
        sweep()
        sweep()  # idempotent
    p = refresh(p)
    # Supervised where it stands: still the county's, still awaiting acceptance, red.
    assert p.case.status == Status.REGISTERED and p.case.owning_center == pw.county_center
    assert p.case.warning_level == WarningLevel.RED
    assert OverdueEvent.objects.get(case=p.case).action == "supervised"
    sup = Supervision.objects.get(petition=p)
    assert sup.kind == SupervisionKind.OVERDUE and "超期" in sup.note
    assert notices(pw.county_dispatcher).count() == 1
    assert notices(pw.county_leader).count() == 1

    with travel(at(2026, 3, 18, 10, 0)):
        p = services.petition_accept(petition=p, by=pw.county_dispatcher, comment="属于受理范围")
    entry = p.case.timeline.get(action="accept")
    assert entry.met_deadline is False and entry.late_seconds == 10 * 3600
    assert p.acceptance == "accepted"
    assert p.case.warning_level == WarningLevel.RED  # an overdue step stays on the record


def test_hand_over_ack_silence_goes_yellow_then_red_and_supervises_up_the_hierarchy(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition(by=pw.town_a_dispatcher)
        assert p.case.owning_center == pw.town_a_center
        p = services.petition_accept(petition=p, by=pw.town_a_dispatcher)
    with travel(at(2026, 3, 3, 9, 0)):
        p = services.petition_hand_over(
            petition=p, by=pw.town_a_dispatcher, unit=pw.police_a, comment="请依法处理"
        )
    assert p.case.status == Status.ASSIGNED and p.case.owning_unit == pw.police_a
    # Two working days to acknowledge: Tue 3 March → Thu 5 March 24:00.
    assert p.case.due_at == at(2026, 3, 6, 0, 0)
    assert Notification.objects.filter(user=pw.police_a_staff, kind="petition_handed_over").exists()

    with travel(at(2026, 3, 5, 12, 0)):
        sweep()
    assert refresh(p).case.warning_level == WarningLevel.YELLOW

    with travel(at(2026, 3, 6, 8, 0)):
        sweep()
    p = refresh(p)
    assert p.case.warning_level == WarningLevel.RED and p.case.status == Status.ASSIGNED
    assert p.case.owning_center == pw.town_a_center  # not escalated
    sup = Supervision.objects.get(petition=p)
    assert sup.kind == SupervisionKind.ACK_OVERDUE and "逾期未签收" in sup.note
    # 督办 up the hierarchy: the unit, the town's office and leader, the county's.
    for user in (
        pw.police_a_staff,
        pw.town_a_dispatcher,
        pw.town_a_leader,
        pw.county_dispatcher,
        pw.county_leader,
    ):
        assert notices(user).count() == 1, user
    assert not notices(pw.town_b_dispatcher).exists()

    with travel(at(2026, 3, 6, 9, 0)):
        p = services.petition_feedback(petition=p, by=pw.police_a_staff, text="已签收，正在调查")
        p = services.petition_acknowledge(petition=p, by=pw.police_a_staff)
    assert refresh(p).acknowledged_by == pw.police_a_staff
    assert Supervision.objects.get(petition=p).feedback == "已签收，正在调查"
    # The 60 days run from the acceptance on 2 March, not from the receipt.
    assert p.case.status == Status.IN_PROGRESS
    assert p.case.due_at == at(2026, 5, 2, 0, 0)


def test_handling_60_days_one_extension_review_and_re_review(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
        p = services.petition_accept(petition=p, by=pw.county_dispatcher)
        p = services.petition_hand_over(
            petition=p, by=pw.county_dispatcher, unit=pw.hrss_bureau, comment="请核实欠薪"
        )
    with travel(at(2026, 3, 3, 10, 0)):
        p = services.petition_acknowledge(petition=p, by=pw.hrss_staff)
    assert p.case.due_at == at(2026, 5, 2, 0, 0)  # 2 March + 60 days, 24:00

    with travel(at(2026, 4, 15, 9, 0)):  # past 70 %
        sweep()
    assert refresh(p).case.warning_level == WarningLevel.YELLOW

    # Only a leader may approve; at most 30 days; once.
    with travel(at(2026, 4, 20, 9, 0)):
        with pytest.raises(DomainError, match="负责人批准"):
            services.petition_extend(
                petition=p,
                by=pw.county_dispatcher,
                approver=pw.county_dispatcher,
                days=30,
                reason="需调取工地账目",
            )
        with pytest.raises(DomainError, match="1 到 30"):
            services.petition_extend(
                petition=p,
                by=pw.county_dispatcher,
                approver=pw.county_leader,
                days=31,
                reason="需调取工地账目",
            )
        p = services.petition_extend(
            petition=p, by=pw.county_dispatcher, approver=pw.county_leader, days=30, reason="需调取工地账目"
        )
        assert p.case.due_at == at(2026, 6, 1, 0, 0)
        assert p.case.warning_level == WarningLevel.GREEN  # yellow moved with the deadline
        assert "延期 30 日（批准人：周建国）" in p.case.timeline.get(action="petition_extend").summary
        with pytest.raises(DomainError, match="只能延期一次"):
            services.petition_extend(
                petition=p, by=pw.county_dispatcher, approver=pw.county_leader, days=5, reason="再延"
            )

    with travel(at(2026, 5, 20, 9, 0)):
        p = services.petition_answer(
            petition=p,
            by=pw.hrss_staff,
            outcome=AnswerOutcome.SUPPORTED,
            text="责令施工方于 5 月 30 日前结清工资",
        )
    assert p.case.status == Status.RESOLVED and p.answered_at == at(2026, 5, 20, 9, 0)
    assert p.case.timeline.get(action="petition_answer").met_deadline is True

    with travel(at(2026, 5, 21, 9, 0)):
        p = services.petition_evaluate(
            petition=p,
            by=pw.county_dispatcher,
            satisfaction=Satisfaction.UNSATISFIED,
            comment="信访人对处理结果不满意",
        )
    assert p.case.status == Status.CLOSED and p.case.satisfaction == Satisfaction.UNSATISFIED

    # 复查 within 30 days of the answer (20 May → 19 June 24:00), decided within 30 days.
    with travel(at(2026, 6, 15, 9, 0)):
        p = services.petition_request_review(
            petition=refresh(p), by=pw.county_dispatcher, reason="认为欠薪数额认定有误"
        )
    assert p.case.status == Status.IN_PROGRESS and p.case.phase == "review"
    assert p.case.due_at == at(2026, 7, 16, 0, 0)
    assert "30 个自然日" in p.case.due_explanation
    assert p.case.warning_level == WarningLevel.GREEN

    with travel(at(2026, 7, 16, 8, 0)):
        sweep()
    p = refresh(p)
    assert p.case.warning_level == WarningLevel.RED
    sup = Supervision.objects.get(petition=p, kind=SupervisionKind.OVERDUE)
    assert "复查" in sup.note
    assert notices(pw.hrss_staff).count() == 1 and notices(pw.county_leader).count() == 1

    with travel(at(2026, 7, 17, 9, 0)):
        with pytest.raises(DomainError, match="复查、复核期限不能延期|只能延期一次"):
            services.petition_extend(
                petition=p, by=pw.county_dispatcher, approver=pw.county_leader, days=5, reason="再议"
            )
        p = services.petition_answer(
            petition=p, by=pw.hrss_staff, outcome=AnswerOutcome.PARTLY, text="维持原处理意见，补发加班费"
        )
    assert p.reviewed_at == at(2026, 7, 17, 9, 0)
    assert p.case.timeline.filter(action="petition_answer").last().met_deadline is False

    # 复核 after the window has passed is refused with the date; within it, opens a 30-day step.
    with travel(at(2026, 8, 17, 9, 0)):
        with pytest.raises(DomainError, match="已超过申请复核期限"):
            services.petition_request_re_review(petition=refresh(p), by=pw.county_dispatcher, reason="仍不服")
    with travel(at(2026, 8, 10, 9, 0)):
        p = services.petition_request_re_review(petition=refresh(p), by=pw.county_dispatcher, reason="仍不服")
    assert p.case.phase == "re_review" and p.case.due_at == at(2026, 9, 10, 0, 0)
    with travel(at(2026, 9, 1, 9, 0)):
        p = services.petition_answer(
            petition=p, by=pw.hrss_staff, outcome=AnswerOutcome.REJECTED, text="复核维持复查意见"
        )
        p = services.petition_evaluate(petition=p, by=pw.county_dispatcher, satisfaction=Satisfaction.BASIC)
    assert p.case.status == Status.CLOSED
    assert p.flags.filter(kind=FlagKind.FINAL).exists()
    actions = list(p.case.timeline.values_list("action", flat=True))
    assert actions.count("petition_answer") == 3 and "petition_request_review" in actions


def test_review_window_closes_30_days_after_the_answer(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
        p = services.petition_accept(petition=p, by=pw.county_dispatcher)
        p = services.petition_acknowledge(petition=p, by=pw.county_dispatcher)  # 自行办理
        assert p.case.timeline.filter(action="start").last().summary == "自行办理"
        p = services.petition_answer(
            petition=p, by=pw.county_dispatcher, outcome="explained", text="已解释政策"
        )
    with travel(at(2026, 4, 2, 0, 1)):
        with pytest.raises(DomainError, match="已超过申请复查期限"):
            services.petition_request_review(petition=refresh(p), by=pw.county_dispatcher, reason="不服")


def test_unsatisfied_can_reopen_handling(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
        p = services.petition_accept(petition=p, by=pw.county_dispatcher)
        p = services.petition_acknowledge(petition=p, by=pw.county_dispatcher)
        p = services.petition_answer(petition=p, by=pw.county_dispatcher, outcome="supported", text="已协调")
        with pytest.raises(DomainError, match="填写说明"):
            services.petition_evaluate(
                petition=p, by=pw.county_dispatcher, satisfaction="unsatisfied", reopen=True
            )
        p = services.petition_evaluate(
            petition=p,
            by=pw.county_dispatcher,
            satisfaction="unsatisfied",
            reopen=True,
            comment="款项仍未到账",
        )
    assert p.case.status == Status.IN_PROGRESS and p.case.satisfaction == "unsatisfied"


def test_decline_closes_with_reason_and_outsider_cannot_act(pw, make_petition):
    p = make_petition()
    with pytest.raises(NotAllowed):
        services.petition_accept(petition=p, by=pw.outsider)
    with pytest.raises(DomainError, match="说明"):
        services.petition_decline(petition=p, by=pw.county_dispatcher, reason="")
    p = services.petition_decline(petition=p, by=pw.county_dispatcher, reason="已进入诉讼程序，依法不予受理")
    assert p.case.status == Status.CLOSED and p.acceptance == "declined"


def test_hand_over_needs_acceptance_first(pw, make_petition):
    p = make_petition()
    with pytest.raises(DomainError, match="先决定受理"):
        services.petition_hand_over(petition=p, by=pw.county_dispatcher, unit=pw.hrss_bureau, comment="x")


def test_manual_supervision_notifies_the_unit_and_feedback_answers_it(pw, make_petition):
    p = make_petition()
    p = services.petition_accept(petition=p, by=pw.county_dispatcher)
    p = services.petition_hand_over(
        petition=p, by=pw.county_dispatcher, unit=pw.hrss_bureau, comment="请办理"
    )
    with pytest.raises(NotAllowed):
        services.petition_supervise(petition=p, by=pw.hrss_staff, note="自己督办自己")
    s = services.petition_supervise(petition=p, by=pw.county_leader, note="请三日内反馈")
    assert Notification.objects.filter(user=pw.hrss_staff, kind="petition_supervision").exists()
    services.petition_feedback(petition=refresh(p), by=pw.hrss_staff, text="已约谈施工方")
    s.refresh_from_db()
    assert s.feedback == "已约谈施工方" and s.feedback_by == pw.hrss_staff
    assert Notification.objects.filter(user=pw.county_leader, kind="petition_feedback").exists()
    assert p.case.timeline.filter(action="petition_supervise").exists()


def test_registration_outside_jurisdiction_is_refused(pw, make_petition):
    with pytest.raises(NotAllowed, match="辖区"):
        make_petition(by=pw.town_b_dispatcher, region=pw.grid_a)


def test_due_dates_are_days_not_working_days(pw, make_petition):
    with travel(at(2026, 9, 28, 9, 0)):
        p = make_petition()
    # 15 calendar days straight through the National Day holiday.
    assert p.case.due_at == at(2026, 10, 14, 0, 0)
    assert p.case.due_at - p.case.created_at < dt.timedelta(days=16)


def test_handling_limit_runs_to_the_extended_deadline_then_turns_red_with_supervision(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
        p = services.petition_accept(petition=p, by=pw.county_dispatcher)
        p = services.petition_hand_over(petition=p, by=pw.county_dispatcher, unit=pw.hrss_bureau, comment="请办理")
    with travel(at(2026, 3, 3, 9, 0)):
        p = services.petition_acknowledge(petition=p, by=pw.hrss_staff)
    with travel(at(2026, 4, 1, 9, 0)):
        p = services.petition_extend(
            petition=p, by=pw.county_dispatcher, approver=pw.county_leader, days=20, reason="需鉴定工伤等级"
        )
    # 60 + 20 days from the acceptance on 2 March: 21 May 24:00; yellow at 70 % of the 80 days.
    assert p.case.due_at == at(2026, 5, 22, 0, 0)
    assert at(2026, 4, 27, 0, 0) <= p.case.yellow_at <= at(2026, 4, 28, 0, 0)

    with travel(at(2026, 5, 2, 1, 0)):  # past the 60 days, within the extension
        sweep()
    p = refresh(p)
    assert p.case.warning_level == WarningLevel.YELLOW
    assert not Supervision.objects.filter(petition=p).exists()
    assert Notification.objects.filter(user=pw.county_dispatcher, kind="yellow", case=p.case).count() == 1

    with travel(at(2026, 5, 22, 0, 30)):
        sweep()
        sweep()  # once per deadline
    p = refresh(p)
    assert p.case.warning_level == WarningLevel.RED and p.case.status == Status.IN_PROGRESS
    assert p.case.owning_unit == pw.hrss_bureau and p.case.owning_center == pw.county_center
    sup = Supervision.objects.get(petition=p)
    assert sup.kind == SupervisionKind.OVERDUE and "办理" in sup.note and "2026-05-21 24:00" in sup.note
    assert OverdueEvent.objects.get(case=p.case).action == "supervised"
    for user in (pw.hrss_staff, pw.county_dispatcher, pw.county_leader):
        assert notices(user).count() == 1, user
    assert not notices(pw.town_b_dispatcher).exists()

    with travel(at(2026, 5, 25, 9, 0)):
        p = services.petition_answer(petition=p, by=pw.hrss_staff, outcome=AnswerOutcome.SUPPORTED, text="已结清")
    entry = p.case.timeline.get(action="petition_answer")
    assert entry.met_deadline is False and entry.late_seconds == (3 * 24 + 9) * 3600


def test_review_and_re_review_clocks_turn_yellow_then_red_and_supervise(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
        p = services.petition_accept(petition=p, by=pw.county_dispatcher)
        p = services.petition_hand_over(petition=p, by=pw.county_dispatcher, unit=pw.hrss_bureau, comment="请办理")
    with travel(at(2026, 3, 3, 9, 0)):
        p = services.petition_acknowledge(petition=p, by=pw.hrss_staff)
    with travel(at(2026, 3, 20, 9, 0)):
        p = services.petition_answer(petition=p, by=pw.hrss_staff, outcome=AnswerOutcome.PARTLY, text="部分支持")
    assert p.case.status == Status.RESOLVED and p.answered_at == at(2026, 3, 20, 9, 0)

    # 复查 asked on 10 April (within 30 days of 20 March): 30 days, 10 May 24:00.
    with travel(at(2026, 4, 10, 9, 0)):
        p = services.petition_request_review(petition=refresh(p), by=pw.county_dispatcher, reason="不服")
    assert p.case.phase == "review" and p.case.due_at == at(2026, 5, 11, 0, 0)
    assert p.case.warning_level == WarningLevel.GREEN
    with travel(p.case.yellow_at + dt.timedelta(minutes=1)):
        sweep()
    p = refresh(p)
    assert p.case.warning_level == WarningLevel.YELLOW and not Supervision.objects.filter(petition=p).exists()
    with travel(at(2026, 5, 8, 9, 0)):
        p = services.petition_answer(petition=p, by=pw.hrss_staff, outcome=AnswerOutcome.PARTLY, text="维持")
    assert p.case.timeline.filter(action="petition_answer").last().met_deadline is True

    # 复核 asked on 1 June (within 30 days of 8 May): 30 days, 1 July 24:00.
    with travel(at(2026, 6, 1, 9, 0)):
        p = services.petition_request_re_review(petition=refresh(p), by=pw.county_dispatcher, reason="仍不服")
    assert p.case.phase == "re_review" and p.case.due_at == at(2026, 7, 2, 0, 0)
    assert "30 个自然日" in p.case.due_explanation
    assert p.case.warning_level == WarningLevel.GREEN  # a new step, a new clock
    yellow_at = p.case.yellow_at
    assert at(2026, 6, 21, 0, 0) <= yellow_at <= at(2026, 6, 23, 0, 0)
    with travel(yellow_at - dt.timedelta(minutes=1)):
        sweep()
    assert refresh(p).case.warning_level == WarningLevel.GREEN
    with travel(yellow_at + dt.timedelta(minutes=1)):
        sweep()
    assert refresh(p).case.warning_level == WarningLevel.YELLOW
    with travel(at(2026, 7, 2, 8, 0)):
        sweep()
    p = refresh(p)
    assert p.case.warning_level == WarningLevel.RED and p.case.phase == "re_review"
    sup = Supervision.objects.get(petition=p, kind=SupervisionKind.OVERDUE)
    assert "复核" in sup.note
    for user in (pw.hrss_staff, pw.county_dispatcher, pw.county_leader):
        assert notices(user).count() == 1, user
    with travel(at(2026, 7, 3, 9, 0)):
        p = services.petition_answer(petition=p, by=pw.hrss_staff, outcome=AnswerOutcome.REJECTED, text="复核维持")
    assert p.case.timeline.filter(action="petition_answer").last().met_deadline is False
    assert p.flags.filter(kind=FlagKind.FINAL).exists()
