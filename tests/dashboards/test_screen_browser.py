"""The big screen in headless Chromium at 1920×1080: the charts draw, the figures shown are the
database's, a screenshot is kept, and new data arrives without a page reload."""

from __future__ import annotations

import os

import pytest
from django.db.models import Q
from django.utils import timezone
from playwright.sync_api import Page, expect

from cases import metrics
from cases.models import Case, CaseKind, Category, Channel, Satisfaction, WarningLevel
from dashboards import safety
from tests.conftest import sign_in_browser
from tests.dashboards.conftest import resolve_and_close

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ["chart-intake", "chart-categories", "chart-map", "chart-trend", "chart-open", "chart-grid"]


def series_data(page: Page, chart_id: str) -> list:
    return page.evaluate(
        """id => echarts.getInstanceByDom(document.getElementById(id)).getOption().series
                 .map(s => s.data.map(d => (d !== null && typeof d === 'object') ? d.value : d))""",
        chart_id,
    )


def test_big_screen_draws_the_databases_figures_at_1920_by_1080_and_refreshes_in_place(
    dw, register, refresh, live_server, browser_page: Page, output_path, settings
):
    settings.DASHBOARD_REFRESH_SECONDS = 1
    for i in range(3):
        register(region=dw.grid_a, category=Category.LABOUR, channel=Channel.VISIT, title=f"工地欠薪{i}")
    register(
        region=dw.grid_a, kind=CaseKind.PETITION, channel=Channel.ONLINE, people_count=7, title="集体上访"
    )
    register(region=dw.grid_b, has_casualty=True, category=Category.TRAFFIC, title="交通事故伤人纠纷")
    register(region=dw.grid_b, channel=Channel.POLICE_110, category=Category.NEIGHBOUR)
    resolve_and_close(dw, register(region=dw.grid_b, category=Category.FAMILY), Satisfaction.SATISFIED)
    refresh()
    safety.compute_current()

    page = browser_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in_browser(page, live_server, dw.county_leader)
    page.goto(f"{live_server.url}/dashboards/screen/")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    page.evaluate("window.__noReload = 'still here'")

    today = timezone.localdate()
    year = metrics.Period.from_dates(today.replace(month=1, day=1), today)
    day = metrics.Period.from_dates(today, today)
    db = Case.objects.aggregate(
        today=metrics.received_count(period=day),
        open=metrics.open_count(),
        red=metrics.open_count(colour=WarningLevel.RED),
        yellow=metrics.open_count(colour=WarningLevel.YELLOW),
        green=metrics.open_count(colour=WarningLevel.GREEN),
        rate=metrics.resolution_rate(period=year),
    )
    expect(page.locator("#kpi-today_received")).to_have_text(str(db["today"]))
    expect(page.locator("#kpi-open_total")).to_have_text(str(db["open"]))
    expect(page.locator("#kpi-open_red")).to_have_text(str(db["red"]))
    expect(page.locator("#kpi-open_green")).to_have_text(str(db["green"]))
    expect(page.locator("#kpi-resolution_rate")).to_have_text(f"{db['rate']:.1f}%")
    expect(page.locator("#freshness")).to_contain_text("数据截至")

    # Every chart drew; the open-by-colour bars are the database's per town.
    for chart_id in CHARTS:
        assert page.evaluate("id => !!echarts.getInstanceByDom(document.getElementById(id))", chart_id), (
            chart_id
        )
    towns = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-open')).getOption().xAxis[0].data"
    )
    assert towns == ["城关街道", "白沙镇"]
    red, yellow, green = series_data(page, "chart-open")
    for i, town in enumerate([dw.town_a, dw.town_b]):
        per_town = Case.objects.filter(town=town).aggregate(
            r=metrics.open_count(colour=WarningLevel.RED),
            y=metrics.open_count(colour=WarningLevel.YELLOW),
            g=metrics.open_count(colour=WarningLevel.GREEN),
        )
        assert (red[i], yellow[i], green[i]) == (per_town["r"], per_town["y"], per_town["g"])
    intake = series_data(page, "chart-intake")[0]
    assert sum(intake) == db["today"]
    assert sorted(series_data(page, "chart-map")[0]) == sorted(
        float(v)
        for v in safety.SafetyIndex.objects.filter(
            region__in=[dw.town_a, dw.town_b], period_kind="month", period_start=today.replace(day=1)
        ).values_list("value", flat=True)
    )
    expect(page.locator("#red-ticker li")).to_have_count(
        Case.objects.filter(metrics.open_q(), warning_level="red").count()
    )
    expect(page.locator("#red-ticker")).to_contain_text("交通事故伤人纠纷")
    expect(page.locator("#red-ticker")).to_contain_text("有人员伤亡")

    os.makedirs(output_path, exist_ok=True)
    shot = os.path.join(output_path, "big-screen-1920x1080.png")
    page.screenshot(path=shot, full_page=False)
    assert os.path.getsize(shot) > 50_000

    # A new matter arrives; after the rollup refresh the screen shows it without a reload.
    register(region=dw.grid_b, channel=Channel.HOTLINE_12345, title="新来电")
    refresh()
    expect(page.locator("#kpi-today_received")).to_have_text(str(db["today"] + 1), timeout=15_000)
    assert page.evaluate("window.__noReload") == "still here"
    assert Case.objects.filter(Q(title="新来电")).exists()
