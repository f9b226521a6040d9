"""Tokens are created and revoked here by the county's system administrator.

The token is shown once, in the message after saving; only its hash is kept.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from centers.services import DomainError

from . import services
from .models import ApiToken


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name", "expires_at", "rate_per_minute")

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not user.is_api_client or not user.is_active:
            raise ValidationError("只能为启用的接口账户创建令牌（请先在用户中勾选“接口账户”）。")
        return user


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at", "state")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "user__full_name", "prefix")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "last_used_ip", "revoked_at")
    fields = ("user", "name", "expires_at", "rate_per_minute", *readonly_fields)
    actions = ["revoke"]

    @admin.display(description="状态")
    def state(self, obj: ApiToken) -> str:
        if obj.revoked_at:
            return "已吊销"
        if obj.expires_at and obj.expires_at <= timezone.now():
            return "已过期"
        return "有效"

    def get_readonly_fields(self, request, obj=None):
        # An existing token keeps its owner: a new owner needs a new token.
        if obj is not None:
            return ("user", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj: ApiToken, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            token, key = services.token_create(
                user=obj.user, name=obj.name, by=request.user, expires_at=obj.expires_at,
                rate_per_minute=obj.rate_per_minute,
            )
        except DomainError as exc:
            raise ValidationError(str(exc)) from exc
        obj.pk = token.pk
        obj.prefix, obj.key_hash, obj.created_at = token.prefix, token.key_hash, token.created_at
        messages.warning(
            request,
            f"令牌已创建：{key} —— 只显示这一次，请立即复制并安全地交给对方系统；丢失后只能吊销并重新创建。",
        )

    @admin.action(description="吊销所选令牌（立即失效）")
    def revoke(self, request, queryset) -> None:
        n = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.token_revoke(token=token, by=request.user)
            n += 1
        self.message_user(request, f"已吊销 {n} 个令牌。", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Revoke instead: the row records who had access and when it was last used.
        return False
