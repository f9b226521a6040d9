"""A write on this app's detail rows re-stamps their case's `sync_txid` (cases.sync_triggers), so the
API's incremental sync, which pages in the case's write order, carries changes made only to them."""

from django.db import migrations

from cases import sync_triggers

TABLES = (('mediation_mediation', 'case_id'), ('mediation_session', 'mediation_id'), ('mediation_agreement', 'mediation_id'), ('mediation_referral', 'case_id'),)


def install(apps, schema_editor):
    for table, column in TABLES:
        sync_triggers.install_touch_case(schema_editor, table, column)


def uninstall(apps, schema_editor):
    for table, _ in TABLES:
        sync_triggers.uninstall_touch_case(schema_editor, table)


class Migration(migrations.Migration):

    dependencies = [
        ("mediation", "0002_clock_rules"),
        ("cases", "0006_sync_txid"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
