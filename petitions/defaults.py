"""The regulation's clocks as clock rules (kind "petition"), seeded by migration, editable in admin.

信访工作条例（2022）: decide acceptance within 15 days of registration (第三十条); handle within
60 days of acceptance, extendable once by up to 30 days (第三十二条); a review (复查) decided
within 30 days of the request (第三十五条), a re-review (复核) likewise (第三十六条). The
regulation counts in days (日); the county may switch a rule to working days in admin.
The hand-over, receipt (签收) and follow-up limits are local practice, not the regulation's.
"""

from __future__ import annotations

# (status, phase, limit, unit, note)
PETITION_RULES: list[tuple[str, str, int, str, str]] = [
    ("registered", "", 15, "days", "信访工作条例第三十条：登记之日起 15 日内决定是否受理并告知信访人"),
    ("accepted", "", 3, "workdays", "受理后 3 个工作日内转送交办（本县规定）"),
    ("assigned", "", 2, "workdays", "转送交办后 2 个工作日内签收（本县规定）；逾期未签收即督办"),
    ("in_progress", "", 60, "days", "信访工作条例第三十二条：自受理之日起 60 日内办结"),
    ("in_progress", "review", 30, "days", "信访工作条例第三十五条：收到复查请求之日起 30 日内提出复查意见"),
    (
        "in_progress",
        "re_review",
        30,
        "days",
        "信访工作条例第三十六条：收到复核请求之日起 30 日内提出复核意见",
    ),
    ("resolved", "", 5, "workdays", "答复后 5 个工作日内回访评价、结案（本县规定）"),
]


def seed_rules(ClockRule) -> int:  # noqa: N803 - a model class passed in by a migration
    created = 0
    for status, phase, limit, unit, note in PETITION_RULES:
        _, was_created = ClockRule.objects.get_or_create(
            kind="petition",
            status=status,
            phase=phase,
            level="",
            category="",
            is_active=True,
            defaults={"limit": limit, "unit": unit, "note": note},
        )
        created += was_created
    return created
