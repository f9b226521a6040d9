"""The admin for the hierarchy and the people: every page renders, search and the town filter work,
and a town's staff administrator is held to their town like everywhere else."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from centers.jurisdiction import restrict
from centers.models import Center, Membership, Region, Role, Unit, User
from tests.conftest import World
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

MODELS = ("region", "center", "unit", "membership", "user")


def changelist(model: str) -> str:
    return reverse(f"admin:centers_{model}_changelist")


def change(obj) -> str:
    return reverse(f"admin:centers_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.fixture
def admin_client_(world: World, client_for) -> Client:
    return client_for(world.sysadmin)


@pytest.fixture
def town_admin(world: World) -> User:
    """A town A staff account with admin rights over centers, units, posts and users."""
    user = MembershipFactory(
        center=world.town_a_center, role=Role.DISPATCHER, user__username="town_a_admin"
    ).user
    user.is_staff = True
    user.save()
    codenames = [f"{action}_{model}" for model in MODELS for action in ("view", "change", "add")]
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="centers", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)


def test_every_hierarchy_and_people_page_renders_for_the_administrator(world: World, admin_client_) -> None:
    assert admin_client_.get(reverse("admin:index")).status_code == 200
    for model in MODELS:
        response = admin_client_.get(changelist(model))
        assert response.status_code == 200, model
        assert response.get("Content-Language", "zh-hans").startswith("zh")
    objects = [world.town_a, world.town_a_center, world.police_a, world.town_a_dispatcher]
    objects.append(Membership.objects.get(user=world.town_a_dispatcher))
    for obj in objects:
        assert admin_client_.get(change(obj)).status_code == 200, obj
    for model in MODELS:
        assert admin_client_.get(reverse(f"admin:centers_{model}_add")).status_code == 200, model


def test_the_region_tree_drills_down_level_by_level(world: World, admin_client_) -> None:
    page = admin_client_.get(changelist("region")).content.decode()
    assert "凤岭县" in page
    children = admin_client_.get(f"{changelist('region')}children/{world.county.pk}/")
    assert children.status_code == 200
    html = children.json()["result_html"]
    assert "城关街道" in html and "白沙镇" in html


def test_search_finds_people_by_name_and_places_by_code(world: World, admin_client_) -> None:
    users = admin_client_.get(changelist("user"), {"q": "王芳"}).context["cl"].result_list
    assert list(users) == [world.town_a_dispatcher]
    regions = admin_client_.get(changelist("region"), {"q": "430124100"}).context["cl"].result_list
    assert world.town_b in regions and world.town_a not in regions


def test_the_town_filter_narrows_every_list_to_one_town(world: World, admin_client_) -> None:
    town = {"town": str(world.town_a.pk)}
    result = {m: set(admin_client_.get(changelist(m), town).context["cl"].result_list) for m in MODELS}
    assert result["region"] == {world.town_a, world.village_a, world.grid_a}
    assert result["center"] == {world.town_a_center, world.village_a_center}
    assert result["unit"] == {world.police_a}
    assert result["user"] == {world.town_a_dispatcher, world.village_a_worker, world.unit_staff}
    assert {m.user for m in result["membership"]} == result["user"]
    # The filter offers the towns by name.
    filters = admin_client_.get(changelist("center")).content.decode()
    assert "所属乡镇（街道）" in filters and "城关街道（430124001）" in filters


def test_a_user_with_two_posts_in_the_town_is_listed_once(world: World, admin_client_) -> None:
    MembershipFactory(user=world.town_a_dispatcher, center=world.village_a_center, role=Role.MEDIATOR)
    users = admin_client_.get(changelist("user"), {"town": str(world.town_a.pk)}).context["cl"].result_list
    assert list(users).count(world.town_a_dispatcher) == 1


def test_a_town_administrator_lists_and_opens_only_their_town(
    world: World, town_admin: User, client_for
) -> None:
    client = client_for(town_admin)
    centers = set(client.get(changelist("center")).context["cl"].result_list)
    assert centers == {world.town_a_center, world.village_a_center}
    assert set(client.get(changelist("unit")).context["cl"].result_list) == {world.police_a}
    users = set(client.get(changelist("user")).context["cl"].result_list)
    assert users == {world.town_a_dispatcher, world.village_a_worker, world.unit_staff, town_admin}
    assert client.get(change(world.town_a_center)).status_code == 200
    # Town B's objects are "not there" (the admin redirects to its index with a message).
    for obj in (world.town_b_center, world.police_b, world.town_b_dispatcher, world.county_center):
        response = client.get(change(obj))
        assert response.status_code == 302, obj
        assert response["Location"] == reverse("admin:index")
    # The place tree is the system administrator's.
    assert client.get(changelist("region")).status_code == 403


def test_a_town_administrator_cannot_post_anyone_to_another_town(
    world: World, town_admin: User, client_for
) -> None:
    client = client_for(town_admin)
    response = client.post(
        reverse("admin:centers_membership_add"),
        {"user": town_admin.pk, "role": Role.DISPATCHER, "center": world.town_b_center.pk, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "center" in response.context["adminform"].form.errors
    assert not Membership.objects.filter(user=town_admin, center=world.town_b_center).exists()
    response = client.post(
        reverse("admin:centers_membership_add"),
        {
            "user": town_admin.pk,
            "role": Role.MEDIATOR,
            "center": world.village_a_center.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=town_admin, center=world.village_a_center).exists()


def test_autocomplete_for_centers_and_units_keeps_to_the_jurisdiction(
    world: World, town_admin: User, client_for
) -> None:
    client = client_for(town_admin)
    url = reverse("admin:autocomplete")
    params = {"app_label": "centers", "model_name": "membership", "field_name": "center"}
    found = {r["text"] for r in client.get(url, params).json()["results"]}
    assert found == {str(world.town_a_center), str(world.village_a_center)}
    params["field_name"] = "unit"
    assert {r["text"] for r in client.get(url, params).json()["results"]} == {str(world.police_a)}
    assert Center.objects.count() == 5 and Unit.objects.count() == 4


def test_moving_a_village_to_another_town_moves_its_jurisdiction(world: World, admin_client_) -> None:
    """Re-districting (区划调整): the village and its cells now answer to town B, not town A."""
    response = admin_client_.get(change(world.village_a))
    offered = set(response.context["adminform"].form.fields["treebeard_ref_node"].queryset)
    assert world.town_b in offered and world.grid_b not in offered  # cells have no children
    response = admin_client_.post(
        change(world.village_a),
        {
            "name": "东门社区",
            "kind": "village",
            "code": world.village_a.code,
            "is_urban": "on",
            "population": "0",
            "households": "0",
            "treebeard_position": "sorted-child",
            "treebeard_ref_node": str(world.town_b.pk),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    town_b_user = User.objects.get(pk=world.town_b_dispatcher.pk)
    town_a_user = User.objects.get(pk=world.town_a_dispatcher.pk)
    assert {world.village_a, world.grid_a} <= set(restrict(Region.objects.all(), town_b_user))
    assert not restrict(
        Region.objects.filter(pk__in=[world.village_a.pk, world.grid_a.pk]), town_a_user
    ).exists()
    assert Region.objects.find_problems() == ([], [], [], [], [])
