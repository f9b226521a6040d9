"""Database triggers that stamp rows with the writing transaction, for the API's incremental sync.

`sync_txid` must be set by the database, not by Python: the sweep updates cases with one
`UPDATE … FROM (VALUES …)`, imports insert in bulk, and a timestamp taken in Python before a
long transaction commits would sort before rows other clients have already pulled. On
PostgreSQL the trigger stores `txid_current()` (64 bits, never wraps); the feed only hands out
rows below the oldest transaction still running (`apiauth.sync.watermark`), so a late commit
cannot slip behind a cursor. On SQLite (the embedded demo) writers are serialized, so a counter
taken inside the writing transaction is already in commit order.

Used by migrations: keep the functions' output stable.
"""

from __future__ import annotations

FUNCTION = "zz_stamp_sync_txid"


def _pg_function() -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$ "
        "BEGIN NEW.sync_txid := txid_current(); RETURN NEW; END $$ LANGUAGE plpgsql;"
    )


def install(schema_editor, table: str) -> None:
    """Stamp `table.sync_txid` on every insert and update."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_pg_function())
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_sync" ON "{table}"')
        schema_editor.execute(
            f'CREATE TRIGGER "{table}_sync" BEFORE INSERT OR UPDATE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
        )
    elif vendor == "sqlite":
        stamp = (
            f'UPDATE "{table}" SET sync_txid = (SELECT COALESCE(MAX(sync_txid), 0) + 1 FROM "{table}") '  # noqa: S608
            "WHERE rowid = NEW.rowid;"
        )
        for event in ("INSERT", "UPDATE"):
            name = f"{table}_sync_{event.lower()}"
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            schema_editor.execute(f'CREATE TRIGGER "{name}" AFTER {event} ON "{table}" BEGIN {stamp} END')


def uninstall(schema_editor, table: str) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_sync" ON "{table}"')
    elif vendor == "sqlite":
        for event in ("insert", "update"):
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_sync_{event}"')


def install_touch_case(schema_editor, table: str, fk_column: str = "case_id") -> None:
    """A write on a kind's detail row (a petition, a hazard) re-stamps its case, so the case feed
    carries changes made only to the detail."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        fn = f"{table}_touch_case"
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger AS $$ BEGIN "  # noqa: S608
            f"UPDATE cases_case SET sync_txid = txid_current() "
            f"WHERE id = NEW.{fk_column} AND sync_txid <> txid_current(); "
            "RETURN NEW; END $$ LANGUAGE plpgsql;"
        )
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_touch_case" ON "{table}"')
        schema_editor.execute(
            f'CREATE TRIGGER "{table}_touch_case" AFTER INSERT OR UPDATE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION {fn}()"
        )
    elif vendor == "sqlite":
        stamp = (
            "UPDATE cases_case SET sync_txid = (SELECT COALESCE(MAX(sync_txid), 0) + 1 FROM cases_case) "  # noqa: S608
            f"WHERE id = NEW.{fk_column};"
        )
        for event in ("INSERT", "UPDATE"):
            name = f"{table}_touch_case_{event.lower()}"
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            schema_editor.execute(f'CREATE TRIGGER "{name}" AFTER {event} ON "{table}" BEGIN {stamp} END')


def uninstall_touch_case(schema_editor, table: str) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_touch_case" ON "{table}"')
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_touch_case()")
    elif vendor == "sqlite":
        for event in ("insert", "update"):
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_touch_case_{event}"')
