"""Wall-display links (大屏展示链接): create, revoke, resolve a token, log its use."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from centers.jurisdiction import Scope, restrict
from centers.models import Region, User
from centers.services import DomainError

from . import county_settings
from .models import AdminAction, WallDisplayAccess, WallDisplayLink
from .services import log

# The kinds of place that have a big screen (dashboards.selectors.SCREEN_KINDS).
SCREEN_KINDS = ("province", "city", "county", "town")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def screen_regions(user: User):
    """The places `user` may make a wall display for: counties and towns in their jurisdiction."""
    return restrict(Region.objects.filter(kind__in=SCREEN_KINDS), user).order_by("depth", "path")


@transaction.atomic
def wall_link_create(
    *, by: User, region: Region, label: str, reason: str = ""
) -> tuple[WallDisplayLink, str]:
    """A new link for `region`'s screen. Returns the link and its token (shown once, never stored)."""
    if not county_settings.can_edit(by):
        from cases.services import NotAllowed

        raise NotAllowed("只有县级中心的系统管理员或中心领导可以创建大屏展示链接。")
    if not screen_regions(by).filter(pk=region.pk).exists():
        raise DomainError("只能为本县或所辖乡镇（街道）创建大屏展示链接。")
    label = (label or "").strip()[:100]
    if not label:
        raise DomainError("请填写名称（如“县指挥中心主屏”）。")
    token = secrets.token_urlsafe(32)  # 256 bits
    link = WallDisplayLink.objects.create(
        region=region,
        label=label,
        token_hash=token_hash(token),
        token_hint=token[-4:],
        created_by=by,
        created_at=timezone.now(),
    )
    log(
        by=by,
        action=AdminAction.WALL_DISPLAY,
        reason=reason,
        subject=label,
        summary=f"创建大屏展示链接「{label}」（{region.name}，尾号 {link.token_hint}）",
        data={"link": link.pk},
    )
    return link, token


@transaction.atomic
def wall_link_revoke(*, by: User, link: WallDisplayLink, reason: str) -> WallDisplayLink:
    if not county_settings.can_edit(by):
        from cases.services import NotAllowed

        raise NotAllowed("只有县级中心的系统管理员或中心领导可以撤销大屏展示链接。")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写撤销原因。")
    claimed = WallDisplayLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )
    if not claimed:
        raise DomainError("该链接已撤销。")
    link.refresh_from_db()
    log(
        by=by,
        action=AdminAction.WALL_DISPLAY,
        reason=reason,
        subject=link.label,
        summary=f"撤销大屏展示链接「{link.label}」（{link.region.name}，尾号 {link.token_hint}）",
        data={"link": link.pk},
    )
    return link


def link_for_token(token: str) -> WallDisplayLink | None:
    """The link of `token`, active or revoked; None for a token that never existed."""
    if not token or len(token) > 100:
        return None
    return WallDisplayLink.objects.select_related("region").filter(token_hash=token_hash(token)).first()


class WallViewer:
    """Who reads the screen through a link: nobody signed in, with exactly the link's region as
    jurisdiction (the dashboards' selectors take it in place of a user). It is never put on the
    request, so nothing else in the application treats the request as signed in."""

    is_authenticated = True
    is_active = True
    is_superuser = False
    is_staff = False
    pk = id = None

    def __init__(self, region: Region) -> None:
        # centers.jurisdiction.scope_for reads this cached scope and asks nothing else.
        self._zongzhi_scope = Scope(paths=(region.path,))


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def access_log(*, link: WallDisplayLink, request: HttpRequest, what: str) -> None:
    WallDisplayAccess.objects.create(
        link=link,
        at=timezone.now(),
        what=what,
        ip=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )
    if what == "page":
        WallDisplayLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())


def count_request(link: WallDisplayLink) -> None:
    """The screen's data requests (every few seconds) are counted, not logged one by one."""
    WallDisplayLink.objects.filter(pk=link.pk).update(requests=F("requests") + 1, last_used_at=timezone.now())


def viewer_for(link: WallDisplayLink) -> Any:
    return WallViewer(link.region)
