"""The wall display: one region's big screen through a long random link, without signing in."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from cases.models import Category
from cases.services import NotAllowed
from countyadmin import wall
from countyadmin.models import AdminAction, AdminLog, WallDisplayAccess, WallDisplayLink
from dashboards import rollups

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(aw, make_case):
    make_case(region=aw.grid_a, category=Category.LABOUR, title="城关工地欠薪")
    make_case(region=aw.grid_a, has_casualty=True, title="城关交通事故伤人")
    make_case(region=aw.grid_b, by=aw.town_b_dispatcher, has_casualty=True, title="白沙伤人纠纷")
    rollups.refresh_all()


def create(aw, region, label="城关大屏") -> tuple[WallDisplayLink, str]:
    return wall.wall_link_create(by=aw.county_admin, region=region, label=label, reason="指挥中心上墙")


def test_a_link_shows_only_its_regions_screen_without_a_login(aw, scene, client_for) -> None:
    link, token = create(aw, aw.town_a)
    assert len(token) >= 40 and WallDisplayLink.objects.get().token_hash != token  # only a hash is kept
    anonymous = Client()
    page = anonymous.get(f"/wall/{token}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "城关街道综治中心指挥大屏" in body and "返回工作台" not in body
    assert f"/wall/{token}/data/" in body
    assert settings.SESSION_COOKIE_NAME not in page.cookies  # no session, nothing to expire
    assert page["Referrer-Policy"] == "no-referrer" and "no-store" in page["Cache-Control"]

    data = anonymous.get(f"/wall/{token}/data/", {"region": aw.county.pk}).json()  # the query is ignored
    own = client_for(aw.town_a_leader).get(reverse("dashboards:screen_data")).json()
    assert data["root"] == own["root"] == {"id": aw.town_a.pk, "name": "城关街道", "kind": "town"}
    assert data["kpi"] == own["kpi"] and data["open_by_area"] == own["open_by_area"]
    titles = {r["title"] for r in data["red_ticker"]}
    assert "城关交通事故伤人" in titles and "白沙伤人纠纷" not in titles
    geo = anonymous.get(f"/wall/{token}/map.json").json()
    assert [f["properties"]["name"] for f in geo["features"]] == ["东门社区"]

    assert WallDisplayAccess.objects.filter(link=link, what="page").count() == 1
    link.refresh_from_db()
    assert link.requests == 1 and link.last_used_at is not None
    assert AdminLog.objects.filter(action=AdminAction.WALL_DISPLAY, by=aw.county_admin).count() == 1


def test_the_token_opens_nothing_else(aw, scene) -> None:
    _, token = create(aw, aw.town_a)
    c = Client()
    c.get(f"/wall/{token}/")
    for url in (
        "/",
        "/cases/",
        reverse("dashboards:screen"),
        reverse("dashboards:screen_data"),
        "/admin-county/accounts/",
    ):
        response = c.get(url, {"token": token})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    for header in (f"Token {token}", f"Bearer {token}"):
        assert c.get("/api/v1/cases/", HTTP_AUTHORIZATION=header).status_code in (401, 403)
    assert c.get("/api/v1/cases/").status_code in (401, 403)
    # Read-only: no other method.
    assert c.post(f"/wall/{token}/").status_code == 405
    assert c.post(f"/wall/{token}/data/").status_code == 405
    # A made-up or truncated token is not there.
    assert c.get(f"/wall/{token[:-1]}x/").status_code == 404
    assert c.get("/wall/x/data/").status_code == 404


def test_a_revoked_link_is_404_and_the_refusal_is_logged(aw, scene, client_for) -> None:
    link, token = create(aw, aw.county, label="县主屏")
    assert Client().get(f"/wall/{token}/").status_code == 200
    response = client_for(aw.county_admin).post(
        reverse("countyadmin:wall_links"), {"op": "revoke", "link": link.pk, "revoke-reason": "设备更换"}
    )
    assert response.status_code == 302
    for url in (f"/wall/{token}/", f"/wall/{token}/data/", f"/wall/{token}/map.json"):
        assert Client().get(url).status_code == 404
    assert WallDisplayAccess.objects.filter(link=link, what="refused").count() == 1
    assert AdminLog.objects.filter(action=AdminAction.WALL_DISPLAY, reason="设备更换").exists()
    link.refresh_from_db()
    assert link.revoked_by == aw.county_admin


def test_only_the_county_creates_links_and_the_link_is_shown_once(aw, client_for) -> None:
    county = client_for(aw.county_admin)
    response = county.post(
        reverse("countyadmin:wall_links"), {"op": "create", "region": aw.town_b.pk, "label": "白沙大屏"}
    )
    assert response.status_code == 200
    url = response.context["new_url"]
    assert "/wall/" in url and url in response.content.decode()
    listing = county.get(reverse("countyadmin:wall_links")).content.decode()
    assert "白沙大屏" in listing and url not in listing  # never shown again
    assert client_for(aw.town_a_leader).get(reverse("countyadmin:wall_links")).status_code == 403
    with pytest.raises(NotAllowed):
        wall.wall_link_create(by=aw.town_a_leader, region=aw.town_a, label="x")
    # A village has no big screen.
    bad = county.post(
        reverse("countyadmin:wall_links"), {"op": "create", "region": aw.village_a.pk, "label": "村"}
    )
    assert bad.status_code == 400
