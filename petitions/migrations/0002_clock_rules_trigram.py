from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


def forwards(apps, schema_editor):
    from petitions.defaults import seed_rules

    seed_rules(apps.get_model("cases", "ClockRule"))
    apps.get_model("petitions", "PetitionPolicy").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("petitions", "0001_initial"), ("cases", "0003_minutes_unit")]
    operations = [
        # pg_trgm for the similarity of Chinese texts in data fusion (petitions.fusion). A no-op on
        # SQLite, where fusion scores with rapidfuzz instead.
        TrigramExtension(),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
