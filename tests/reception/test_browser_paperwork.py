"""In the browser: a clerk books a visitor into a leader's reception slot and the leader records the
instruction; a petition officer issues a 不予受理告知书 whose PDF is read back and whose date stops
the acceptance clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from cases.models import LeaderInstruction, Status, TimelineEntry
from petitions.models import Acceptance, Petition, PetitionDocument
from reception import services
from reception.models import BookingStatus, LeaderBooking, Route
from reception.services import RouteOptions, visit_register
from tests.conftest import sign_in_browser
from tests.reception.conftest import idn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _petition_visit(hall, number: str):
    return visit_register(
        by=hall.clerk,
        center=hall.center,
        region=hall.village_a,
        route=Route.PETITION,
        options=RouteOptions(),
        window=hall.w1,
        name="王秀兰",
        id_number=number,
        phone="13907310066",
        matter="征地补偿款未发放",
    )


def test_clerk_books_a_leader_slot_and_the_leader_records_the_instruction(
    hall, live_server, browser_page: Page
):
    page = browser_page
    number = idn("19700101", "321")
    earlier = _petition_visit(hall, number)
    case = earlier.cases.get()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    slot = services.leader_slot_create(
        by=hall.supervisor,
        center=hall.center,
        leader=hall.county_leader,
        date=tomorrow,
        starts_at=dt.time(9),
        ends_at=dt.time(11, 30),
        topics="征地拆迁",
        place="三楼领导接待室",
    )

    # The clerk finds the day on the calendar (linked from the navigation) and books the visitor.
    sign_in_browser(page, live_server, hall.clerk)
    page.goto(f"{live_server.url}/reception/")
    page.get_by_role("link", name="领导接访日").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("领导接访日")
    page.get_by_role("link", name=tomorrow.strftime("%Y-%m-%d")).click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=1)).to_contain_text("领导接访")
    page.get_by_label("身份证号码").focus()
    kb = page.keyboard
    kb.type(number)
    kb.press("Tab")  # phone: not needed
    kb.press("Tab")
    kb.type("XX")  # a wrong tracking number first: a field error in Chinese
    kb.press("Enter")
    page.wait_for_load_state("load")
    expect(page.locator("#book-form .error")).to_contain_text("没有该受理编号的事项")
    page.get_by_label("事项受理编号").fill(case.tracking_no)
    page.get_by_label("事项受理编号").press("Enter")
    page.wait_for_load_state("load")
    expect(page.locator(".messages")).to_contain_text("已预约：王秀兰")
    booking = LeaderBooking.objects.get()
    assert booking.slot == slot and booking.case == case and booking.appointment is not None
    visitor = page.locator(f"#booking-{booking.pk}")
    expect(visitor).to_contain_text(case.tracking_no)
    expect(visitor.locator(".earlier-visits")).to_contain_text("征地补偿款未发放")

    # The day comes; the leader opens the page and records the instruction for the visitor.
    slot.date = timezone.localdate()
    slot.save()
    page.context.clear_cookies()
    sign_in_browser(page, live_server, hall.county_leader)
    page.goto(f"{live_server.url}/reception/leader-days/{slot.pk}/")
    page.wait_for_load_state("load")
    visitor = page.locator(f"#booking-{booking.pk}")
    expect(visitor.locator(".open-cases")).to_contain_text(case.tracking_no)
    box = visitor.get_by_label("领导批示（接访处理意见）")
    box.fill("责成县自然资源局十日内核实补偿款发放情况并答复")
    visitor.get_by_role("button", name="记录批示").click()
    page.wait_for_load_state("load")
    expect(page.locator(f"#booking-{booking.pk} .instruction")).to_contain_text("责成县自然资源局")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.RECEIVED
    instruction = LeaderInstruction.objects.get(case=case)
    assert instruction.leader == hall.county_leader and booking.instruction == instruction
    assert case.timeline.filter(action="leader_instruction", comment__contains="十日内核实").exists()


def test_officer_issues_a_decline_notice_whose_date_stops_the_acceptance_clock(
    hall, live_server, browser_page: Page, tmp_path
):
    page = browser_page
    visit = _petition_visit(hall, idn("19660606", "654"))
    case = visit.cases.get()
    due = case.due_at
    assert case.status == Status.REGISTERED and due is not None

    sign_in_browser(page, live_server, hall.county_dispatcher)
    page.goto(f"{live_server.url}/petitions/{case.pk}/")
    page.wait_for_load_state("load")
    summary = page.locator("summary", has_text="不予受理（出具告知书）")
    summary.focus()
    page.keyboard.press("Enter")  # opens the form
    form = page.locator("form", has=page.get_by_role("button", name="确认不予受理（出具告知书）"))
    form.get_by_label("不予受理理由").fill("该事项已由人民法院作出生效判决")
    form.get_by_role("button", name="确认不予受理（出具告知书）").click()
    page.wait_for_load_state("load")
    expect(page.locator(".issued-documents")).to_contain_text("不予受理告知书")

    with page.expect_download() as info:
        page.locator(".issued-documents a", has_text="不予受理告知书").click()
    path = tmp_path / "notice.pdf"
    info.value.save_as(path)
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(path).pages)

    doc = PetitionDocument.objects.get()
    petition = Petition.objects.select_related("case").get(pk=case.pk)
    assert "不予受理告知书" in text and doc.number in text and case.tracking_no in text
    assert "理由：该事项已由人民法院作出生效判决" in text and "救济途径" in text
    assert timezone.localtime(doc.issued_at).strftime("%Y年%m月%d日") in text
    # The notice's date is when the acceptance clock stopped.
    assert petition.acceptance == Acceptance.DECLINED and petition.decided_at == doc.issued_at
    assert petition.case.status == Status.CLOSED and petition.case.closed_at == doc.issued_at
    assert petition.case.due_at is None and petition.case.closed_on_time is True
    step = TimelineEntry.objects.get(case=case, action="petition_decline")
    assert step.at == doc.issued_at and step.step_due_at == due and step.met_deadline is True
