"""drf-spectacular: the token scheme, and the documented error responses on every operation."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from .errors import ErrorSerializer


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "apiauth.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "接口令牌：请求头 `Authorization: Token <令牌>`。令牌由县综治中心系统管理员在后台为接口账户创建，"
            "只显示一次；每个令牌的可见范围与该账户所在中心的辖区相同。",
        }


ERROR_TEXT = {
    "400": "请求数据有误（字段级错误见 errors）",
    "401": "未提供令牌，或令牌无效、过期、已吊销",
    "403": "无权执行该操作",
    "404": "记录不存在，或不在您的辖区内",
    "409": "版本冲突（记录已被他人修改）或业务状态冲突",
    "412": "If-Match 与当前 ETag 不符（您的副本已过期）",
    "422": "Idempotency-Key 已用于另一内容不同的请求",
    "428": "修改须带 If-Match 头或 version 字段",
    "429": "请求过于频繁：请按 Retry-After 头所示秒数后重试",
}


class ApiSchema(AutoSchema):
    """Every operation documents the error shape for the statuses it can answer."""

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "429"]
        path_has_id = "{" in self.path
        if path_has_id:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["409", "422"]
        if self.method in ("PUT", "PATCH") or (self.method == "POST" and path_has_id):
            codes += ["412"]
        if self.method in ("PUT", "PATCH"):
            codes.append("428")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_TEXT[code]
                if code == "429":
                    response["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"}, "description": "多少秒后可以再次请求"}
                    }
                responses[code] = response
        return responses
