"""Handover: a person's open cases, assignments and supervision orders go to a successor in one
action, recorded on each case's timeline; the daily check finds what was left without anyone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import CaseAssignment, Notification, SupervisionOrder, TimelineEntry
from cases.services import case_accept, case_assign
from cases.supervision import supervision_order_issue
from countyadmin import services
from countyadmin.models import AdminAction, AdminLog
from countyadmin.tasks import orphans_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(aw, make_case):
    """Three open cases in town A: two assigned to town A's handler, one supervised by town A's leader."""
    cases = [make_case(title=f"纠纷{i}") for i in range(3)]
    for case in cases:
        case_accept(case=case, by=aw.village_a_staff)
    case_assign(case=cases[0], by=aw.village_a_staff, users=[aw.town_a_handler])
    case_assign(case=cases[1], by=aw.village_a_staff, users=[aw.town_a_handler])
    order = supervision_order_issue(case=cases[2], by=aw.town_a_leader, demand="三日内报告进展")
    return cases, order


def test_holdings_list_cases_assignments_and_orders(aw, held) -> None:
    cases, order = held
    mine = services.holdings_of(aw.town_a_handler)
    assert sorted(mine.case_ids) == sorted(c.pk for c in cases[:2])
    assert mine.assignments.count() == 2
    leader = services.holdings_of(aw.town_a_leader)
    assert list(leader.supervision_orders) == [order]


def test_handover_moves_everything_in_one_action_onto_each_timeline(aw, held, client_for) -> None:
    cases, order = held
    client = client_for(aw.county_admin)
    page = client.get(reverse("countyadmin:account", args=[aw.village_a_staff.pk])).content.decode()
    assert all(c.tracking_no in page for c in cases)  # first responder of all three
    response = client.post(
        reverse("countyadmin:account_handover", args=[aw.town_a_handler.pk]),
        {"handover-successor": "town_a_dispatcher", "handover-reason": "调任县信访局"},
    )
    assert response.status_code == 302
    for case in cases[:2]:
        assert CaseAssignment.objects.filter(case=case, user=aw.town_a_dispatcher, is_active=True).exists()
        old = CaseAssignment.objects.get(case=case, user=aw.town_a_handler)
        assert not old.is_active  # kept as history
        entry = TimelineEntry.objects.get(case=case, action="handover")
        assert "郑承办 → 王芳" in entry.summary and entry.comment == "调任县信访局"
        assert entry.actor == aw.county_admin
        assert aw.town_a_dispatcher.has_perm("cases.change_case", case)
        assert not aw.town_a_handler.has_perm("cases.change_case", case)
    assert not services.holdings_of(aw.town_a_handler).total
    assert Notification.objects.filter(user=aw.town_a_dispatcher, kind="handover").count() == 2
    log = AdminLog.objects.get(action=AdminAction.HANDOVER)
    assert log.data["cases"] == 2 and log.by == aw.county_admin

    # The leader's open supervision order is followed by the successor.
    services.handover(by=aw.county_admin, from_user=aw.town_a_leader, to_user=aw.county_leader, reason="换届")
    order.refresh_from_db()
    assert order.issued_by == aw.county_leader
    assert order.history.filter(issued_by=aw.town_a_leader).exists()


def test_handover_is_all_or_nothing(aw, held, monkeypatch) -> None:
    cases, _ = held
    from cases import services as case_services

    real = case_services.case_hand_over
    calls = []

    def flaky(**kw):
        calls.append(kw["case"])
        if len(calls) == 2:
            raise case_services.DomainError("模拟中途失败")
        return real(**kw)

    monkeypatch.setattr(services, "case_hand_over", flaky)
    with pytest.raises(case_services.DomainError):
        services.handover(
            by=aw.county_admin, from_user=aw.town_a_handler, to_user=aw.town_a_dispatcher, reason="x"
        )
    assert CaseAssignment.objects.filter(user=aw.town_a_handler, is_active=True).count() == 2
    assert not TimelineEntry.objects.filter(action="handover").exists()


def test_successor_must_be_in_post_and_in_scope(aw, held) -> None:
    with pytest.raises(services.NotAllowed):
        services.handover(
            by=aw.town_a_leader, from_user=aw.town_a_handler, to_user=aw.town_b_dispatcher, reason="跨镇"
        )
    services.account_deactivate(by=aw.county_admin, user=aw.county_dispatcher, reason="离职")
    with pytest.raises(services.DomainError, match="在岗"):
        services.handover(
            by=aw.county_admin, from_user=aw.town_a_handler, to_user=aw.county_dispatcher, reason="x"
        )


def test_daily_check_finds_orphans_tells_the_administrators_and_handover_clears_them(aw, held) -> None:
    cases, order = held
    assert not services.orphan_cases().exists()
    # The handler and the supervising leader leave without a handover (e.g. through the Django admin).
    for user in (aw.town_a_handler, aw.town_a_leader):
        type(user).objects.filter(pk=user.pk).update(is_active=False)
    orphans = set(services.orphan_cases().values_list("pk", flat=True))
    assert orphans == {cases[0].pk, cases[1].pk}
    assert list(services.orphan_orders()) == [order]

    orphans_check()
    orphans_check()  # once a day per center
    # Town A's only administrator left, so the nearest administrators above are told: the county's.
    notes = Notification.objects.filter(kind="orphans")
    assert {n.user for n in notes} == {aw.county_admin, aw.county_leader}
    assert notes.count() == 2
    assert "2 件事项无人承办" in notes.first().title and "1 件督办单无人跟踪" in notes.first().title

    page = type(aw.county_admin).objects.get(pk=aw.county_admin.pk)
    from django.test import Client

    client = Client()
    client.force_login(page)
    body = client.get(reverse("countyadmin:orphans")).content.decode()
    assert cases[0].tracking_no in body and cases[1].tracking_no in body
    # Town B's leader sees none of town A's orphans.
    client.force_login(aw.town_b_leader)
    assert cases[0].tracking_no not in client.get(reverse("countyadmin:orphans")).content.decode()

    # The county administrator hands the departed people's work over: nothing is left orphaned.
    type(aw.town_a_handler).objects.filter(pk__in=[aw.town_a_handler.pk, aw.town_a_leader.pk]).update(
        is_active=True
    )
    for user in (aw.town_a_handler, aw.town_a_leader):
        user.refresh_from_db()
        services.account_deactivate(
            by=aw.county_admin, user=user, reason="离任", successor=aw.town_a_dispatcher
        )
    assert not services.orphan_cases().exists()
    assert not services.orphan_orders().exists()
    assert SupervisionOrder.objects.get(pk=order.pk).issued_by == aw.town_a_dispatcher


def test_a_station_whose_staff_all_left_orphans_its_unassigned_cases(aw, make_case) -> None:
    case = make_case()  # owned by village A's station, not assigned
    assert not services.orphan_cases().filter(pk=case.pk).exists()
    services.account_deactivate(
        by=aw.county_admin, user=aw.village_a_staff, reason="离职", successor=aw.town_a_dispatcher
    )
    assert services.orphan_cases().filter(pk=case.pk).exists()
