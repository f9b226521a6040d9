"""Reads for the hierarchy and staff."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import Substr

from .jurisdiction import restrict, scope_for
from .models import Center, Membership, Region, RegionKind, Role, Unit


def memberships_of(user: Any) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, is_active=True).select_related(
        "center__region", "unit__region"
    )


def roles_of(user: Any) -> set[str]:
    cached = getattr(user, "_zongzhi_roles", None)
    if cached is None:
        cached = set(memberships_of(user).values_list("role", flat=True)) if user.is_authenticated else set()
        if getattr(user, "is_superuser", False):
            cached.add(Role.SYSADMIN)
        user._zongzhi_roles = cached
    return cached


def has_role(user: Any, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def primary_center(user: Any) -> Center | None:
    """The center a user works for (the highest one if they hold several posts)."""
    m = memberships_of(user).filter(center__isnull=False).order_by("center__region__depth", "pk").first()
    if m:
        return m.center
    m = memberships_of(user).filter(unit__isnull=False).first()
    if m:
        return center_of_region(m.unit.region)
    return None


def ancestor_paths(path: str, *, include_self: bool = True) -> list[str]:
    """Materialized-path prefixes of `path`, root first."""
    step = Region.steplen
    end = len(path) + (step if include_self else 0)
    return [path[:i] for i in range(step, end, step)]


def ancestors_of(region: Region, *, include_self: bool = False) -> list[Region]:
    """Root first; one indexed query on the path column."""
    paths = ancestor_paths(region.path, include_self=include_self)
    return list(Region.objects.filter(path__in=paths).order_by("depth"))


def ancestor_of_kind(region: Region, kind: str) -> Region | None:
    if region.kind == kind:
        return region
    return Region.objects.filter(path__in=ancestor_paths(region.path, include_self=False), kind=kind).first()


def center_of_region(region: Region) -> Center | None:
    """The center responsible for a place: its own, or the nearest ancestor's (grids have none)."""
    paths = ancestor_paths(region.path)
    return (
        Center.objects.filter(region__path__in=paths)
        .select_related("region")
        .order_by("-region__depth")
        .first()
    )


def parent_center(center: Center) -> Center | None:
    paths = ancestor_paths(center.region.path, include_self=False)
    return (
        Center.objects.filter(region__path__in=paths)
        .select_related("region")
        .order_by("-region__depth")
        .first()
    )


def county_of(region: Region) -> Region:
    county = ancestor_of_kind(region, RegionKind.COUNTY)
    if county is not None:
        return county
    return Region.objects.get(path=region.path[: Region.steplen])


def staff_of(center: Center, *roles: str) -> QuerySet:
    from .models import User

    qs = User.objects.filter(memberships__center=center, memberships__is_active=True, is_active=True)
    if roles:
        qs = qs.filter(memberships__role__in=roles)
    return qs.distinct()


def top_regions_for(user: Any) -> list[Region]:
    """The highest places `user` may see: their centers' places and regions granted to them."""
    scope = scope_for(user)
    if scope.unrestricted:
        return list(Region.objects.get_root_nodes())
    return list(Region.objects.filter(path__in=scope.paths).order_by("path"))


def region_children_for(user: Any, region: Region) -> list[Region]:
    """The places directly under `region` that `user` may see, each with its center and the
    number of level-4 grid cells under it (`grid_count`), in two queries."""
    children = list(
        restrict(Region.objects.filter(path__startswith=region.path, depth=region.depth + 1), user)
        .select_related("center")
        .order_by("path")
    )
    prefix_len = len(region.path) + Region.steplen
    grids = dict(
        Region.objects.filter(path__startswith=region.path, kind=RegionKind.GRID, depth__gt=region.depth + 1)
        .annotate(prefix=Substr("path", 1, prefix_len))
        .order_by()
        .values_list("prefix")
        .annotate(n=Count("id"))
    )
    for child in children:
        child.grid_count = 1 if child.kind == RegionKind.GRID else grids.get(child.path, 0)
    return children


def region_ancestors_for(user: Any, region: Region) -> list[Region]:
    """The breadcrumb above `region`, limited to what `user` may see."""
    paths = ancestor_paths(region.path, include_self=False)
    return list(restrict(Region.objects.filter(path__in=paths), user).order_by("depth"))


def region_staff(region: Region) -> QuerySet[Membership]:
    """Active posts at the center of `region` (its place is in scope when the region is)."""
    return (
        Membership.objects.filter(center__region=region, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("role", "user__username")
    )


def units_in(user: Any, region: Region | None = None) -> QuerySet:
    """Units at `region` (or all the user may see), behind the gate."""
    qs = restrict(Unit.objects.filter(is_active=True).select_related("region"), user)
    return qs.filter(region=region) if region is not None else qs
