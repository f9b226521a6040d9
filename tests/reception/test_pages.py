"""The hall's pages: each works for the people who use it and answers 404 to everyone else."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cases.models import Case, CaseKind
from centers.models import DepartmentKind
from reception.models import Duty, Route, Summons, Ticket, TicketStatus, Visit, Window
from reception.services import RouteOptions, ticket_call_next, ticket_take
from tests.reception.conftest import idn, png
from tests.reception.test_routing import register

pytestmark = pytest.mark.django_db


def form_data(hall, **overrides):
    data = {
        "id_number": idn(),
        "phone": "138 0013 8000",
        "name": "张三",
        "address": "东门社区3栋",
        "region": str(hall.village_a.pk),
        "people_count": "1",
        "category": "labour",
        "matter": "工地欠薪三个月",
        "description": "",
        "route": Route.LAW_LITIGATION,
        "result": "",
        "satisfaction": "satisfied",
        "unit": str(hall.court.pk),
        "summons_hours": "2",
        "party-TOTAL_FORMS": "2",
        "party-INITIAL_FORMS": "0",
        "party-MIN_NUM_FORMS": "0",
        "party-MAX_NUM_FORMS": "10",
        "party-0-name": "某劳务公司",
        "party-0-role": "respondent",
        "party-0-phone": "",
        "party-1-name": "",
        "party-1-role": "respondent",
        "party-1-phone": "",
    }
    data.update(overrides)
    return data


def test_clerk_lands_on_the_desk_and_supervisor_on_the_overview(hall, client_for):
    assert client_for(hall.clerk).get("/").url == "/reception/"
    assert client_for(hall.supervisor).get("/").url == "/reception/overview/"
    desk = client_for(hall.clerk).get("/reception/")
    assert desk.status_code == 200 and "1号窗口 信访窗口" in desk.content.decode()
    nav = desk.content.decode()
    assert "来访登记" in nav and "我的登记" in nav and "大厅总览" not in nav


def test_registration_form_posts_to_a_visit_and_its_receipt(hall, client_for):
    c = client_for(hall.clerk)
    page = c.get("/reception/register/")
    html = page.content.decode()
    assert page.status_code == 200 and "autofocus" in html and 'data-key="i"' in html
    response = c.post("/reception/register/", form_data(hall, photos=png()))
    assert response.status_code == 302, response.content.decode()[:2000]
    visit = Visit.objects.get()
    assert response.url == f"/reception/visits/{visit.pk}/"
    case = visit.cases.get()
    assert case.kind == CaseKind.LAW_LITIGATION and case.owning_unit == hall.court and visit.window == hall.w1
    assert case.attachments.count() == 1
    detail = c.get(response.url).content.decode()
    assert case.tracking_no in detail and f"/reception/visits/{visit.pk}/receipt.pdf" in detail


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"id_number": idn()[:-1] + "0" if not idn().endswith("0") else idn()[:-1] + "1"},
            "id_number",
            "校验位",
        ),
        ({"phone": "12345"}, "phone", "电话号码无效"),
        ({"id_number": "", "phone": ""}, "id_number", "至少填写一项"),
        ({"route": Route.ON_THE_SPOT}, "result", "即接即办须填写办理结果"),
        ({"route": Route.JOINT}, "units", "至少两个部门"),
        ({"route": Route.MEDIATION}, "mediator", "请选择调解员"),
        ({"matter": ""}, "matter", "请填写来访事由"),
        ({"people_count": "0"}, "people_count", "1"),
    ],
)
def test_bad_input_is_shown_at_the_field_in_chinese(hall, client_for, overrides, field, message):
    response = client_for(hall.clerk).post("/reception/register/", form_data(hall, **overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert not Visit.objects.exists() and not Case.objects.exists()


def test_registering_the_called_ticket_finishes_it(hall, client_for):
    ticket_take(by=hall.clerk, center=hall.center)
    ticket = ticket_call_next(by=hall.clerk, window=hall.w1)
    c = client_for(hall.clerk)
    assert f"ticket={ticket.pk}" in c.get("/reception/").content.decode()
    response = c.post(f"/reception/register/?ticket={ticket.pk}", form_data(hall, ticket=str(ticket.pk)))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE and ticket.visit.pk == Visit.objects.get().pk


def test_desk_calls_the_next_number(hall, client_for):
    ticket_take(by=hall.clerk, center=hall.center, department=DepartmentKind.PETITION)
    c = client_for(hall.clerk)
    response = c.post("/reception/", {"action": "call", "window": hall.w1.pk}, follow=True)
    assert "请 F001 号到 1 号窗口办理" in response.content.decode()
    assert Ticket.objects.get().status == TicketStatus.CALLED


def test_take_a_number_page(hall, client_for):
    c = client_for(hall.clerk)
    assert c.get("/reception/take/").status_code == 200
    response = c.post("/reception/take/", {"target": f"w{hall.w2.pk}", "people_count": "2"})
    assert response.status_code == 200 and "G001" in response.content.decode()


def test_my_registrations_show_progress_and_mask_counselling(hall, client_for):
    register(hall, Route.LAW_LITIGATION, options=RouteOptions(unit=hall.court))
    register(hall, Route.COUNSELLING, matter="情绪低落睡不着", id_number=idn(seq="321"))
    html = client_for(hall.clerk).get("/reception/mine/").content.decode()
    assert "转交 青川县人民法院 办理" in html and "心理咨询（内容保密）" in html and "情绪" not in html


def test_overview_aggregates_today_and_marks_a_group_as_departed(hall, client_for):
    group = register(hall, Route.PETITION, people_count=7, matter="集体讨薪")
    register(hall, Route.ON_THE_SPOT, options=RouteOptions(result="已办"), id_number=idn(seq="555"))
    c = client_for(hall.supervisor)
    html = c.get("/reception/overview/").content.decode()
    assert "集体讨薪" in html and "即接即办" in html
    assert c.post("/reception/overview/", {"visit": group.pk}).status_code == 302
    group.refresh_from_db()
    assert group.departed_at is not None
    assert "集体讨薪" not in c.get("/reception/overview/").content.decode()


def test_windows_page_adds_a_window_and_sets_the_roster(hall, client_for):
    c = client_for(hall.supervisor)
    assert c.get("/reception/windows/").status_code == 200
    r = c.post(
        "/reception/windows/",
        {
            "form": "window",
            "number": "3",
            "name": "法院窗口",
            "department": "court",
            "unit": str(hall.court.pk),
        },
    )
    assert r.status_code == 302
    w3 = Window.objects.get(number=3)
    today = timezone.localdate().isoformat()
    r = c.post(
        "/reception/windows/",
        {"form": "duty", "window": str(w3.pk), "date": today, "users": [str(hall.clerk2.pk)]},
    )
    assert r.status_code == 302 and Duty.objects.filter(window=w3, user=hall.clerk2).exists()
    r = c.post(
        "/reception/windows/",
        {"form": "duty", "window": str(w3.pk), "date": today, "users": [str(hall.county_dispatcher.pk)]},
    )
    assert r.status_code == 200  # not a clerk of the hall: not among the choices
    assert not Duty.objects.filter(window=w3, user=hall.county_dispatcher).exists()


def test_unit_staff_acknowledge_a_summons_on_their_page(hall, client_for):
    case = register(hall, Route.JOINT, options=RouteOptions(units=[hall.court, hall.hrss_bureau])).cases.get()
    c = client_for(hall.court_staff)
    html = c.get("/reception/summonses/").content.decode()
    assert case.tracking_no in html
    summons = Summons.objects.get(case=case, unit=hall.court)
    assert c.post(f"/reception/summonses/{summons.pk}/ack/", {"note": "王法官到场"}).status_code == 302
    summons.refresh_from_db()
    assert summons.acknowledged_by == hall.court_staff and summons.note == "王法官到场"
    other = Summons.objects.get(case=case, unit=hall.hrss_bureau)
    assert c.post(f"/reception/summonses/{other.pk}/ack/").status_code == 302  # shown as an error message
    other.refresh_from_db()
    assert other.acknowledged_at is None
    assert (
        client_for(hall.town_b_dispatcher).post(f"/reception/summonses/{summons.pk}/ack/").status_code == 404
    )


def test_outsiders_get_404_on_every_page(hall, client_for):
    visit = register(hall, Route.PETITION)
    ticket_take(by=hall.clerk, center=hall.center)
    staff_pages = [
        "/reception/",
        "/reception/take/",
        "/reception/register/",
        "/reception/lookup/?phone=13800138000",
        "/reception/mine/",
    ]
    supervisor_pages = ["/reception/overview/", "/reception/windows/"]
    own_pages = [f"/reception/visits/{visit.pk}/", f"/reception/visits/{visit.pk}/receipt.pdf"]
    for user in (hall.town_b_dispatcher, hall.unit_staff, hall.mediator, hall.village_a_worker):
        c = client_for(user)
        for url in staff_pages + supervisor_pages + own_pages:
            assert c.get(url).status_code == 404, (user.username, url)
    # A clerk of town B's hall: its own desk works, the county hall's visit and supervisor pages do not.
    c = client_for(hall.town_b_clerk)
    for url in own_pages + supervisor_pages:
        assert c.get(url).status_code == 404, url
    # A county clerk is not the supervisor.
    for url in supervisor_pages:
        assert client_for(hall.clerk).get(url).status_code == 404
    # Staff with no unit post see no summons page.
    assert client_for(hall.town_b_dispatcher).get("/reception/summonses/").status_code == 404


def test_anonymous_users_are_sent_to_log_in(hall):
    from django.test import Client

    for url in ("/reception/", "/reception/register/", "/reception/overview/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url
