"""Idempotent POST: a retried request with the same `Idempotency-Key` gets the first answer.

The key's row is inserted in the same transaction as the write, before it: a concurrent retry
blocks on the unique index until the first request commits and then replays its stored answer;
if the first request fails, its row is rolled back with it and the retry runs as new. Only
successful answers (2xx) are stored: an error leaves nothing behind, so the client can fix the
request and send it again with the same key. The same key with a different request body or
path is refused (422). Keys are per user and kept IDEMPOTENCY_TTL_HOURS.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .errors import ApiError
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Location", "ETag")


def fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    raw = f"{request.method} {request.path}\n{body}".encode()
    return hashlib.sha256(raw).hexdigest()


def _key(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255:
        raise ApiError(
            "Idempotency-Key 须为 1 到 255 个字符（建议使用 UUID）。", status_code=status.HTTP_400_BAD_REQUEST,
            code="invalid", extra={"errors": {HEADER: ["须为 1 到 255 个字符（建议使用 UUID）。"]}},
        )
    return key


def replay(record: IdempotencyRecord) -> Response:
    response = Response(record.body, status=record.status_code)
    for name, value in record.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a DRF view method (POST) so that `Idempotency-Key` makes it safe to retry."""

    @functools.wraps(handler)
    def wrapper(self, request, *args: Any, **kwargs: Any) -> Response:
        key = _key(request)
        if key is None:
            return handler(self, request, *args, **kwargs)
        fp = fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=request.user, key=key, method=request.method, path=request.path[:500],
                        fingerprint=fp, status_code=0,
                    )
            except IntegrityError:
                record = IdempotencyRecord.objects.get(user=request.user, key=key)
                if record.fingerprint != fp:
                    raise ApiError(
                        "该 Idempotency-Key 已用于另一内容不同的请求；新的请求请使用新的键。",
                        status_code=status.HTTP_422_UNPROCESSABLE_ENTITY, code="idempotency_key_reused",
                        extra={"errors": {HEADER: ["已用于另一内容不同的请求。"]}},
                    ) from None
                return replay(record)
            response = handler(self, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                body = json.loads(JSONRenderer().render(response.data) or b"null")
                headers = {h: response[h] for h in KEPT_HEADERS if response.has_header(h)}
                IdempotencyRecord.objects.filter(pk=record.pk).update(
                    status_code=response.status_code, body=body, headers=headers
                )
            else:
                transaction.set_rollback(True)
            return response

    return wrapper
