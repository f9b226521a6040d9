"""A write on this app's detail rows re-stamps their case's `sync_txid` (cases.sync_triggers), so the
API's incremental sync, which pages in the case's write order, carries changes made only to them."""

from django.db import migrations

from cases import sync_triggers

TABLES = (('petitions_petition', 'case_id'),)


def install(apps, schema_editor):
    for table, column in TABLES:
        sync_triggers.install_touch_case(schema_editor, table, column)


def uninstall(apps, schema_editor):
    for table, _ in TABLES:
        sync_triggers.uninstall_touch_case(schema_editor, table)


class Migration(migrations.Migration):

    dependencies = [
        ("petitions", "0004_documents"),
        ("cases", "0006_sync_txid"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
