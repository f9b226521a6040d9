"""The receipt (A5 PDF with QR code) and the public status page, which shows nothing personal."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from cases.services import case_accept
from reception.models import Route, StatusLink
from reception.services import PartyInput, RouteOptions
from tests.reception.conftest import idn
from tests.reception.test_routing import register

pytestmark = pytest.mark.django_db


def status_url(case) -> str:
    return f"/reception/s/{case.tracking_no}/{StatusLink.objects.get(case=case).token}/"


def test_the_status_page_shows_progress_and_nothing_personal(hall):
    visit = register(
        hall,
        Route.LAW_LITIGATION,
        name="欧阳明月",
        id_number=idn("19660606", "777"),
        phone="13811112222",
        address="东门社区幸福路8号",
        matter="不服判决要求再审",
        description="2019年离婚案件，对方王大力",
        parties=[PartyInput(name="王大力", phone="13999998888")],
        options=RouteOptions(unit=hall.court),
    )
    case = visit.cases.get()
    response = Client().get(status_url(case))
    assert response.status_code == 200
    html = response.content.decode()
    assert case.tracking_no in html and "已交办" in html
    forbidden = [
        "欧阳",
        "明月",
        idn("19660606", "777"),
        visit.person.id_number_masked,
        "13811112222",
        "138****2222",
        "幸福路",
        "再审",
        "离婚",
        "王大力",
        "13999998888",
        hall.clerk.full_name,
        "青川县人民法院",
        case.title,
    ]
    leaked = [f for f in forbidden if f and f in html]
    assert leaked == []
    assert response["X-Robots-Tag"] == "noindex, nofollow" and response["Referrer-Policy"] == "no-referrer"


def test_the_status_page_needs_the_right_token_for_the_right_number(hall):
    a = register(hall, Route.PETITION).cases.get()
    b = register(hall, Route.PETITION, id_number=idn(seq="999"), matter="另一件").cases.get()
    token_a = StatusLink.objects.get(case=a).token
    c = Client()
    assert c.get(f"/reception/s/{a.tracking_no}/{token_a}/").status_code == 200
    assert c.get(f"/reception/s/{b.tracking_no}/{token_a}/").status_code == 404
    assert c.get(f"/reception/s/{a.tracking_no}/{token_a[:-1]}x/").status_code in (404,)
    assert c.get(f"/reception/s/{a.tracking_no}/zzzzzzzzzzzz/").status_code == 404


def test_the_query_form_leads_to_the_page_only_with_a_matching_code(hall):
    case = register(hall, Route.PETITION).cases.get()
    token = StatusLink.objects.get(case=case).token
    c = Client()
    ok = c.get("/reception/s/", {"tracking_no": case.tracking_no, "code": token.upper()})
    assert ok.status_code == 302 and ok["Location"] == status_url(case)
    bad = c.get("/reception/s/", {"tracking_no": case.tracking_no, "code": "abcdefghjkmn"})
    assert bad.status_code == 200 and "未找到该事项" in bad.content.decode()


def test_the_status_page_follows_the_case(hall):
    case = register(hall, Route.PETITION).cases.get()
    assert "待受理" in Client().get(status_url(case)).content.decode()
    case_accept(case=case, by=hall.clerk)
    assert "已受理" in Client().get(status_url(case)).content.decode()


def test_the_receipt_is_an_a5_pdf_with_number_next_step_deadline_and_qr(hall, client_for):
    visit = register(hall, Route.LAW_LITIGATION, options=RouteOptions(unit=hall.court))
    case = visit.cases.get()
    response = client_for(hall.clerk).get(f"/reception/visits/{visit.pk}/receipt.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    page = reader.pages[0]
    width_mm, height_mm = float(page.mediabox.width) / 72 * 25.4, float(page.mediabox.height) / 72 * 25.4
    assert round(width_mm) == 148 and round(height_mm) == 210
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    token = StatusLink.objects.get(case=case).token
    assert case.tracking_no in text and "受理回执" in text
    assert "已转 青川县人民法院 办理" in text and "办理期限" in text and token in text
    assert f"/reception/s/{case.tracking_no}/{token}/" in text
    assert "张*" in text and "张三" not in text
    assert len(page.images) == 1  # the QR code


def test_the_receipt_is_404_for_an_outsider(hall, client_for):
    visit = register(hall, Route.PETITION)
    for user in (hall.town_b_clerk, hall.town_a_dispatcher, hall.unit_staff):
        assert client_for(user).get(f"/reception/visits/{visit.pk}/receipt.pdf").status_code == 404
