"""The work queue and case page in a real browser (Debian's Chromium, headless)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_village_dispatcher_accepts_and_assigns_a_case_from_the_queue(cw, make_case, browser_page):  # noqa: F811
    page = browser_page
    other = make_case(title="路灯损坏", by=cw.town_a_dispatcher)
    case = make_case(title="楼上漏水纠纷", by=cw.town_a_dispatcher, risk_note="双方争吵")

    page.goto("/accounts/login/")
    page.fill("#id_username", "village_a_staff")
    page.fill("#id_password", TEST_PASSWORD)
    page.press("#id_password", "Enter")

    # The dispatcher lands on the queue: the yellow case above the green one.
    expect(page).to_have_url(re.compile(r"/cases/queue/$"))
    rows = page.locator("table.cases tbody tr")
    expect(rows.first).to_contain_text(case.tracking_no)
    expect(rows.first).to_contain_text("风险迹象：双方争吵")
    expect(rows.nth(1)).to_contain_text(other.tracking_no)
    expect(rows.first.locator(".clock")).to_contain_text(re.compile(r"还剩 \d+"))

    page.get_by_role("link", name=case.tracking_no).click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    expect(page.locator("#status")).to_contain_text("待受理")

    page.locator("#action-accept button").click()
    expect(page.locator(".messages")).to_contain_text("已受理")
    expect(page.locator("#status")).to_contain_text("已受理")
    expect(page.locator("#timeline li").first).to_contain_text("陈东湖 受理")

    page.locator("#action-assign summary").click()
    page.select_option("#id_assign-users", [str(cw.village_a_worker.pk)])
    page.fill("#id_assign-comment", "请今天上门了解情况")
    page.get_by_role("button", name="确认交办").click()

    expect(page.locator(".messages")).to_contain_text("已交办")
    expect(page.locator("#status")).to_contain_text("已交办")
    expect(page.locator("#assignments")).to_contain_text("陈东湖（承办人）")
    first = page.locator("#timeline li").first
    expect(first).to_contain_text("交办给 陈东湖（承办人）")
    expect(first).to_contain_text("请今天上门了解情况")
    expect(first).to_contain_text("已受理 → 已交办")
