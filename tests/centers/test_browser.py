"""The sign-in a clerk does every morning, in a real browser (headless Chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World, sign_in_browser
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clerk_signs_in_with_the_keyboard_and_out_again(
    world: World, live_server, browser_page: Page
) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    # The username field has the focus: type, tab, type, Enter.
    page.keyboard.type("town_a_dispatcher")
    page.keyboard.press("Tab")
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator(".topbar .me")).to_have_text("王芳")
    expect(page.locator(".topbar .where")).to_have_text("城关街道综治中心")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="辖区概况").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("城关街道")
    expect(page.get_by_role("link", name="东门社区")).to_be_visible()
    expect(page.get_by_text("白沙镇")).to_have_count(0)
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")


def test_a_wrong_password_is_answered_in_chinese(world: World, live_server, browser_page: Page) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("town_a_dispatcher")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("正确的")


def test_a_signed_in_browser_session_opens_only_its_own_town(
    world: World, live_server, browser_page: Page
) -> None:
    page = browser_page
    sign_in_browser(page, live_server, world.town_b_dispatcher)
    response = page.goto(f"{live_server.url}/centers/regions/{world.town_a.pk}/")
    assert response is not None and response.status == 404
    response = page.goto(f"{live_server.url}/centers/regions/{world.town_b.pk}/")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("白沙镇")
