"""The safety index's indicators with their default weights and scales (the county edits them)."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    ("disputes", "矛盾纠纷发生率", "件/千人·年", "25", "0", "30",
     "期内受理的矛盾纠纷（事项类型：矛盾纠纷）÷ 实有人口 × 1000，按年折算"),
    ("incidents", "非警务警情发生率", "件/千人·年", "15", "0", "10",
     "期内受理的 110 非警务类警情（来源渠道：110）÷ 实有人口 × 1000，按年折算"),
    ("petitions", "信访发生率", "件/千人·年", "15", "0", "10", "期内受理的信访事项 ÷ 实有人口 × 1000，按年折算"),
    ("red", "红色预警发生率", "件/千人·年", "15", "0", "5", "期内受理且为红色预警的事项 ÷ 实有人口 × 1000，按年折算"),
    ("resolution", "化解率", "%", "20", "100", "80", "期内受理事项中已化解的比例（与大屏、报表的化解率同一口径）"),
    ("repeat", "重复信访率", "%", "10", "0", "30", "期内受理的信访事项中被认定为重复信访的比例"),
]


def seed(apps, schema_editor):
    SafetyIndicator = apps.get_model("dashboards", "SafetyIndicator")
    for order, (code, label, unit, weight, best, worst, note) in enumerate(DEFAULTS):
        SafetyIndicator.objects.get_or_create(
            code=code,
            defaults={
                "label": label, "unit": unit, "weight": Decimal(weight), "best": Decimal(best),
                "worst": Decimal(worst), "note": note, "order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
