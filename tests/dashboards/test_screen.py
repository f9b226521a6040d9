"""The big screen's page, data endpoint and map: figures equal the base tables, and each leader
sees only their jurisdiction ("not yours" answers 404 like "not there")."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cases import metrics, services
from cases.models import Case, CaseKind, Category, Channel, Satisfaction, WarningLevel
from centers import navigation
from centers.models import Role
from dashboards import safety
from tests.dashboards.conftest import owner, resolve_and_close

pytestmark = pytest.mark.django_db

DATA = reverse("dashboards:screen_data")


@pytest.fixture
def scene(dw, register, refresh):
    """Matters in both towns this year and last year, some red, some closed; rollups refreshed."""
    now = timezone.now()
    last_year = now - dt.timedelta(days=366)
    with time_machine.travel(last_year, tick=False):
        for _ in range(4):
            register(region=dw.grid_a, kind=CaseKind.PETITION, channel=Channel.ONLINE)
        register(region=dw.grid_a, channel=Channel.POLICE_110)
    a1 = register(region=dw.grid_a, category=Category.LABOUR, channel=Channel.VISIT)
    register(region=dw.grid_a, category=Category.LABOUR, channel=Channel.HOTLINE_12345)
    register(
        region=dw.grid_a, kind=CaseKind.PETITION, channel=Channel.ONLINE, people_count=9, title="集体讨薪"
    )
    register(region=dw.grid_a, channel=Channel.POLICE_110, category=Category.NEIGHBOUR)
    resolve_and_close(dw, a1, Satisfaction.SATISFIED)
    b_red = register(region=dw.grid_b, has_casualty=True, title="白沙镇伤人纠纷", category=Category.LAND)
    b2 = register(region=dw.grid_b, category=Category.FAMILY, channel=Channel.GRID)
    case = services.case_accept(case=b2, by=owner(dw, b2))
    case = services.case_start(case=case, by=owner(dw, case))
    case = services.case_fail(case=case, by=owner(dw, case), comment="调解不成")
    services.case_close(case=case, by=owner(dw, case), satisfaction=Satisfaction.UNSATISFIED)
    refresh()
    safety.compute_current()
    return {"b_red": b_red}


def figures_from_base(area_q) -> dict:
    """What the screen must show, computed from Case with cases.metrics."""
    today = timezone.localdate()
    year = metrics.Period.from_dates(today.replace(month=1, day=1), today)
    day = metrics.Period.from_dates(today, today)
    qs = Case.objects.filter(area_q)
    return qs.aggregate(
        today_received=metrics.received_count(period=day),
        open_total=metrics.open_count(),
        open_red=metrics.open_count(colour=WarningLevel.RED),
        open_yellow=metrics.open_count(colour=WarningLevel.YELLOW),
        open_green=metrics.open_count(colour=WarningLevel.GREEN),
        ytd_received=metrics.received_count(period=year),
        ytd_resolved=metrics.resolved_count(period=year),
        resolution_rate=metrics.resolution_rate(period=year),
        mediation_success_rate=metrics.mediated_case_success_rate(period=year),
    )


def test_county_screen_shows_the_base_tables_figures(dw, scene, client_for):
    from django.db.models import Q

    data = client_for(dw.county_leader).get(DATA).json()
    k = data["kpi"]
    expected = figures_from_base(Q())
    for key, value in expected.items():
        if isinstance(value, float):
            assert k[key] == pytest.approx(value), key
        else:
            assert k[key] == value, key
    # Petitions: 1 this year vs 4 last year to date; 110: 1 vs 1.
    assert (k["petitions_ytd"], k["petitions_last_ytd"]) == (1, 4)
    assert k["petitions_yoy"] == pytest.approx(metrics.change_rate(1, 4)) == pytest.approx(-75.0)
    assert (k["police_ytd"], k["police_last_ytd"], k["police_yoy"]) == (1, 1, 0.0)
    assert {r["area"] for r in data["open_by_area"]} == {"城关街道", "白沙镇"}
    red_numbers = {r["tracking_no"] for r in data["red_ticker"]}
    assert scene["b_red"].tracking_no in red_numbers
    assert any("有人员伤亡" in "".join(r["reasons"]) for r in data["red_ticker"])
    assert {c["label"] for c in data["categories"]} >= {"劳动争议（欠薪）"}
    assert sum(c["n"] for c in data["intake_today"]) == k["today_received"]
    assert data["rollup"]["age_seconds"] is not None and data["rollup"]["age_seconds"] < 60
    assert {m["name"] for m in data["safety_map"]} == {"城关街道", "白沙镇"}
    assert all(m["value"] is not None for m in data["safety_map"])


def test_town_leader_sees_only_their_town(dw, scene, client_for):
    from django.db.models import Q

    c = client_for(dw.town_a_leader)
    data = c.get(DATA).json()
    assert data["root"]["name"] == "城关街道"
    k = data["kpi"]
    expected = figures_from_base(Q(town=dw.town_a))
    assert k["open_total"] == expected["open_total"]
    assert k["ytd_received"] == expected["ytd_received"] < figures_from_base(Q())["ytd_received"]
    assert [r["area"] for r in data["open_by_area"]] == ["城关街道"]
    assert scene["b_red"].tracking_no not in {r["tracking_no"] for r in data["red_ticker"]}
    assert all(r["town"] == "城关街道" for r in data["red_ticker"])
    assert [m["name"] for m in data["safety_map"]] == ["东门社区"]
    # Asking for the neighbour's screen, data or map: 404, as for a place that does not exist.
    assert c.get(DATA, {"region": dw.town_b.pk}).status_code == 404
    assert c.get(reverse("dashboards:screen"), {"region": dw.town_b.pk}).status_code == 404
    assert c.get(reverse("dashboards:screen_map", args=[dw.town_b.pk])).status_code == 404
    assert c.get(DATA, {"region": 999999}).status_code == 404
    # Their own map holds their villages only.
    geo = c.get(reverse("dashboards:screen_map", args=[dw.town_a.pk])).json()
    assert [f["properties"]["name"] for f in geo["features"]] == ["东门社区"]


def test_village_stations_and_departments_have_no_screen(dw, scene, client_for):
    for user in (dw.village_a_worker, dw.unit_staff, dw.mediator):
        c = client_for(user)
        page = c.get(reverse("dashboards:screen"))
        assert page.status_code == 404
        assert "仅供县、乡镇两级" in page.content.decode()
        assert c.get(DATA).status_code == 404


def test_county_map_is_a_generated_geojson_of_its_towns(dw, client_for):
    geo = client_for(dw.county_leader).get(reverse("dashboards:screen_map", args=[dw.county.pk])).json()
    assert geo["type"] == "FeatureCollection"
    names = [f["properties"]["name"] for f in geo["features"]]
    assert names == ["城关街道", "白沙镇"]
    for f in geo["features"]:
        ring = f["geometry"]["coordinates"][0]
        assert f["geometry"]["type"] == "Polygon" and len(ring) >= 4 and ring[0] == ring[-1]


def test_the_page_loads_vendored_echarts_and_is_in_the_leaders_navigation(dw, client_for):
    page = client_for(dw.county_leader).get(reverse("dashboards:screen"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "/static/vendor/echarts/echarts.min.js" in html and "cdn" not in html.lower()
    assert "凤岭县综治中心指挥大屏" in html
    labels = {i.label for i in navigation.items_for({Role.LEADERSHIP})}
    assert "指挥大屏" in labels
    assert "指挥大屏" not in {i.label for i in navigation.items_for({Role.GRID_WORKER})}
    # Leadership lands on the screen.
    assert client_for(dw.county_leader).get("/").url == reverse("dashboards:screen")


def test_data_endpoint_needs_a_login(client):
    r = client.get(DATA)
    assert r.status_code == 302 and "/accounts/login/" in r.url
