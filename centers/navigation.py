"""A registry of navigation entries; each app registers its own in AppConfig.ready().

Keeps `centers` free of imports from the apps above it while the base template shows every
app's pages to the roles that use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]  # empty: every signed-in staff user
    order: int = 100
    home_for: frozenset[str] = frozenset()  # roles whose landing page this is

    @property
    def url(self) -> str:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return ""


_items: dict[str, NavItem] = {}


def register(label: str, url_name: str, *, roles=(), order: int = 100, home_for=()) -> None:
    _items[url_name] = NavItem(label, url_name, frozenset(roles), order, frozenset(home_for))


def items_for(roles: set[str], is_superuser: bool = False) -> list[NavItem]:
    out = [i for i in _items.values() if is_superuser or not i.roles or i.roles & roles]
    return sorted(out, key=lambda i: (i.order, i.label))


def home_url_for(roles: set[str]) -> str | None:
    best = sorted((i for i in _items.values() if i.home_for & roles), key=lambda i: i.order)
    for item in best:
        if item.url:
            return item.url
    return None
