"""Keyset ("cursor") pagination shared by every list endpoint.

The order is a unique key (for synced resources `(sync_txid, id)`, the order of writes), and the
cursor is the key of the last row handed out, so pages never overlap or skip rows when rows are
inserted or changed between two requests, and page 10,000 costs what page 1 does (an index
range scan, no OFFSET, no COUNT). Synced resources only serve rows below the sync watermark
(apiauth.sync), so the cursor never moves past a transaction that has not committed yet.

The response always carries `cursor`, the position after the last row (or the one given, when
no new rows came): a client stores it and asks again later with `?cursor=` to get what changed
since. `next` is the URL of the following page while more rows are already there.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from . import sync

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str, width: int) -> list[Any]:
    try:
        padded = value + "=" * (-len(value) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise ValidationError({"cursor": ["游标无效，请使用上一次响应返回的 cursor。"]}) from exc
    if (
        not isinstance(values, list)
        or len(values) != width
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63 for v in values)
    ):
        raise ValidationError({"cursor": ["游标无效，请使用上一次响应返回的 cursor。"]})
    return values


def after(keys: tuple[str, ...], values: list[Any]) -> Q:
    """Rows strictly after `values` in the order of `keys`: (a, b) > (x, y)."""
    parts = []
    for i in range(len(keys)):
        cond = {keys[j]: values[j] for j in range(i)}
        cond[f"{keys[i]}__gt"] = values[i]
        parts.append(Q(**cond))
    out = parts[0]
    for p in parts[1:]:
        out |= p
    # The leading key's lower bound lets the database start an index range scan there.
    return Q(**{f"{keys[0]}__gte": values[0]}) & out


class KeysetPagination(BasePagination):
    """Order by the view's `cursor_keys` (integer columns, unique together)."""

    page_size = DEFAULT_PAGE_SIZE
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        try:
            size = int(raw)
        except ValueError as exc:
            raise ValidationError({"page_size": ["每页条数须为整数。"]}) from exc
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationError({"page_size": [f"每页条数须在 1 到 {MAX_PAGE_SIZE} 之间。"]})
        return size

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        keys: tuple[str, ...] = tuple(getattr(view, "cursor_keys", ("id",)))
        self.keys = keys
        self.request = request
        size = self.get_page_size(request)
        raw = request.query_params.get(self.cursor_query_param)
        self.position = decode_cursor(raw, len(keys)) if raw else None
        if getattr(view, "synced", False):
            horizon = sync.horizon_expression()
            if horizon is not None:
                queryset = queryset.filter(**{f"{keys[0]}__lt": horizon})
        if self.position is not None:
            queryset = queryset.filter(after(keys, self.position))
        rows = list(queryset.order_by(*keys)[: size + 1])
        self.has_more = len(rows) > size
        rows = rows[:size]
        if rows:
            last = rows[-1]
            self.position = [_attr(last, k) for k in keys]
        return rows

    def get_paginated_response(self, data) -> Response:
        cursor = encode_cursor(self.position) if self.position is not None else None
        next_url = None
        if self.has_more and cursor:
            next_url = replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)
        return Response(OrderedDict([("next", next_url), ("cursor", cursor), ("results", data)]))

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next", "cursor", "results"],
            "properties": {
                "next": {
                    "type": "string", "nullable": True, "format": "uri",
                    "description": "下一页的地址；没有更多数据时为 null。",
                },
                "cursor": {
                    "type": "string", "nullable": True,
                    "description": "本页最后一条之后的位置。保存它，下次以 ?cursor= 请求即可取得此后新增或变更的记录。",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param, "required": False, "in": "query",
                "description": "上一次响应返回的 cursor（不传则从头开始）。",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param, "required": False, "in": "query",
                "description": f"每页条数，默认 {self.page_size}，最多 {MAX_PAGE_SIZE}。",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


def _attr(obj: Any, key: str) -> Any:
    for part in key.split("__"):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return obj

