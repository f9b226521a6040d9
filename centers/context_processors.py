from __future__ import annotations

from . import navigation as nav
from .selectors import primary_center, roles_of


def navigation_context(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = roles_of(user)
    return {
        "nav_items": nav.items_for(roles, user.is_superuser),
        "nav_center": primary_center(user),
        "nav_roles": sorted(roles),
    }


navigation = navigation_context  # the name settings refer to
