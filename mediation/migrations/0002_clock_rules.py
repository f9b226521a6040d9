from django.db import migrations


def forwards(apps, schema_editor):
    from mediation.defaults import seed_rules

    seed_rules(apps.get_model("cases", "ClockRule"))


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_initial"), ("cases", "0005_point_weights")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
