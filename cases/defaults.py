"""Sane default clock rules, seeded by migration and editable in admin.

小事不出村、大事不出镇: a village has a short clock for handling, a town a longer one, the county
the longest. Other apps (petitions, grids, mediation) add rules for their kinds the same way.
"""

from __future__ import annotations

# (kind, status, level, limit, unit, note)
DEFAULT_RULES: list[tuple[str, str, str, int, str, str]] = [
    ("", "registered", "", 1, "workdays", "登记后 1 个工作日内受理"),
    ("", "accepted", "", 1, "workdays", "受理后 1 个工作日内交办"),
    ("", "assigned", "", 2, "workdays", "交办后 2 个工作日内开始办理"),
    ("", "in_progress", "village", 5, "workdays", "小事不出村：村级 5 个工作日内化解"),
    ("", "in_progress", "town", 10, "workdays", "大事不出镇：乡镇级 10 个工作日内化解"),
    ("", "in_progress", "county", 20, "workdays", "县级 20 个工作日内化解"),
    ("", "in_progress", "", 20, "workdays", "其他层级 20 个工作日"),
    ("", "resolved", "", 5, "workdays", "化解后 5 个工作日内回访办结"),
    ("", "unresolved", "", 5, "workdays", "未化解的 5 个工作日内回访并依法分流"),
    ("on_the_spot", "registered", "", 4, "hours", "即接即办：4 小时内办结"),
    ("on_the_spot", "accepted", "", 4, "hours", "即接即办：4 小时内办结"),
    ("on_the_spot", "in_progress", "", 4, "hours", "即接即办：4 小时内办结"),
]


def seed_rules(ClockRule) -> int:  # noqa: N803 - a model class passed in by a migration
    created = 0
    for kind, status, level, limit, unit, note in DEFAULT_RULES:
        _, was_created = ClockRule.objects.get_or_create(
            kind=kind, status=status, level=level, category="", is_active=True,
            defaults={"limit": limit, "unit": unit, "note": note},
        )
        created += was_created
    return created


# Points of the quarterly assessment (季考评): Tianque's habit (a yellow card costs 5, a red card
# 10) and the rewards the county adds. (kind, points, note)
DEFAULT_POINT_WEIGHTS: list[tuple[str, str, str]] = [
    ("yellow_card", "-5", "本环节用时达预警比例仍未办结（黄牌）"),
    ("red_card", "-10", "本环节超期（红牌），按超期环节记一次"),
    ("supervised", "-2", "被上级中心或领导人工督办一次"),
    ("supervision_overdue", "-5", "督办单逾期未反馈一次"),
    ("closed_on_time", "2", "事项按期办结（各环节均未超期）"),
    ("satisfied", "1", "回访满意"),
    ("unsatisfied", "-2", "回访不满意"),
    ("repeat_petition", "-3", "同一事项重复信访一次"),
]


def seed_point_weights(PointWeight) -> int:  # noqa: N803 - a model class passed in by a migration
    from decimal import Decimal

    created = 0
    for kind, points, note in DEFAULT_POINT_WEIGHTS:
        _, was_created = PointWeight.objects.get_or_create(kind=kind, defaults={"points": Decimal(points), "note": note})
        created += was_created
    return created
