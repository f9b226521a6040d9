from django.db import migrations


def forwards(apps, schema_editor):
    from grids.defaults import seed_hazard_rules

    seed_hazard_rules(apps.get_model("cases", "ClockRule"))


def backwards(apps, schema_editor):
    from grids.defaults import HAZARD_RULES

    ClockRule = apps.get_model("cases", "ClockRule")
    for status, phase, limit, unit, _note in HAZARD_RULES:
        ClockRule.objects.filter(
            kind="hazard", status=status, phase=phase, level="", category="", limit=limit, unit=unit
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("grids", "0001_initial"), ("cases", "0002_defaults")]
    operations = [migrations.RunPython(forwards, backwards)]
