"""Shared factories for the hierarchy and staff (factory-boy, faker's zh_CN).

Writes go through the `centers.services` functions, as in the application: regions through
`region_add` (treebeard keeps path/depth/numchild right), centers through `center_create`,
memberships through `membership_create` (which also puts the user in the role's group).
"""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from centers.models import Center, DepartmentKind, Membership, Region, RegionKind, Role, Unit, User
from centers.services import center_create, membership_create, region_add

TEST_PASSWORD = "zz-test-口令-2026"


class RegionFactory(DjangoModelFactory):
    """A place. Pass `parent=` for a child; without it the region is a new root (a county)."""

    class Meta:
        model = Region

    name = factory.Faker("city_name", locale="zh_CN")
    kind = RegionKind.COUNTY
    code = factory.Sequence(lambda n: f"T{n:08d}")
    population = 0
    households = 0

    @classmethod
    def _create(cls, model_class, *args, parent: Region | None = None, **kwargs) -> Region:
        return region_add(parent=parent, **kwargs)


class CenterFactory(DjangoModelFactory):
    class Meta:
        model = Center

    region = factory.SubFactory(RegionFactory)
    name = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> Center:
        return center_create(**kwargs)


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit

    kind = DepartmentKind.POLICE_STATION
    region = factory.SubFactory(RegionFactory)
    name = factory.LazyAttributeSequence(lambda o, n: f"{o.region.name}{DepartmentKind(o.kind).label}{n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name", locale="zh_CN")
    phone = factory.Faker("phone_number", locale="zh_CN")
    password = factory.django.Password(TEST_PASSWORD)
    is_active = True


class MembershipFactory(DjangoModelFactory):
    """A post at a center (default) or, with `unit=…`, at a unit."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.DISPATCHER
    center = None
    unit = None
    title = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> Membership:
        if kwargs.get("center") is None and kwargs.get("unit") is None:
            kwargs["center"] = CenterFactory()
        return membership_create(**kwargs)


def staff(
    username: str, role: str, *, center: Center | None = None, unit: Unit | None = None, **user_fields
) -> User:
    """A user holding one post: `staff("town_a_dispatcher", Role.DISPATCHER, center=c)`."""
    user = UserFactory(username=username, **user_fields)
    MembershipFactory(user=user, role=role, center=center, unit=unit)
    return user
