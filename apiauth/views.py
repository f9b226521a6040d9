"""Shared pieces of the API views: keyset pagination, versions and ETags."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .errors import precondition_failed, precondition_required
from .pagination import KeysetPagination


def etag_of(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> list[str]:
    out = []
    for tag in header.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        out.append(tag)
    return out


IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=False,
    description="上次读取时得到的 ETag（即版本号，如 \"3\"）。与当前版本不符时拒绝修改（412）。",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="客户端为本次请求生成的唯一键（建议 UUID）。网络中断后用同一个键重试，只会执行一次，"
    "并返回第一次的结果（响应头 Idempotent-Replayed: true）。",
)


def expected_version(request: Any, current: int, *, body_version: int | None, required: bool) -> tuple[int | None, bool]:
    """The version the client's change is based on, from If-Match or the body's `version`.

    Returns (version, from_if_match). A stale If-Match is refused here with 412; a stale body
    version is passed on, and the service refuses it under its row lock (409). With `required`,
    a change that names no version is refused (428): it could overwrite someone else's edit.
    """
    header = request.headers.get("If-Match")
    if header:
        tags = _tags(header)
        if "*" in tags:
            return current, True
        for tag in tags:
            if tag.strip('"').isdigit():
                version = int(tag.strip('"'))
                if version == current:
                    return version, True
        raise precondition_failed(
            f"您的副本已过期：记录当前版本为 {current}，请重新读取后再修改。", current_version=current
        )
    if body_version is not None:
        return body_version, False
    if required:
        raise precondition_required("修改须带 If-Match 头（读取时的 ETag）或 version 字段，以免覆盖他人的修改。")
    return None, False


class VersionField(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault(
            "help_text", "您读取时的版本号；记录已被他人修改时拒绝（409）。也可改用 If-Match 头。"
        )
        super().__init__(**kwargs)


__all__ = ["KeysetPagination", "etag_of", "expected_version", "VersionField", "IF_MATCH", "IDEMPOTENCY_KEY"]
