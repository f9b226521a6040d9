"""The engine's additive helpers for channel imports and for kinds supervised rather than escalated."""

from __future__ import annotations

import pytest
import time_machine

from cases import lifecycle, services
from cases.models import (
    Case,
    CaseKind,
    Category,
    Channel,
    OverdueEvent,
    Person,
    Status,
    TimelineEntry,
    WarningLevel,
)

from .test_engine import at

pytestmark = pytest.mark.django_db


def test_register_bulk_gives_consecutive_numbers_clocks_parties_timeline_and_history(cw, make_case):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        first = make_case()
        person = services.person_upsert(name="张三", phone="13800138000")
        items = [
            services.NewCase(
                channel=Channel.HOTLINE_12345,
                category=Category.NEIGHBOUR,
                title=f"噪音扰民 {i}",
                region=cw.grid_a,
                parties=[(person, "applicant"), (person, "applicant")],
                source_ref=f"GD{i}",
                people_count=6 if i == 2 else 1,
            )
            for i in range(3)
        ]
        cases = services.case_register_bulk(by=cw.county_dispatcher, items=items)
    assert first.tracking_no == "430124-2026-000001"
    assert [c.tracking_no for c in cases] == [f"430124-2026-00000{i}" for i in (2, 3, 4)]
    assert services.next_tracking_no(region=cw.grid_a, year=2026) == "430124-2026-000005"
    for c in cases:
        c = Case.objects.get(pk=c.pk)
        assert c.owning_center == cw.c_village_a and c.level == "village" and c.town == cw.town_a
        assert c.status == Status.REGISTERED and c.due_at == first.due_at
        assert c.parties.count() == 1
        assert c.history.count() == 1
        assert TimelineEntry.objects.filter(case=c).first().action == "register"
    assert Case.objects.get(pk=cases[2].pk).warning_level == WarningLevel.RED
    # The red one is supervised by the town at once (cases.supervision); the others are not.
    assert [e.action for e in TimelineEntry.objects.filter(case=cases[2])] == ["register", "supervise"]


def test_register_bulk_refuses_a_bad_item_and_writes_nothing(cw):
    items = [
        services.NewCase(channel=Channel.VISIT, category=Category.OTHER, title="好的", region=cw.grid_a),
        services.NewCase(channel=Channel.VISIT, category=Category.OTHER, title=" ", region=cw.grid_a),
    ]
    with pytest.raises(services.DomainError, match="第 2 条"):
        services.case_register_bulk(by=None, items=items)
    assert not Case.objects.exists()


def test_person_upsert_bulk_matches_like_person_upsert(cw):
    known = services.person_upsert(name="李四", id_number="430124198506124565", phone="13900139000")
    by_phone = services.person_upsert(name="王五", phone="13700137000")
    people = services.person_upsert_bulk(
        people=[
            services.PersonData(name="李四", id_number="430124198506124565"),
            services.PersonData(name="王五", phone="+86 137 0013 7000", address="东门社区3栋"),
            services.PersonData(name="赵六", phone="136 0013 6000"),
            services.PersonData(name="赵六", phone="13600136000"),
            services.PersonData(name="王五先生", phone="13700137000"),
        ]
    )
    assert people[0].pk == known.pk
    assert people[1].pk == by_phone.pk and Person.objects.get(pk=by_phone.pk).address == "东门社区3栋"
    assert people[2].pk == people[3].pk and people[2].phone == "13600136000"
    assert people[4].pk not in (
        by_phone.pk,
        people[2].pk,
    )  # another name: another person, as person_upsert does
    assert Person.objects.count() == 4


def test_a_kind_with_an_overdue_hook_is_supervised_where_it_stands(cw, make_case, monkeypatch):
    calls = []
    monkeypatch.setitem(lifecycle.OVERDUE_HOOKS, CaseKind.SUPERVISION, lambda **kw: calls.append(kw))
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case(kind=CaseKind.SUPERVISION)
    with time_machine.travel(at(2026, 11, 26, 9, 0), tick=False):
        services.sweep()
        services.sweep()
    case.refresh_from_db()
    assert case.owning_center == cw.c_village_a and case.status == Status.REGISTERED
    assert case.warning_level == WarningLevel.RED
    assert OverdueEvent.objects.get(case=case).action == "supervised"
    assert len(calls) == 1 and calls[0]["case"].pk == case.pk


def test_clock_from_starts_the_new_step_earlier(cw, make_case):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = make_case()
        case = services.case_accept(case=case, by=cw.village_a_worker)
    with time_machine.travel(at(2026, 11, 25, 9, 0), tick=False):
        case = services.case_transition(
            case=case, action="start", by=cw.village_a_worker, clock_from=case.accepted_at
        )
    assert case.step_started_at == at(2026, 11, 23, 9, 0)
