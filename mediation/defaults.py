"""Mediation's clocks as clock rules, seeded by mediation's data migration and editable in admin.

Referrals (kind "referral") carry the referral kind in Case.phase, so each kind of 对接 has its own
mediation period, counted from the receipt (the service starts that step's clock at
`Referral.received_at`). The other steps of a referral (accept, assign, start) use the general
rules. Once mediation ends, the outcome goes back to the referring body within a few working days.

An agreement with a performance deadline puts its case in phase "performance": the follow-up visit
(履行回访) is due a few working days after the deadline (its clock starts at the deadline).
"""

from __future__ import annotations

# (kind, status, phase, limit, unit, note)
MEDIATION_RULES: list[tuple[str, str, str, int, str, str]] = [
    (
        "referral",
        "in_progress",
        "court",
        30,
        "days",
        "诉前委派调解：自接收之日起 30 日内调结（最高人民法院委派调解规定；法院另定期限的从其期限）",
    ),
    ("referral", "in_progress", "police", 15, "days", "警调对接：自派出所移送之日起 15 日内调结（本县规定）"),
    (
        "referral",
        "in_progress",
        "petition",
        30,
        "days",
        "访调对接：自信访部门移交之日起 30 日内调结（《人民调解工作若干规定》：一般在一个月内调结）",
    ),
    ("referral", "resolved", "", 3, "workdays", "调解成功后 3 个工作日内向委派/移送单位反馈结果并移送协议"),
    ("referral", "unresolved", "", 3, "workdays", "调解不成的 3 个工作日内向委派/移送单位反馈，由其依法处理"),
    ("", "resolved", "performance", 5, "workdays", "履行期限届满后 5 个工作日内履行回访"),
]


def seed_rules(ClockRule) -> int:  # noqa: N803 - a model class passed in by a migration
    created = 0
    for kind, status, phase, limit, unit, note in MEDIATION_RULES:
        _, was_created = ClockRule.objects.get_or_create(
            kind=kind,
            status=status,
            phase=phase,
            level="",
            category="",
            is_active=True,
            defaults={"limit": limit, "unit": unit, "note": note},
        )
        created += was_created
    return created
