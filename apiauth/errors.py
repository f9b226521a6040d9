"""One error shape for every API response that is not a success.

    {"code": "invalid", "detail": "提交的数据有误，请按 errors 逐项修改。",
     "errors": {"title": ["请填写事项摘要。"], "parties.0.phone": ["电话号码格式不正确。"]}}

`code` is stable for programs, `detail` is for people (Chinese), `errors` maps a field path
(nested fields joined by dots, list items by their index) to its messages; it is empty when the
error is not about a field. Domain errors raised by the services map to status codes through
`STATUS_OF` (apps register their own subclasses, e.g. a stale edit → 409).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

from centers.services import DomainError

# Domain error class → (HTTP status, code). The most specific class found in the MRO wins.
STATUS_OF: dict[type[Exception], tuple[int, str]] = {DomainError: (status.HTTP_400_BAD_REQUEST, "domain_error")}


def register_domain_error(cls: type[Exception], http_status: int, code: str) -> None:
    STATUS_OF[cls] = (http_status, code)


class ApiError(exceptions.APIException):
    """An APIException with a status, a code and optional extra members of the body."""

    def __init__(self, detail: str, *, status_code: int, code: str, extra: dict[str, Any] | None = None):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.code = code
        self.extra = extra or {}


def conflict(detail: str, **extra: Any) -> ApiError:
    return ApiError(detail, status_code=status.HTTP_409_CONFLICT, code="conflict", extra=extra)


def precondition_failed(detail: str, **extra: Any) -> ApiError:
    return ApiError(detail, status_code=status.HTTP_412_PRECONDITION_FAILED, code="precondition_failed", extra=extra)


def precondition_required(detail: str) -> ApiError:
    return ApiError(detail, status_code=428, code="precondition_required")


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="错误代码（供程序判断）：invalid 数据有误、domain_error 业务规则不允许、not_authenticated 未认证、"
        "authentication_failed 令牌无效、permission_denied 无权操作、not_found 不存在或无权查看、"
        "conflict 版本冲突或重复、precondition_failed If-Match 不符、precondition_required 缺少版本、"
        "idempotency_key_reused 幂等键被另一请求使用、throttled 请求过于频繁"
    )
    detail = serializers.CharField(help_text="给人看的中文说明")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="字段级错误：字段路径 → 错误信息列表。嵌套字段以点号连接，列表元素用序号，如 parties.0.phone；"
        "与单个字段无关的错误在 non_field_errors 下。非字段错误时为空对象。",
    )
    current_version = serializers.IntegerField(
        required=False, help_text="版本冲突（409/412）时：服务器上的当前版本号"
    )


def _flatten(data: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and any(isinstance(v, dict | list) for v in data):
        for i, value in enumerate(data):
            if value:
                out.update(_flatten(value, f"{prefix}.{i}" if prefix else str(i)))
    elif isinstance(data, list):
        out[prefix or "non_field_errors"] = [str(v) for v in data]
    else:
        out[prefix or "non_field_errors"] = [str(data)]
    return out


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, DomainError):
        for cls in type(exc).__mro__:
            if cls in STATUS_OF:
                http_status, code = STATUS_OF[cls]
                break
        if http_status == status.HTTP_400_BAD_REQUEST:
            return ApiError(str(exc), status_code=http_status, code=code, extra={"errors": {"non_field_errors": [str(exc)]}})
        return ApiError(str(exc), status_code=http_status, code=code)
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "未找到该记录，或您无权查看。")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return exceptions.ValidationError(detail)
    return exc


def exception_handler(exc: Exception, context: dict) -> Any:
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    errors: dict[str, list[str]] = {}
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
        errors = _flatten(response.data)
        detail = "提交的数据有误，请按 errors 逐项修改。"
    elif isinstance(exc, exceptions.Throttled):
        code = "throttled"
        wait = response.headers.get("Retry-After", "")
        detail = f"请求过于频繁，请 {wait} 秒后再试。" if wait else "请求过于频繁，请稍后再试。"
    elif isinstance(exc, ApiError):
        code = exc.code
        detail = str(exc.detail)
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        data = response.data
        detail = str(data.get("detail", data)) if isinstance(data, dict) else str(data)
    body: dict[str, Any] = {"code": code, "detail": detail, "errors": errors}
    if isinstance(exc, ApiError):
        body.update(exc.extra)
    response.data = body
    return response
