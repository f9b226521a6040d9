"""Rate limits per token (per user for the browsable API): 429 with Retry-After.

A fixed window counted with the cache's atomic INCR (Redis in production), shared by every
gunicorn worker. DRF's SimpleRateThrottle keeps a list of every request time in the cache and
rewrites it on each request, which at hundreds of requests a minute costs more than the check.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from .models import ApiToken


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """'600/min' → (600, 60)."""
    if not rate:
        return None
    num, period = rate.split("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
    return int(num), seconds


class TokenRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait = 0.0

    def rate_for(self, request) -> tuple[int, int] | None:
        token = request.auth
        if isinstance(token, ApiToken) and token.rate_per_minute:
            return token.rate_per_minute, 60
        return parse_rate(getattr(settings, "API_RATE_LIMIT", "600/min"))

    def ident(self, request) -> str:
        if isinstance(request.auth, ApiToken):
            return f"t{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"u{request.user.pk}"
        return f"a{self.get_ident(request)}"

    def allow_request(self, request, view) -> bool:
        rate = self.rate_for(request)
        if rate is None:
            return True
        limit, period = rate
        now = time.time()
        window = int(now // period)
        key = f"apirate:{self.ident(request)}:{period}:{window}"
        cache.add(key, 0, timeout=period + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=period + 5)
            count = 1
        self._wait = (window + 1) * period - now
        return count <= limit

    def wait(self) -> float:
        return max(1, math.ceil(self._wait))
