"""Writes on API tokens: create (the secret is returned once) and revoke."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from centers.models import User
from centers.services import DomainError

from .models import ApiToken

TOKEN_PREFIX = "zz_"  # noqa: S105 - a visible marker, not a secret


def hash_key(key: str) -> str:
    """SHA-256 of the token. The token is 256 random bits, so no slow hash is needed (as GitHub's)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@transaction.atomic
def token_create(
    *,
    user: User,
    name: str,
    by: User | None,
    expires_at: dt.datetime | None = None,
    rate_per_minute: int | None = None,
) -> tuple[ApiToken, str]:
    """A new token for an API client account: (the row, the token to hand over once)."""
    if not user.is_api_client:
        raise DomainError("只能为接口账户创建令牌（请先在用户中勾选“接口账户”）。")
    if not user.is_active:
        raise DomainError("该账户已停用。")
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写令牌用途。")
    key = f"{TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=key[:10], key_hash=hash_key(key), created_by=by,
        expires_at=expires_at, rate_per_minute=rate_per_minute,
    )
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User | None) -> ApiToken:
    """Revoke at once: the next request with this token gets 401."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token
