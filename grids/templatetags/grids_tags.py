"""Display helpers of grid pages: labels and formatting only (figures come from cases.metrics)."""

from __future__ import annotations

from typing import Any

from django import template

from grids.lifecycle import step_label

register = template.Library()


@register.filter
def hazard_step(status: str) -> str:
    return step_label(status)


@register.filter
def pct(value: Any) -> str:
    """A rate from cases.metrics (0–100, or None when there is nothing to divide by)."""
    if value is None:
        return "—"
    return f"{value:.1f}%"


@register.filter
def days(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} 天"
