"""A grid worker on a 390×844 phone logs a visit with a photo and reports a dispute, which the village
station then finds in its queue with the grid and the reporter filled in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case, CaseKind, Channel
from grids.models import HouseholdVisit
from tests.conftest import sign_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _fits_the_screen(page: Page) -> None:
    """Nothing wider than the phone (no sideways scrolling) and thumb-sized buttons."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    heights = page.eval_on_selector_all(
        "main button[type=submit], .bigbuttons a", "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 44, heights


def test_phone_logs_a_visit_and_reports_a_dispute_that_reaches_the_village_queue(
    gw, live_server, browser_page: Page, tmp_path
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    photo = tmp_path / "door.png"
    from PIL import Image

    Image.new("RGB", (1200, 900), (120, 160, 200)).save(photo)

    sign_in_browser(page, live_server, gw.grid_worker_a)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("今日任务")
    _fits_the_screen(page)

    # 入户走访 with a photo from the camera.
    page.locator("#go-visit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("记录入户走访")
    _fits_the_screen(page)
    page.get_by_label("户主/住户").fill("李大爷")
    page.get_by_label("门牌地址").fill("东门社区幸福路5栋2单元")
    page.get_by_label("无异常").check()
    page.get_by_label("现场照片").set_input_files(str(photo))
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("今日任务")
    expect(page.locator(".messages")).to_contain_text("已记录走访：李大爷")
    expect(page.locator("#visits-today")).to_have_text("1")
    visit = HouseholdVisit.objects.get()
    assert visit.grid == gw.grid_a and visit.worker == gw.grid_worker_a and visit.photo

    # 上报纠纷.
    page.locator("#go-dispute").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("上报矛盾纠纷")
    _fits_the_screen(page)
    page.get_by_label("纠纷类别").select_option(label="邻里纠纷")
    page.get_by_label("纠纷摘要").fill("5栋李大爷与楼上住户漏水纠纷")
    page.get_by_label("详细情况").fill("楼上卫生间漏水三个月，协商未果")
    page.get_by_label("涉及人数").fill("2")
    page.get_by_label("当事人姓名").fill("李大爷")
    page.get_by_role("button", name="上报").click()
    case = Case.objects.get()
    expect(page.get_by_role("heading", level=1)).to_have_text("5栋李大爷与楼上住户漏水纠纷")
    expect(page.locator(".messages")).to_contain_text(case.tracking_no)
    assert case.kind == CaseKind.DISPUTE and case.channel == Channel.GRID
    assert case.region == gw.grid_a and case.registered_by == gw.grid_worker_a
    assert case.owning_center == gw.c_village_a and case.level == "village"
    _fits_the_screen(page)

    # The village station's queue shows it, with the grid and the reporter.
    page.context.clear_cookies()
    sign_in_browser(page, live_server, gw.village_a_worker)
    page.goto(f"{live_server.url}/cases/queue/")
    row = page.locator("tr.case-row", has_text=case.tracking_no)
    expect(row).to_be_visible()
    expect(row).to_contain_text("网格上报")
    expect(row).to_contain_text("第1网格")
    expect(row).to_contain_text("上报人：陈静")
