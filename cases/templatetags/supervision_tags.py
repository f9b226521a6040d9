"""Template helpers of supervision: the case page's supervision panel and deadline formatting."""

from __future__ import annotations

from typing import Any

from django import template

from ..clocks import fmt, remaining_text
from ..selectors_supervision import case_supervision

register = template.Library()


@register.filter
def deadline(value) -> str:
    """A deadline as clerks write it ("2026-11-26 24:00" for the end of a day)."""
    return fmt(value)


@register.filter
def remaining(value) -> tuple[str, str]:
    """("还剩 1 天 3 小时" | "已超期 5 小时", css class) for a deadline."""
    return remaining_text(value)


@register.inclusion_tag("cases/supervision/_case_panel.html", takes_context=True)
def supervision_panel(context: dict[str, Any], case) -> dict[str, Any]:
    """Leader instructions (at the top of the case page), supervision orders, and the links to act."""
    from ..supervision import can_record_instruction, can_supervise

    request = context.get("request")
    user = getattr(request, "user", None)
    data = case_supervision(case)
    return {
        "case": case,
        "instructions": data["instructions"],
        "orders": data["orders"],
        "can_supervise": user is not None and can_supervise(user, case),
        "can_instruct": user is not None and can_record_instruction(user, case),
    }
