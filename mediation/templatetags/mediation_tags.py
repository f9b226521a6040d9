"""Display of figures computed by cases.metrics: formatting only, never arithmetic."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def pct(value: Any) -> str:
    """A rate (already a percentage) as "98.9%"; no denominator → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value):.1f}%"


@register.filter
def days(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):.1f} 天"


@register.filter
def yuan(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"
