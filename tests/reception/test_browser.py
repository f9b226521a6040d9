"""A clerk registers a visitor with the keyboard alone, prints the receipt, and meets the visitor again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from reception.models import Route, Visit
from tests.factories import TEST_PASSWORD
from tests.reception.conftest import idn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_keyboard_only_registration_to_receipt_then_the_returning_visitor_is_offered(
    hall,
    live_server,
    browser_page: Page,
    tmp_path,
) -> None:
    page = browser_page
    number = idn("19780909", "246")
    kb = page.keyboard
    # Sign in: the username field has the focus.
    page.goto(f"{live_server.url}/")
    expect(page.locator("input[name=username]")).to_be_focused()
    kb.type("clerk")
    kb.press("Tab")
    kb.type(TEST_PASSWORD)
    kb.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("窗口工作台")
    # Key handlers are attached by scripts at the end of the page: wait for them before pressing.
    page.wait_for_load_state("load")
    # Alt+N: register without a queue number. The ID field has the focus.
    kb.press("Alt+n")
    expect(page.get_by_role("heading", level=1)).to_contain_text("来访登记")
    page.wait_for_load_state("load")
    expect(page.locator("input[name=id_number]")).to_be_focused()
    kb.type(number)
    kb.press("Tab")
    kb.type("+86 139 0731 0001")
    kb.press("Tab")
    kb.type("李秀英")
    kb.press("Tab")
    kb.type("东门社区幸福路8号")
    expect(page.locator("#returning-hint")).to_contain_text("首次来访")
    kb.press("Alt+m")
    kb.type("小区物业长期不维修电梯")
    kb.press("Alt+r")
    kb.type("2")  # "2 信访事项"
    expect(page.locator("select[name=route]")).to_have_value(Route.PETITION)
    kb.press("Control+Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("来访登记完成")
    page.wait_for_load_state("load")
    visit = Visit.objects.get()
    case = visit.cases.get()
    expect(page.get_by_text(case.tracking_no)).to_be_visible()
    # The print link has the focus (Enter opens the A5 PDF to print); Alt+S saves it.
    expect(page.locator("#receipt-link")).to_be_focused()
    with page.expect_download() as download_info:
        kb.press("Alt+s")
    path = tmp_path / "receipt.pdf"
    download_info.value.save_as(path)
    text = "".join(p.extract_text() for p in PdfReader(path).pages).replace("\n", "")
    assert "群众来访受理回执" in text and case.tracking_no in text
    assert "信访事项已登记" in text, text
    assert "办理期限" in text and "进度查询码" in text, text
    assert "李**" in text and "李秀英" not in text

    # The same visitor comes back: Alt+N from the visit page, type the ID number only.
    kb.press("Alt+n")
    expect(page.get_by_role("heading", level=1)).to_contain_text("来访登记")
    page.wait_for_load_state("load")
    expect(page.locator("input[name=id_number]")).to_be_focused()
    kb.type(number)
    who = page.locator("#returning-who")
    expect(who).to_contain_text("再次来访：李秀英")
    expect(page.locator(".earlier-visits")).to_contain_text("小区物业长期不维修电梯")
    expect(page.locator(".open-cases")).to_contain_text(case.tracking_no)
    expect(page.locator("input[name=name]")).to_have_value("李秀英")  # filled from the record
    kb.press("Alt+a")  # join the open matter
    expect(page.locator("input[name=attach]").first).to_be_checked()
    kb.press("Alt+r")
    kb.type("9")  # "9 并入已有事项"
    kb.press("Alt+m")
    kb.type("询问电梯维修进度")
    kb.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("来访登记完成")
    second = Visit.objects.exclude(pk=visit.pk).get()
    assert second.person_id == visit.person_id
    assert list(second.visit_cases.values_list("case_id", "opened")) == [(case.pk, False)]
