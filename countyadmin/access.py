"""Who administers whom.

Decision: account administrators are the holders of an active **系统管理员 (sysadmin)** or
**中心领导 (center_leader)** post at a center. The county has a system administrator; town centers
and village stations usually have none, and their 中心主任 answers for their own staff, so both
roles administer — each only the staff of their own center's subtree (`centers.jurisdiction`):

- a target user is in scope when every one of their posts (their active posts; for a deactivated
  user, every post they ever held) lies at a center or unit whose place is inside the
  administrator's center subtree; somebody who also holds a post outside it (e.g. at the county)
  is out of reach from below;
- administrators never administer a peer: a user holding an administrator post at the same
  center (or above) is out of scope, so a town leader cannot take over the other town leader's
  or the county's accounts;
- superusers (the installation's technical administrators) administer everyone, and only they
  administer other superusers.

"Not yours" and "not there" both answer 404, as everywhere.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from centers.models import Center, Membership, Role, User

ADMIN_ROLES = (Role.SYSADMIN, Role.CENTER_LEADER)


def admin_centers(user: Any) -> list[Center]:
    """The centers `user` administers (highest first); every center for a superuser."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return list(Center.objects.select_related("region").filter(region__depth=1).order_by("region__path"))
    return [
        m.center
        for m in Membership.objects.filter(
            user=user, is_active=True, role__in=ADMIN_ROLES, center__isnull=False
        )
        .select_related("center__region")
        .order_by("center__region__depth", "center__region__path")
    ]


def admin_paths(user: Any) -> list[str]:
    paths: list[str] = []
    for c in admin_centers(user):
        if not any(c.region.path.startswith(p) for p in paths):
            paths.append(c.region.path)
    return paths


def is_administrator(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or admin_paths(user))


def covers_path(user: Any, path: str) -> bool:
    return bool(user.is_superuser or any(path.startswith(p) for p in admin_paths(user)))


def _inside(paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(center__region__path__startswith=p) | Q(unit__region__path__startswith=p)
    return q


def administrable_users(admin: Any) -> QuerySet[User]:
    """Users `admin` may reset, unlock, deactivate and hand over (see the module docstring)."""
    if not is_administrator(admin):
        return User.objects.none()
    qs = User.objects.exclude(pk=admin.pk)
    if admin.is_superuser:
        return qs
    paths = admin_paths(admin)
    inside = _inside(paths)
    mine = Membership.objects.filter(user=OuterRef("pk"))
    has_active = Exists(mine.filter(is_active=True))
    active_outside = Exists(mine.filter(is_active=True).exclude(inside))
    any_outside = Exists(mine.exclude(inside))
    any_inside = Exists(mine.filter(inside))
    peer = Exists(mine.filter(is_active=True, role__in=ADMIN_ROLES, center__region__path__in=paths))
    return qs.filter(
        any_inside & ((has_active & ~active_outside) | (~has_active & ~any_outside)) & ~peer,
        is_superuser=False,
    )


def can_administer(admin: Any, user: User) -> bool:
    return administrable_users(admin).filter(pk=user.pk).exists()


def administrable_user_or_404(admin: Any, pk: int) -> User:
    try:
        return administrable_users(admin).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("未找到该账号，或您无权管理。") from exc


def home_center_of(user: User) -> Center | None:
    """The center a user's posts belong to (for the admin log and the orphan notices)."""
    from centers.selectors import center_of_region

    m = (
        Membership.objects.filter(user=user)
        .select_related("center__region", "unit__region")
        .order_by("-is_active", "-created_at", "-pk")
        .first()
    )
    if m is None:
        return None
    return m.center if m.center_id else center_of_region(m.unit.region)


def administrators_of(center: Center) -> list[User]:
    """Who is told about `center`'s orphans: its own administrators, else the nearest above."""
    from centers.selectors import ancestor_paths

    paths = ancestor_paths(center.region.path)
    rows = (
        Membership.objects.filter(
            is_active=True, user__is_active=True, role__in=ADMIN_ROLES, center__region__path__in=paths
        )
        .select_related("user", "center__region")
        .order_by("-center__region__depth", "user_id")
    )
    best_depth = None
    out: list[User] = []
    for m in rows:
        if best_depth is None:
            best_depth = m.center.region.depth
        if m.center.region.depth != best_depth:
            break
        if m.user not in out:
            out.append(m.user)
    return out


def staff_in_area(admin: Any) -> QuerySet[User]:
    """Active users with an active post inside `admin`'s subtree (peers included): the people
    `admin` may hand work to. Handing work over takes over nobody's account."""
    qs = User.objects.filter(is_active=True)
    if getattr(admin, "is_superuser", False):
        return qs.filter(memberships__is_active=True).distinct()
    paths = admin_paths(admin)
    if not paths:
        return User.objects.none()
    return qs.filter(Exists(Membership.objects.filter(_inside(paths), user=OuterRef("pk"), is_active=True)))
