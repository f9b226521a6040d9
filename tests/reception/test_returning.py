"""A returning visitor is recognised by ID number or phone, and the clerk can join their open matter."""

from __future__ import annotations

import pytest

from cases.models import Case, Person, RevealLog
from centers.services import DomainError
from reception.models import Route, VisitCase
from reception.selectors import person_history
from reception.services import RouteOptions, visit_register
from tests.factories import staff
from tests.reception.conftest import idn
from tests.reception.test_routing import register

pytestmark = pytest.mark.django_db


def lookup(client, **params):
    response = client.get("/reception/lookup/", params)
    assert response.status_code == 200
    return response.json()


def test_the_same_person_is_found_by_id_number_phone_or_old_15_digit_number(hall, client_for):
    first = register(
        hall, Route.PETITION, id_number=idn("19700101", "456"), phone="13912345678", address="东门社区5栋"
    )
    c = client_for(hall.clerk2)
    by_id = lookup(c, id_number=idn("19700101", "456"))
    assert (
        by_id["found"] and by_id["person"]["name"] == "张三" and by_id["person"]["matched_by"] == "id_number"
    )
    assert by_id["person"]["id_number"] == "4301**********" + idn("19700101", "456")[-4:]
    assert by_id["person"]["address"] == "东门社区5栋"
    assert [v["id"] for v in by_id["visits"]] == [first.pk]
    assert [o["tracking_no"] for o in by_id["open_cases"]] == [first.cases.get().tracking_no]
    assert lookup(c, phone="+86 139 1234 5678")["person"]["matched_by"] == "phone"
    assert lookup(c, id_number="430124700101456")["found"]  # the old card of the same person
    assert lookup(c, id_number=idn("19700101", "457"))["found"] is False
    assert "校验位" in lookup(c, id_number=idn("19700101", "456")[:-1] + "0")["errors"].get(
        "id_number", "校验位"
    )


def test_lookup_never_decrypts_or_logs_a_reveal(hall, client_for, django_assert_max_num_queries):
    register(hall, Route.PETITION)
    c = client_for(hall.clerk)
    body = lookup(c, id_number=idn())
    assert "13800138000" not in str(body) and idn() not in str(body)
    assert not RevealLog.objects.exists()


def test_lookup_is_404_for_staff_without_a_hall_post(hall, client_for):
    for user in (hall.town_b_dispatcher, hall.unit_staff, hall.mediator):
        assert client_for(user).get("/reception/lookup/", {"id_number": idn()}).status_code == 404


def test_a_clerk_of_another_hall_sees_the_person_but_not_the_county_halls_matters(hall, client_for):
    register(hall, Route.PETITION)
    body = lookup(client_for(hall.town_b_clerk), id_number=idn())
    assert body["found"] and body["visits"] == [] and body["open_cases"] == []


def test_registering_again_reuses_the_person_and_joins_the_open_matter(hall):
    first = register(hall, Route.PETITION, matter="工地欠薪")
    case = first.cases.get()
    second = register(hall, Route.ATTACH, attach_to=[case], matter="催问欠薪处理进度", by=hall.clerk2)
    assert Person.objects.count() == 1 and second.person == first.person
    link = VisitCase.objects.get(visit=second)
    assert link.case == case and link.opened is False
    assert Case.objects.count() == 1
    assert case.timeline.filter(action="comment", summary="记录办理情况").exists()
    history = person_history(hall.clerk, first.person)
    assert [v["id"] for v in history.visits] == [second.pk, first.pk]


def test_a_visit_can_open_a_new_case_and_join_several_old_ones(hall):
    a = register(hall, Route.PETITION, matter="欠薪").cases.get()
    b = register(
        hall, Route.LAW_LITIGATION, matter="判决执行", options=RouteOptions(unit=hall.court)
    ).cases.get()
    visit = register(hall, Route.PETITION, matter="物业费", attach_to=[a, b])
    assert set(visit.visit_cases.values_list("case_id", "opened")) == {
        (a.pk, False),
        (b.pk, False),
        (visit.visit_cases.get(opened=True).case_id, True),
    }


def test_joining_a_matter_the_clerk_cannot_see_is_refused(hall, make_case_b):
    town_a_clerk = staff("town_a_clerk", "window_clerk", center=hall.town_a_center)
    with pytest.raises(DomainError, match="无权查看"):
        visit_register(
            by=town_a_clerk,
            center=hall.town_a_center,
            region=hall.village_a,
            route=Route.ATTACH,
            name="李四",
            phone="13900001111",
            matter="追问进度",
            attach_to=[make_case_b],
        )


def test_joining_a_closed_matter_is_refused(hall):
    closed = register(hall, Route.ON_THE_SPOT, options=RouteOptions(result="已办结")).cases.get()
    with pytest.raises(DomainError, match="已办结"):
        register(hall, Route.ATTACH, attach_to=[closed])


def test_counselling_is_masked_in_the_history_a_town_clerk_sees(hall):
    visit = register(hall, Route.COUNSELLING, matter="家庭矛盾情绪低落")
    town_a_clerk = staff("town_a_clerk", "window_clerk", center=hall.town_a_center)
    history = person_history(town_a_clerk, visit.person)
    assert history.open_cases == []  # the case lives at the county
    county_view = person_history(hall.clerk, visit.person)
    assert county_view.open_cases[0]["title"] == "心理咨询（内容保密）"
    assert county_view.visits[0]["matter"] == "心理咨询（内容保密）"
    assert "情绪" not in str(county_view)


def test_a_visitor_known_by_id_who_gives_only_a_phone_is_the_same_person(hall):
    first = register(hall, Route.LAW_LITIGATION, options=RouteOptions(unit=hall.court), phone="13912340000")
    again = register(
        hall,
        Route.LAW_LITIGATION,
        options=RouteOptions(unit=hall.court),
        id_number="",
        phone="+86 139 1234 0000",
    )
    assert again.person == first.person and Person.objects.count() == 1
    stranger = register(
        hall,
        Route.LAW_LITIGATION,
        options=RouteOptions(unit=hall.court),
        id_number="",
        phone="13912340000",
        name="王五",
    )
    assert stranger.person != first.person  # same phone, another name: not assumed to be the same person
