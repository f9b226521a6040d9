"""`Authorization: Token zz_…` (or `Bearer zz_…`) for the town centers' systems."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken
from .services import hash_key

# last_used_at is written at most this often per token: a write on every request would cost
# more than the request itself and serialize a busy client's requests on one row.
TOUCH_EVERY = dt.timedelta(seconds=60)
KEYWORDS = (b"token", b"bearer")


class TokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("令牌格式不正确：应为“Token <令牌>”。")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("令牌格式不正确。") from exc
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
        if token is None or not token.is_active:
            raise exceptions.AuthenticationFailed("令牌无效、已过期或已被吊销。")
        user = token.user
        if not user.is_active or not user.is_api_client:
            raise exceptions.AuthenticationFailed("该令牌所属账户已停用。")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            ip = request.META.get("REMOTE_ADDR") or None
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
            token.last_used_at, token.last_used_ip = now, ip
        return user, token

    def authenticate_header(self, request) -> str:
        # Makes an unauthenticated request a 401 with WWW-Authenticate (not a 403).
        return 'Token realm="api"'
