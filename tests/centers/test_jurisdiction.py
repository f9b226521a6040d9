"""The jurisdiction gate over every model of the hierarchy: who sees which region, center, unit, post.

The matrix lists, per viewer, exactly what they may read; every other object must be absent from
their lists and answer 404 when opened by primary key (URL guessing included).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.http import Http404
from guardian.shortcuts import assign_perm

from centers.jurisdiction import get_for_user_or_404, restrict
from centers.models import Center, Membership, Region, Unit, User
from centers.services import membership_end
from tests.conftest import World

pytestmark = pytest.mark.django_db

MODELS = (Region, Center, Unit, Membership)


def visible(world: World, viewer: str) -> dict[type, set[int]]:
    """What `viewer` may read in the world, written out by hand."""
    w = world
    everything = {m: set(m.objects.values_list("pk", flat=True)) for m in MODELS}

    def posts(*users: User) -> set[int]:
        return set(Membership.objects.filter(user__in=users).values_list("pk", flat=True))

    table = {
        "county_dispatcher": everything,
        "county_leader": everything,
        "sysadmin": everything,
        "town_a_dispatcher": {
            Region: {w.town_a.pk, w.village_a.pk, w.grid_a.pk},
            Center: {w.town_a_center.pk, w.village_a_center.pk},
            Unit: {w.police_a.pk},
            Membership: posts(w.town_a_dispatcher, w.village_a_worker, w.unit_staff),
        },
        "town_b_dispatcher": {
            Region: {w.town_b.pk, w.village_b.pk, w.grid_b.pk},
            Center: {w.town_b_center.pk, w.village_b_center.pk},
            Unit: {w.police_b.pk},
            Membership: posts(w.town_b_dispatcher),
        },
        "village_a_worker": {
            Region: {w.village_a.pk, w.grid_a.pk},
            Center: {w.village_a_center.pk},
            Unit: set(),
            Membership: posts(w.village_a_worker),
        },
        # Unit staff and the bureau's mediator see their unit and the posts in it, no place.
        "unit_staff": {Region: set(), Center: set(), Unit: {w.police_a.pk}, Membership: posts(w.unit_staff)},
        "mediator": {
            Region: set(),
            Center: set(),
            Unit: {w.justice_bureau.pk},
            Membership: posts(w.mediator),
        },
    }
    return table[viewer]


VIEWERS = [
    "county_dispatcher",
    "county_leader",
    "sysadmin",
    "town_a_dispatcher",
    "town_b_dispatcher",
    "village_a_worker",
    "unit_staff",
    "mediator",
]


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_viewer_lists_exactly_their_jurisdiction(world: World, viewer: str, model: type) -> None:
    user = getattr(world, viewer)
    listed = set(restrict(model.objects.all(), user).values_list("pk", flat=True))
    assert listed == visible(world, viewer)[model]


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_opening_an_object_outside_the_jurisdiction_answers_404(
    world: World, viewer: str, model: type
) -> None:
    user = getattr(world, viewer)
    allowed = visible(world, viewer)[model]
    for pk in model.objects.values_list("pk", flat=True):
        if pk in allowed:
            assert get_for_user_or_404(model, user, pk=pk).pk == pk
        else:
            with pytest.raises(Http404):
                get_for_user_or_404(model, user, pk=pk)


def test_town_a_cannot_open_any_town_b_object_and_vice_versa(world: World) -> None:
    """The headline of the matrix, spelled out: neighbouring towns never see each other."""
    town_b_objects = [
        world.town_b,
        world.village_b,
        world.grid_b,
        world.town_b_center,
        world.village_b_center,
        world.police_b,
        *Membership.objects.filter(user=world.town_b_dispatcher),
    ]
    for obj in town_b_objects:
        with pytest.raises(Http404):
            get_for_user_or_404(type(obj), world.town_a_dispatcher, pk=obj.pk)
    for obj in (world.town_a, world.village_a, world.grid_a, world.town_a_center, world.police_a):
        with pytest.raises(Http404):
            get_for_user_or_404(type(obj), world.town_b_dispatcher, pk=obj.pk)


def test_a_missing_object_and_a_malformed_key_answer_404_like_a_foreign_one(world: World) -> None:
    with pytest.raises(Http404):
        get_for_user_or_404(Region, world.county_dispatcher, pk=10**9)
    with pytest.raises(Http404):
        get_for_user_or_404(Region, world.county_dispatcher, pk="not-a-number")


def test_anonymous_and_deactivated_users_see_nothing(world: World) -> None:
    world.town_a_dispatcher.is_active = False
    world.town_a_dispatcher.save()
    deactivated = User.objects.get(pk=world.town_a_dispatcher.pk)
    for user in (AnonymousUser(), deactivated):
        for model in MODELS:
            assert not restrict(model.objects.all(), user).exists()


def test_an_ended_post_no_longer_grants_its_jurisdiction(world: World) -> None:
    membership_end(membership=Membership.objects.get(user=world.town_a_dispatcher))
    user = User.objects.get(pk=world.town_a_dispatcher.pk)
    assert not restrict(Region.objects.all(), user).exists()
    with pytest.raises(Http404):
        get_for_user_or_404(Center, user, pk=world.town_a_center.pk)


def test_a_region_granted_through_guardian_widens_the_scope_to_its_subtree(world: World) -> None:
    assign_perm("view_region", world.town_a_dispatcher, world.village_b)
    user = User.objects.get(pk=world.town_a_dispatcher.pk)  # the scope is cached per user object
    regions = set(restrict(Region.objects.all(), user))
    assert regions == {world.town_a, world.village_a, world.grid_a, world.village_b, world.grid_b}
    assert get_for_user_or_404(Center, user, pk=world.village_b_center.pk) == world.village_b_center
    with pytest.raises(Http404):
        get_for_user_or_404(Region, user, pk=world.town_b.pk)


def test_a_region_granted_to_a_group_reaches_its_members(world: World) -> None:
    group = Group.objects.create(name="白沙镇专项工作组")
    assign_perm("view_region", group, world.town_b)
    world.unit_staff.groups.add(group)
    user = User.objects.get(pk=world.unit_staff.pk)
    assert set(restrict(Region.objects.all(), user)) == {world.town_b, world.village_b, world.grid_b}
    assert world.police_b in restrict(Unit.objects.all(), user)


def test_a_grant_of_another_permission_does_not_widen_the_scope(world: World) -> None:
    assign_perm("change_region", world.town_a_dispatcher, world.town_b)
    user = User.objects.get(pk=world.town_a_dispatcher.pk)
    assert world.town_b not in restrict(Region.objects.all(), user)


def test_a_user_with_posts_in_two_towns_sees_both(world: World) -> None:
    from tests.factories import MembershipFactory

    MembershipFactory(user=world.town_a_dispatcher, center=world.town_b_center)
    user = User.objects.get(pk=world.town_a_dispatcher.pk)
    assert {world.town_a, world.town_b} <= set(restrict(Region.objects.all(), user))
    assert restrict(Region.objects.all(), user).count() == 6


def test_the_gate_filters_in_the_database_with_one_query(world: World, django_assert_max_num_queries) -> None:
    user = User.objects.get(pk=world.town_a_dispatcher.pk)
    # Two queries compute the scope (posts, guardian grants); the list itself is one more.
    with django_assert_max_num_queries(3):
        list(restrict(Region.objects.all(), user))
    with django_assert_max_num_queries(1):
        list(restrict(Center.objects.all(), user))
