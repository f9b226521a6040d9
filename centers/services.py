"""Writes for the hierarchy and staff. One function per write, keyword-only, in a transaction."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from .jurisdiction import forget_scope
from .models import Center, Membership, Region, RegionKind, Role, Unit, User


class DomainError(Exception):
    """An illegal move; the message is shown to the user as it is (Chinese)."""


def role_group(role: str) -> Group:
    group, _ = Group.objects.get_or_create(name=Role(role).label)
    return group


def region_add(*, parent: Region | None, name: str, kind: str, code: str, **fields) -> Region:
    values = {"name": name, "kind": kind, "code": code, **fields}
    if parent is None:
        return Region.objects.add_root(values)
    return Region.objects.add_child(parent, values)


def center_name_for(region: Region) -> str:
    if region.kind == RegionKind.VILLAGE:
        return f"{region.name}综治工作站"
    return f"{region.name}综治中心"


@transaction.atomic
def center_create(*, region: Region, name: str = "", phone: str = "", address: str = "") -> Center:
    if region.kind == RegionKind.GRID:
        raise DomainError("网格不设综治中心。")
    center, _ = Center.objects.get_or_create(
        region=region, defaults={"name": name or center_name_for(region), "phone": phone, "address": address}
    )
    return center


@transaction.atomic
def membership_create(
    *, user: User, role: str, center: Center | None = None, unit: Unit | None = None, title: str = ""
) -> Membership:
    if (center is None) == (unit is None):
        raise DomainError("岗位必须属于一个中心或一个部门。")
    membership, _ = Membership.objects.get_or_create(
        user=user, center=center, unit=unit, role=role, defaults={"title": title}
    )
    if not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    user.groups.add(role_group(role))
    forget_scope(user)
    return membership


@transaction.atomic
def membership_end(*, membership: Membership) -> None:
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    user = membership.user
    if not Membership.objects.filter(user=user, role=membership.role, is_active=True).exists():
        user.groups.remove(role_group(membership.role))
    forget_scope(user)


def user_password_changed(*, user: User) -> None:
    if user.must_change_password:
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        user.must_change_password = False
