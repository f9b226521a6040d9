"""Points of the quarterly assessment (季考评): each event's points, idempotency, weights, ranking by hand;
and the compliance facts the "done in time" figures read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases import assessment, metrics, services
from cases.metrics import Period
from cases.models import (
    Case,
    ClockRule,
    LimitUnit,
    PointEvent,
    PointKind,
    PointWeight,
    Satisfaction,
    TimelineEntry,
)
from cases.selectors_supervision import point_events, point_total, town_ranking, unit_ranking
from cases.services import NotAllowed

SH = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SH)

pytestmark = pytest.mark.django_db


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def walk_to_in_progress(cw, case):
    case = services.case_accept(case=case, by=cw.village_a_worker)
    case = services.case_assign(case=case, by=cw.village_a_worker, users=[cw.village_a_worker])
    return services.case_start(case=case, by=cw.village_a_worker)


def events(kind: str) -> list[tuple]:
    return list(PointEvent.objects.filter(kind=kind).values_list("points", "center", "unit", "town", "case"))


def test_yellow_card_once_per_step_when_the_clock_passes_seventy_percent(cw, make_case):
    ClockRule.objects.filter(status="registered", kind="").update(limit=10, unit=LimitUnit.HOURS)
    with time_machine.travel(MONDAY, tick=False):
        case = make_case()
    with time_machine.travel(at(2026, 11, 23, 16, 1), tick=False):
        services.sweep()
        services.sweep()
    assert events(PointKind.YELLOW_CARD) == [
        (Decimal("-5.0"), cw.c_village_a.pk, None, cw.town_a.pk, case.pk)
    ]
    assert "临近期限" in PointEvent.objects.get().reason


def test_a_risk_colour_earns_no_card(cw, make_case):
    make_case(risk_note="当事人情绪激动")
    make_case(people_count=30)
    services.sweep()
    assert not PointEvent.objects.exists()


def test_red_card_for_the_center_whose_step_ran_late(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = make_case()
    with time_machine.travel(at(2026, 11, 25, 2, 0), tick=False):
        services.sweep()
        services.sweep()
    # The village let the step run late; the case now sits at the town, which is not charged.
    assert events(PointKind.RED_CARD) == [(Decimal("-10.0"), cw.c_village_a.pk, None, cw.town_a.pk, case.pk)]


def test_red_card_for_a_unit_counts_for_the_unit_not_the_town(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = make_case()
        case = services.case_accept(case=case, by=cw.village_a_worker)
        services.case_transfer(case=case, by=cw.village_a_worker, unit=cw.police_a, comment="涉治安")
    with time_machine.travel(at(2026, 12, 1, 2, 0), tick=False):
        services.sweep()
    assert events(PointKind.RED_CARD) == [(Decimal("-10.0"), None, cw.police_a.pk, None, case.pk)]


def test_a_county_case_overdue_counts_for_the_county_center_outside_any_town(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        make_case(region=cw.county, owning_center=cw.c_county)
    with time_machine.travel(at(2026, 11, 26, 0, 0), tick=False):
        services.sweep()
    assert [(e[1], e[3]) for e in events(PointKind.RED_CARD)] == [(cw.c_county.pk, None)]


@pytest.mark.parametrize(
    ("satisfaction", "expected"),
    [
        (
            Satisfaction.SATISFIED,
            {PointKind.CLOSED_ON_TIME: Decimal("2.0"), PointKind.SATISFIED: Decimal("1.0")},
        ),
        (Satisfaction.BASIC, {PointKind.CLOSED_ON_TIME: Decimal("2.0")}),
        (
            Satisfaction.UNSATISFIED,
            {PointKind.CLOSED_ON_TIME: Decimal("2.0"), PointKind.UNSATISFIED: Decimal("-2.0")},
        ),
    ],
)
def test_closing_on_time_and_the_satisfaction_visit_earn_points(cw, make_case, satisfaction, expected):
    with time_machine.travel(MONDAY, tick=False):
        case = walk_to_in_progress(cw, make_case())
        case = services.case_resolve(case=case, by=cw.village_a_worker, comment="双方和解")
        case = services.case_close(case=case, by=cw.village_a_worker, satisfaction=satisfaction)
    got = dict(PointEvent.objects.values_list("kind", "points"))
    assert got == expected
    assert set(PointEvent.objects.values_list("center", flat=True)) == {cw.c_village_a.pk}


def test_closing_late_earns_no_on_time_points_and_a_reopened_case_closing_again_counts_again(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = walk_to_in_progress(cw, make_case())
        case = services.case_resolve(case=case, by=cw.village_a_worker, comment="化解")
    with time_machine.travel(
        at(2026, 12, 10, 9, 0), tick=False
    ):  # the 5 working days to close passed long ago
        case = services.case_close(case=case, by=cw.village_a_worker, satisfaction=Satisfaction.SATISFIED)
    assert case.closed_on_time is False
    assert set(PointEvent.objects.values_list("kind", flat=True)) == {PointKind.SATISFIED}
    with time_machine.travel(at(2026, 12, 11, 9, 0), tick=False):
        case = services.case_reopen(case=case, by=cw.village_a_worker, comment="当事人反悔")
        case = services.case_resolve(case=case, by=cw.village_a_worker, comment="再次化解")
        services.case_close(case=case, by=cw.village_a_worker, satisfaction=Satisfaction.SATISFIED)
    assert PointEvent.objects.filter(kind=PointKind.SATISFIED).count() == 2


def test_repeat_petition_counts_once_per_case(cw, make_case):
    case = make_case(kind="petition")
    assert assessment.points_record_repeat_petition(case=case, reason="同一事项 180 日内第二次信访") is True
    assert assessment.points_record_repeat_petition(case=case) is False
    # 属地: it counts for the town center where the matter is, not the village station handling it.
    assert events(PointKind.REPEAT_PETITION) == [
        (Decimal("-3.0"), cw.c_town_a.pk, None, cw.town_a.pk, case.pk)
    ]


def test_weights_are_edited_by_the_county_and_never_rewrite_past_events(cw, make_case):
    case = make_case(kind="petition")
    assessment.points_record_repeat_petition(case=case)
    with pytest.raises(NotAllowed):
        assessment.point_weights_update(by=cw.town_a_leader, points={PointKind.REPEAT_PETITION: "-8"})
    with pytest.raises(services.DomainError, match="数字"):
        assessment.point_weights_update(by=cw.county_leader, points={PointKind.REPEAT_PETITION: "八"})
    changed = assessment.point_weights_update(by=cw.county_leader, points={PointKind.REPEAT_PETITION: "-8"})
    assert changed == 1 and PointWeight.objects.get(kind=PointKind.REPEAT_PETITION).points == Decimal("-8.0")
    other = make_case(kind="petition")
    assessment.points_record_repeat_petition(case=other)
    assert dict(PointEvent.objects.values_list("case", "points")) == {
        case.pk: Decimal("-3.0"),
        other.pk: Decimal("-8.0"),
    }


def test_a_weight_of_zero_writes_no_event(cw, make_case):
    assessment.point_weights_update(by=cw.county_leader, points={PointKind.REPEAT_PETITION: "0"})
    assert assessment.points_record_repeat_petition(case=make_case(kind="petition")) is False
    assert not PointEvent.objects.exists()


def test_quarterly_ranking_equals_the_sums_by_hand(cw, make_case):
    """Town A: village −10 and −5, town +2 → −13. Town B: +1 +2 → +3. Police A: −10. Q4 only."""
    a_case = make_case()
    b_case = make_case(region=cw.grid_b, by=cw.village_b_worker)

    def add(kind, points, when, *, center=None, unit=None, town=None, case=None, key):
        PointEvent.objects.create(
            kind=kind,
            points=Decimal(points),
            at=when,
            center=center,
            unit=unit,
            town=town,
            case=case,
            reason=key,
            event_key=key,
        )

    q4 = at(2026, 11, 10, 10, 0)
    add(PointKind.RED_CARD, "-10", q4, center=cw.c_village_a, town=cw.town_a, case=a_case, key="a1")
    add(PointKind.YELLOW_CARD, "-5", q4, center=cw.c_village_a, town=cw.town_a, case=a_case, key="a2")
    add(PointKind.CLOSED_ON_TIME, "2", at(2026, 12, 31, 23, 59), center=cw.c_town_a, town=cw.town_a, key="a3")
    add(PointKind.RED_CARD, "-10", at(2026, 9, 30, 23, 59), center=cw.c_town_a, town=cw.town_a, key="a-q3")
    add(PointKind.RED_CARD, "-10", at(2027, 1, 1, 0, 0), center=cw.c_town_a, town=cw.town_a, key="a-next")
    add(
        PointKind.SATISFIED,
        "1",
        at(2026, 10, 1, 0, 0),
        center=cw.c_village_b,
        town=cw.town_b,
        case=b_case,
        key="b1",
    )
    add(PointKind.CLOSED_ON_TIME, "2", q4, center=cw.c_village_b, town=cw.town_b, case=b_case, key="b2")
    add(PointKind.RED_CARD, "-10", q4, unit=cw.police_a, case=a_case, key="u1")
    add(PointKind.RED_CARD, "-10", q4, center=cw.c_county, key="county")  # the county is not ranked

    period = Period.quarter(2026, 4)
    towns = town_ranking(cw.county_dispatcher, period)
    assert [(s.subject, s.score, s.rank, s.events) for s in towns] == [
        (cw.town_b, Decimal("3.0"), 1, 2),
        (cw.town_a, Decimal("-13.0"), 2, 3),
    ]
    assert towns[1].by_kind == {PointKind.RED_CARD: 1, PointKind.YELLOW_CARD: 1, PointKind.CLOSED_ON_TIME: 1}
    units = unit_ranking(cw.county_dispatcher, period)
    scores = {s.subject: (s.score, s.rank) for s in units}
    assert scores[cw.police_a] == (Decimal("-10.0"), len(units))
    assert scores[cw.justice_bureau] == (Decimal("0"), 1)  # no events: 0, sharing first place
    assert point_total(point_events(cw.county_dispatcher, period, town=cw.town_a)) == Decimal("-13.0")
    # A town sees its own standing only, never its neighbour's.
    assert [(s.subject, s.score) for s in town_ranking(cw.town_a_dispatcher, period)] == [
        (cw.town_a, Decimal("-13.0"))
    ]
    assert not point_events(cw.town_b_dispatcher, period, town=cw.town_a).exists()


# ============================================================================================
# Compliance facts
# ============================================================================================


def test_every_ended_step_stores_its_compliance_once_and_running_steps_none(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = walk_to_in_progress(cw, make_case())  # accept, assign, start: three steps end
        case = services.case_pause(case=case, by=cw.village_a_worker, comment="等待鉴定")
        case = services.case_resume(case=case, by=cw.village_a_worker)
        case = services.case_extend(case=case, by=cw.town_a_dispatcher, days=3, comment="鉴定延误")
        case = services.case_resolve(case=case, by=cw.village_a_worker, comment="化解")
    with time_machine.travel(at(2026, 12, 20, 9, 0), tick=False):
        services.case_close(case=case, by=cw.village_a_worker, satisfaction=Satisfaction.SATISFIED)
    facts = {e.action: (e.met_deadline, e.late_seconds) for e in case.timeline.exclude(action="register")}
    assert facts["accept"] == (True, 0) and facts["assign"] == (True, 0) and facts["start"] == (True, 0)
    assert facts["resolve"] == (True, 0)
    assert facts["pause"] == facts["resume"] == facts["extend"] == (None, None)
    # Closing came after the 回访 step's deadline: stored late, by how much.
    close = case.timeline.get(action="close")
    assert close.met_deadline is False and close.late_seconds == int(
        (at(2026, 12, 20, 9) - close.step_due_at).total_seconds()
    )


def test_overdue_at_the_top_records_the_late_step_once_when_it_ends(cw, make_case):
    with time_machine.travel(MONDAY, tick=False):
        case = make_case(region=cw.county, owning_center=cw.c_county)
    with time_machine.travel(at(2026, 11, 26, 0, 0), tick=False):
        services.sweep()
    with time_machine.travel(at(2026, 11, 26, 6, 0), tick=False):
        services.case_accept(case=case, by=cw.county_dispatcher)
    rows = list(
        TimelineEntry.objects.filter(case=case, met_deadline__isnull=False).values_list(
            "action", "late_seconds"
        )
    )
    assert rows == [("accept", 30 * 3600)]  # due Tuesday 24:00, accepted Thursday 06:00


def test_kind_specific_transitions_store_compliance_through_the_engine(cw, make_case, monkeypatch):
    """A kind's own transition (grids' hazard lifecycle) goes through the same door and stores the facts."""
    from cases import lifecycle
    from cases.models import Status

    note = lifecycle.transition("test_note", "测试备注", [Status.REGISTERED], None, [lifecycle.OWNER])
    accept = lifecycle.transition(
        "test_accept", "测试受理", [Status.REGISTERED], Status.ACCEPTED, [lifecycle.OWNER]
    )
    monkeypatch.setitem(lifecycle.TRANSITIONS, note.action, note)
    monkeypatch.setitem(lifecycle.TRANSITIONS, accept.action, accept)
    with time_machine.travel(MONDAY, tick=False):
        case = make_case()
    # One hour past the deadline, before a sweep: the note turns it red (and supervised), the accept ends the step.
    with time_machine.travel(at(2026, 11, 25, 1, 0), tick=False):
        services.case_transition(case=case, action="test_note", by=cw.village_a_worker, restart_clock=False)
        services.case_transition(case=case, action="test_accept", by=cw.village_a_worker)
    facts = dict(case.timeline.filter(action__startswith="test_").values_list("action", "late_seconds"))
    assert facts == {"test_note": None, "test_accept": 3600}


def test_a_rule_change_never_rewrites_the_report_of_past_closures(cw, make_case):
    """Close matters under today's rules, tighten the rules, and the report of those closures is the same."""
    with time_machine.travel(MONDAY, tick=False):
        quick = walk_to_in_progress(cw, make_case())
        quick = services.case_resolve(case=quick, by=cw.village_a_worker, comment="当日化解")
        services.case_close(case=quick, by=cw.village_a_worker, satisfaction=Satisfaction.SATISFIED)
        slow = walk_to_in_progress(cw, make_case())
        still_open = walk_to_in_progress(cw, make_case())
    with time_machine.travel(
        at(2026, 11, 27, 9, 0), tick=False
    ):  # 4 working days: in time under "5 working days"
        slow = services.case_resolve(case=slow, by=cw.village_a_worker, comment="化解")
        services.case_close(case=slow, by=cw.village_a_worker, satisfaction=Satisfaction.BASIC)
    period = Period.quarter(2026, 4)

    closed = [quick.pk, slow.pk]

    def report():
        figures = metrics.case_figures(
            Case.objects.filter(pk__in=closed), period=period, now=at(2026, 12, 1, 9, 0)
        )
        steps = TimelineEntry.objects.filter(case__in=closed).aggregate(
            r=metrics.step_on_time_rate(period=period)
        )
        points = point_total(point_events(cw.county_dispatcher, period).filter(case__in=closed))
        return figures["on_time_close_rate"], figures["closed"], steps["r"], points

    before = report()
    assert before == (100.0, 2, 100.0, Decimal("5.0"))  # +2 +1 for the quick one, +2 for the slow one
    # The county tightens the village handling limit to one working day; the sweep then handles
    # the open matter under the new rule (it is late by it), and nothing already closed changes.
    ClockRule.objects.filter(status="in_progress", level="village", kind="").update(limit=1)
    with time_machine.travel(at(2026, 12, 1, 9, 0), tick=False):
        services.sweep()
    still_open.refresh_from_db()
    assert still_open.overdue_count == 1
    assert report() == before
