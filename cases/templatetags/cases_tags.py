"""Small display helpers for case pages: the clock text and the colour pill."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from cases.clocks import fmt, remaining_text
from cases.models import CLOCK_STATES, Status

register = template.Library()


@register.simple_tag
def case_clock(case: Any, now: Any = None) -> dict[str, str]:
    """{"text": "还剩 2 天 3 小时" / "已超期 5 小时" / "暂停计时" …, "css": ok|soon|overdue|none}."""
    if case.status == Status.WAITING:
        since = f"（自 {fmt(case.paused_at)}）" if case.paused_at else ""
        return {"text": f"暂停计时{since}", "css": "none"}
    if case.status not in CLOCK_STATES:
        if case.status == Status.CLOSED:
            on_time = {True: "，按期", False: "，超期"}.get(case.closed_on_time, "")
            return {"text": f"已办结{on_time}", "css": "none"}
        return {"text": case.get_status_display(), "css": "none"}
    text, css = remaining_text(case.due_at, now or timezone.now())
    return {"text": text, "css": css}


@register.filter
def when(value: Any) -> str:
    """A local time the way the timeline shows it ("2026-11-23 09:00")."""
    return fmt(value) if value else ""


@register.filter
def status_label(value: str) -> str:
    try:
        return Status(value).label
    except ValueError:
        return value or ""


@register.simple_tag
def querystring_page(query: str, page: int) -> str:
    """The list's query string with another page number."""
    return f"?{query}&page={page}" if query else f"?page={page}"


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def span(seconds: Any) -> str:
    """7200 → "2 小时"; 93784 → "1 天 2 小时"."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {minutes} 分" if minutes else f"{hours} 小时"
    return f"{minutes} 分钟"
