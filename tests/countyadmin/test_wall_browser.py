"""The wall display in headless Chromium at 1920×1080, without signing in; revoked, it is 404."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from cases.models import Category
from countyadmin import wall
from dashboards import rollups

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_wall_display_opens_by_link_at_1920_by_1080_and_revoking_makes_it_404(
    aw, make_case, live_server, browser_page: Page, output_path
) -> None:
    make_case(region=aw.grid_a, category=Category.LABOUR, title="城关工地欠薪")
    make_case(region=aw.grid_a, has_casualty=True, title="城关交通事故伤人")
    make_case(region=aw.grid_b, by=aw.town_b_dispatcher, has_casualty=True, title="白沙伤人纠纷")
    rollups.refresh_all()
    link, token = wall.wall_link_create(by=aw.county_admin, region=aw.town_a, label="城关大屏")

    page = browser_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    response = page.goto(f"{live_server.url}/wall/{token}/")
    assert response.status == 200
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("城关街道综治中心指挥大屏")
    expect(page.locator("#kpi-open_total")).to_have_text("2")
    expect(page.locator("#red-ticker")).to_contain_text("城关交通事故伤人")
    expect(page.locator("#red-ticker")).not_to_contain_text("白沙伤人纠纷")
    assert page.context.cookies() == []  # nobody signed in, no session
    os.makedirs(output_path, exist_ok=True)
    shot = os.path.join(output_path, "wall-display-1920x1080.png")
    page.screenshot(path=shot)
    assert os.path.getsize(shot) > 30_000

    # The link opens nothing else: the rest of the application asks for a login.
    page.goto(f"{live_server.url}/cases/")
    assert "/accounts/login/" in page.url

    wall.wall_link_revoke(by=aw.county_admin, link=link, reason="设备更换")
    response = page.goto(f"{live_server.url}/wall/{token}/")
    assert response.status == 404
