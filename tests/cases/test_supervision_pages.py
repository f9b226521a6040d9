"""The supervision and assessment pages: 三色三单 and their Excel files, supervision orders, the case's
supervision, the quarterly ranking and its weights — each behind the jurisdiction gate."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from cases import services
from cases.models import (
    PointEvent,
    PointKind,
    PointWeight,
    RevealLog,
    SupervisionOrder,
    SupervisionStatus,
)
from cases.supervision import leader_instruction_add, supervision_order_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def red_case(cw, make_case):
    return make_case(title="工地欠薪群体讨薪", people_count=25)


def rows_of(response) -> dict[str, list[tuple]]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content), read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


@pytest.mark.parametrize(
    "url",
    [
        "/cases/{case}/supervise/",
        "/cases/{case}/instruct/",
        "/cases/{case}/supervision/",
        "/cases/supervision/orders/{order}/",
    ],
)
def test_the_outsider_gets_404(cw, red_case, client_for, url):
    order = SupervisionOrder.objects.get(case=red_case)
    response = client_for(cw.outsider).get(url.format(case=red_case.pk, order=order.pk))
    assert response.status_code == 404


def test_lists_are_scoped_to_the_users_jurisdiction(cw, red_case, make_case, client_for):
    other = make_case(region=cw.grid_b, by=cw.village_b_worker, title="石桥村土地纠纷", has_casualty=True)
    for path in (
        "/cases/supervision/",
        "/cases/supervision/responsibilities/",
        "/cases/supervision/tasks/",
        "/cases/supervision/orders/",
    ):
        mine = client_for(cw.town_a_dispatcher).get(path).content.decode()
        county = client_for(cw.county_dispatcher).get(path).content.decode()
        assert red_case.tracking_no in mine and other.tracking_no not in mine, path
        assert red_case.tracking_no in county and other.tracking_no in county, path


def test_risk_list_shows_colour_reasons_and_the_town_summary(cw, red_case, make_case, client_for):
    make_case(title="普通邻里纠纷")  # green: not on the default risk list
    body = client_for(cw.county_dispatcher).get("/cases/supervision/").content.decode()
    assert "涉及 25 人" in body and "普通邻里纠纷" not in body
    assert "城关街道" in body and 'id="risk-summary"' in body
    everything = client_for(cw.county_dispatcher).get("/cases/supervision/?colour=all").content.decode()
    assert "普通邻里纠纷" in everything


def test_a_town_outside_the_jurisdiction_is_refused_with_a_field_error(cw, red_case, client_for):
    response = client_for(cw.town_b_dispatcher).get(f"/cases/supervision/?town={cw.town_a.pk}")
    assert response.status_code == 400
    body = response.content.decode()
    assert "has-error" in body and red_case.tracking_no not in body


def test_excel_files_hold_the_listed_rows_and_are_logged(cw, red_case, client_for):
    client = client_for(cw.county_dispatcher)
    risk = rows_of(client.get(f"/cases/supervision/?town={cw.town_a.pk}&format=xlsx"))["风险清单"]
    assert risk[0][0] == "受理编号" and [r[0] for r in risk[1:]] == [red_case.tracking_no]
    assert "涉及 25 人" in risk[1][8]
    resp = rows_of(client.get("/cases/supervision/responsibilities/?format=xlsx"))["责任清单"]
    assert resp[1][3] == cw.c_village_a.name
    tasks = rows_of(client.get("/cases/supervision/tasks/?format=xlsx"))["任务清单"]
    assert {r[0] for r in tasks[1:]} == {"办理环节", "督办单"}
    logs = RevealLog.objects.filter(user=cw.county_dispatcher, what=RevealLog.What.EXPORT).order_by("pk")
    assert [(log.filter_description, log.row_count) for log in logs] == [
        ("风险清单：乡镇：城关街道", 1),
        ("责任清单：全部", 1),
        ("任务清单：全部", 2),
    ]


def test_supervise_from_the_case_with_field_errors_then_an_order(cw, make_case, client_for):
    case = make_case()
    client = client_for(cw.town_a_dispatcher)
    assert client.get(f"/cases/{case.pk}/supervise/").status_code == 200
    bad = client.post(f"/cases/{case.pk}/supervise/", {"demand": "", "due_on": "2020-01-01"})
    assert bad.status_code == 400
    assert "这个字段是必填项" in bad.content.decode() or "必填" in bad.content.decode()
    assert "反馈期限不能早于今天" in bad.content.decode()
    due = timezone.localdate() + dt.timedelta(days=2)
    ok = client.post(f"/cases/{case.pk}/supervise/", {"demand": "两日内上门调处", "due_on": due.isoformat()})
    assert ok.status_code == 302
    order = SupervisionOrder.objects.get(case=case)
    assert order.demand == "两日内上门调处" and order.issued_by == cw.town_a_dispatcher
    # The village's own staff may read the case but not supervise it.
    assert client_for(cw.village_a_worker).get(f"/cases/{case.pk}/supervise/").status_code == 403


def test_the_supervised_side_responds_on_the_order_page(cw, red_case, client_for):
    order = SupervisionOrder.objects.get(case=red_case)
    issuer_view = (
        client_for(cw.town_a_dispatcher).get(f"/cases/supervision/orders/{order.pk}/").content.decode()
    )
    assert 'id="respond"' not in issuer_view
    client = client_for(cw.village_a_worker)
    assert client.post(f"/cases/supervision/orders/{order.pk}/", {"response": " "}).status_code == 400
    assert (
        client.post(f"/cases/supervision/orders/{order.pk}/", {"response": "已稳控，正协调垫付"}).status_code
        == 302
    )
    order.refresh_from_db()
    assert order.status == SupervisionStatus.RESPONDED
    assert (
        client_for(cw.town_a_dispatcher)
        .post(f"/cases/supervision/orders/{order.pk}/", {"response": "x"})
        .status_code
        == 403
    )


def test_leader_instructions_are_shown_at_the_top_of_the_case(cw, red_case, client_for):
    client = client_for(cw.town_a_dispatcher)
    page = client.get(f"/cases/{red_case.pk}/instruct/")
    assert page.status_code == 200 and "周建国" in page.content.decode()
    response = client.post(
        f"/cases/{red_case.pk}/instruct/",
        {"leader": cw.county_leader.pk, "text": "务必三日内化解", "instructed_at": ""},
    )
    assert response.status_code == 302
    body = client.get(f"/cases/{red_case.pk}/supervision/").content.decode()
    assert body.index('id="leader-instructions"') < body.index('id="supervision"')
    assert "务必三日内化解" in body and "周建国" in body and "王芳 录入" in body


def test_assessment_page_ranks_towns_and_units_and_exports_three_sheets(cw, red_case, client_for):
    now = timezone.now()
    PointEvent.objects.create(
        kind=PointKind.RED_CARD,
        points=Decimal("-10"),
        center=cw.c_village_a,
        town=cw.town_a,
        case=red_case,
        at=now,
        reason="超期",
        event_key="t1",
    )
    PointEvent.objects.create(
        kind=PointKind.RED_CARD,
        points=Decimal("-10"),
        unit=cw.police_a,
        at=now,
        reason="超期",
        event_key="t2",
    )
    client = client_for(cw.county_leader)
    body = client.get("/cases/supervision/assessment/").content.decode()
    assert "白沙镇" in body and "城关街道" in body and "-10.0" in body and "城关派出所" in body
    assert body.index("白沙镇") < body.index("城关街道")  # 0 ranks above −10
    sheets = rows_of(client.get("/cases/supervision/assessment/?format=xlsx"))
    assert list(sheets) == ["乡镇排名", "部门排名", "记分明细"]
    assert sheets["乡镇排名"][1][:3] == (1, "白沙镇", 0) and sheets["乡镇排名"][2][:3] == (2, "城关街道", -10)
    assert len(sheets["记分明细"]) == 3
    events = client.get(f"/cases/supervision/assessment/events/?town={cw.town_a.pk}").content.decode()
    assert 'id="total">-10.0<' in events and red_case.tracking_no in events
    # Town B sees only itself, and none of town A's events.
    outsider = client_for(cw.outsider)
    body = outsider.get("/cases/supervision/assessment/").content.decode()
    assert "白沙镇" in body and "城关街道" not in body
    assert outsider.get(f"/cases/supervision/assessment/events/?town={cw.town_a.pk}").status_code == 400


def test_weights_are_read_by_all_and_edited_by_the_county(cw, client_for):
    town = client_for(cw.town_a_leader)
    page = town.get("/cases/supervision/assessment/weights/")
    assert page.status_code == 200 and 'id="weights"' in page.content.decode()
    assert town.post("/cases/supervision/assessment/weights/", {}).status_code == 403
    data = {w.kind: str(w.points) for w in PointWeight.objects.all()}
    data[PointKind.YELLOW_CARD] = "-3"
    county = client_for(cw.county_leader)
    assert (
        county.post("/cases/supervision/assessment/weights/", {**data, "red_card": "abc"}).status_code == 400
    )
    assert county.post("/cases/supervision/assessment/weights/", data).status_code == 302
    assert PointWeight.objects.get(kind=PointKind.YELLOW_CARD).points == Decimal("-3.0")


def test_leader_instruction_appears_in_the_case_supervision_panel_for_the_unit(cw, make_case, client_for):
    case = make_case()
    case = services.case_accept(case=case, by=cw.village_a_worker)
    case = services.case_transfer(case=case, by=cw.village_a_worker, unit=cw.police_a, comment="涉治安")
    leader_instruction_add(case=case, by=cw.county_leader, leader=cw.county_leader, text="派出所牵头")
    supervision_order_issue(case=case, by=cw.county_leader, demand="三日内报结果")
    body = client_for(cw.police_a_staff).get(f"/cases/{case.pk}/supervision/").content.decode()
    assert "派出所牵头" in body and "领导督办" in body
