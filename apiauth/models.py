"""API tokens of the town centers' systems, and the responses of idempotent POSTs.

A token belongs to one API client account (`User.is_api_client`), whose memberships give it
exactly the jurisdiction a person at that post has. Only a SHA-256 of the token is stored; the
token itself is shown once, when the administrator creates it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name="接口账户",
        limit_choices_to={"is_api_client": True},
    )
    name = models.CharField("用途", max_length=100, help_text="如：城关街道综治中心业务系统")
    # The first characters of the token, to recognise it in lists; the secret is never stored.
    prefix = models.CharField("令牌前缀", max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="创建人", editable=False,
    )
    expires_at = models.DateTimeField("有效期至", null=True, blank=True, help_text="留空表示长期有效")
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True, editable=False)
    # Recorded at most once a minute per token (apiauth.authentication), not on every request.
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField("最近使用地址", null=True, blank=True, editable=False)
    rate_per_minute = models.PositiveIntegerField(
        "每分钟请求上限", null=True, blank=True, help_text="留空使用系统默认值"
    )

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user"], name="api_token_user_idx", condition=Q(revoked_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class IdempotencyRecord(models.Model):
    """The stored answer to a POST made with an `Idempotency-Key`, replayed on a retry.

    The row is inserted in the same transaction as the write it guards: a concurrent retry
    waits on the unique index until the first commits, then replays its answer; if the first
    fails, the row disappears with it and the retry runs afresh. Rows older than
    IDEMPOTENCY_TTL_HOURS are purged by apiauth.tasks.purge_idempotency (beat).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_once_per_user")]
