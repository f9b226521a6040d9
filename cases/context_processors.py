from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from .selectors import unread_count


def inbox(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    try:
        url = reverse("cases:inbox")
    except NoReverseMatch:  # the inbox page is not installed (yet): show no link rather than fail every page
        url = ""
    return {"inbox_unread": unread_count(user), "inbox_url": url}
