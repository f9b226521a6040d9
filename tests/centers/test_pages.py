"""辖区概况 pages and the navigation: each user sees their own part of the county, by URL guessing too."""

from __future__ import annotations

import pytest
from django.urls import reverse

from centers import navigation
from tests.conftest import World

pytestmark = pytest.mark.django_db


def region_url(region) -> str:
    return reverse("centers:region", args=[region.pk])


def test_a_town_user_is_taken_straight_to_their_town(world: World, client_for) -> None:
    response = client_for(world.town_a_dispatcher).get(reverse("centers:regions"))
    assert response.status_code == 302
    assert response["Location"] == region_url(world.town_a)


def test_the_town_page_shows_its_villages_center_staff_and_units(world: World, client_for) -> None:
    page = client_for(world.town_a_dispatcher).get(region_url(world.town_a)).content.decode()
    assert "城关街道综治中心" in page
    assert "东门社区" in page and region_url(world.village_a) in page
    assert "王芳" in page  # the town's dispatcher
    assert "城关派出所" in page
    # Nothing of the neighbouring town, and no link up to the county they may not open.
    assert "白沙" not in page and "石桥村" not in page
    assert region_url(world.county) not in page


@pytest.mark.parametrize(
    "viewer, allowed, refused",
    [
        ("town_a_dispatcher", ["town_a", "village_a", "grid_a"], ["county", "town_b", "village_b", "grid_b"]),
        ("town_b_dispatcher", ["town_b", "village_b", "grid_b"], ["county", "town_a", "village_a", "grid_a"]),
        ("village_a_worker", ["village_a", "grid_a"], ["county", "town_a", "town_b", "village_b", "grid_b"]),
        ("unit_staff", [], ["county", "town_a", "village_a", "town_b"]),
        ("county_leader", ["county", "town_a", "town_b", "village_b", "grid_a"], []),
    ],
)
def test_opening_a_place_by_url_outside_the_jurisdiction_answers_404(
    world: World, client_for, viewer: str, allowed: list[str], refused: list[str]
) -> None:
    client = client_for(getattr(world, viewer))
    for name in allowed:
        assert client.get(region_url(getattr(world, name))).status_code == 200, name
    for name in refused:
        assert client.get(region_url(getattr(world, name))).status_code == 404, name
    assert client.get(reverse("centers:region", args=[10**9])).status_code == 404


def test_the_county_page_counts_grid_cells_per_town(world: World, client_for) -> None:
    response = client_for(world.county_leader).get(region_url(world.county))
    children = {c.name: c for c in response.context["children"]}
    assert set(children) == {"城关街道", "白沙镇"}
    assert children["城关街道"].grid_count == 1
    assert children["白沙镇"].grid_count == 1


def test_the_breadcrumb_stops_at_the_top_of_the_jurisdiction(world: World, client_for) -> None:
    response = client_for(world.town_a_dispatcher).get(region_url(world.grid_a))
    assert [r.name for r in response.context["ancestors"]] == ["城关街道", "东门社区"]
    response = client_for(world.county_leader).get(region_url(world.grid_a))
    assert [r.name for r in response.context["ancestors"]] == ["凤岭县", "城关街道", "东门社区"]


def test_unit_staff_see_their_unit_and_no_place(world: World, client_for) -> None:
    response = client_for(world.unit_staff).get(reverse("centers:regions"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "城关派出所" in page
    assert "白沙派出所" not in page


def test_the_navigation_shows_each_role_its_entries(world: World, client_for) -> None:
    page = client_for(world.town_a_dispatcher).get(region_url(world.town_a)).content.decode()
    assert 'aria-label="主导航"' in page
    assert "辖区概况" in page
    assert "系统管理" not in page  # not a staff account
    page = client_for(world.sysadmin).get(region_url(world.town_a)).content.decode()
    assert 'href="/admin/"' in page


def test_navigation_entries_are_filtered_by_role() -> None:
    navigation.register("测试专用：大屏", "admin:index", roles={"leadership"}, order=999)
    try:
        assert "测试专用：大屏" in [i.label for i in navigation.items_for({"leadership"})]
        assert "测试专用：大屏" not in [i.label for i in navigation.items_for({"window_clerk"})]
        assert "测试专用：大屏" in [i.label for i in navigation.items_for(set(), is_superuser=True)]
        assert "首页" in [i.label for i in navigation.items_for({"window_clerk"})]
    finally:
        navigation._items.pop("admin:index")
