from django.db import migrations


def forwards(apps, schema_editor):
    from cases.defaults import seed_point_weights

    seed_point_weights(apps.get_model("cases", "PointWeight"))
    apps.get_model("cases", "SupervisionPolicy").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_supervision_and_points")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
