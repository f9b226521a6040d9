"""Clock rules for hazards (kind "hazard"), seeded by grids' data migration and editable in admin.

A hazard's severity is its case's `phase` (grids.lifecycle), so the rules can say that a serious
hazard must be handed to a responsible unit within hours and rectified within days, while an
ordinary one has working days for both. Blank phase: every severity.
"""

from __future__ import annotations

# (status, phase, limit, unit, note)
HAZARD_RULES: list[tuple[str, str, int, str, str]] = [
    ("registered", "general", 2, "workdays", "一般隐患：发现后 2 个工作日内交办责任单位"),
    ("registered", "major", 1, "workdays", "较大隐患：发现后 1 个工作日内交办责任单位"),
    ("registered", "serious", 4, "hours", "重大隐患：发现后 4 小时内交办责任单位"),
    ("accepted", "general", 2, "workdays", "一般隐患：受理后 2 个工作日内交办责任单位"),
    ("accepted", "major", 1, "workdays", "较大隐患：受理后 1 个工作日内交办责任单位"),
    ("accepted", "serious", 4, "hours", "重大隐患：受理后 4 小时内交办责任单位"),
    ("in_progress", "general", 15, "workdays", "一般隐患：交办后 15 个工作日内整改到位"),
    ("in_progress", "major", 7, "workdays", "较大隐患：交办后 7 个工作日内整改到位"),
    ("in_progress", "serious", 3, "days", "重大隐患：交办后 3 日内整改到位（节假日不停）"),
    ("resolved", "", 3, "workdays", "整改完成后 3 个工作日内由网格员核查销号"),
    ("resolved", "serious", 1, "workdays", "重大隐患：整改完成后 1 个工作日内核查销号"),
]


def seed_hazard_rules(ClockRule) -> int:  # noqa: N803 - a model class passed in by a migration
    created = 0
    for status, phase, limit, unit, note in HAZARD_RULES:
        _, was_created = ClockRule.objects.get_or_create(
            kind="hazard",
            status=status,
            phase=phase,
            level="",
            category="",
            is_active=True,
            defaults={"limit": limit, "unit": unit, "note": note},
        )
        created += was_created
    return created
