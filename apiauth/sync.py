"""The safe horizon of the incremental sync: below it, every write has committed and is visible.

Rows are stamped with the id of the transaction that wrote them (`sync_txid`, set by a trigger;
cases.sync_triggers). A transaction that started before a reader's query may commit after it,
with a smaller id than rows the reader already saw; a cursor that had moved past that id would
skip its rows for ever (the classic gap of "updated_at > last seen"). So the feed only serves rows
whose `sync_txid` lies below the oldest transaction still in progress in this database. Those can
no longer change or appear: a later write gets a later id and is served on a later pull.

Transactions of other databases on the same server (xids are server-wide) are left out, so they
do not hold the feed back. A transaction that stays open for long delays the feed by as long
(never loses a row).

A reader that has itself written in the transaction it reads in (a test, a script inside
`atomic()`) also sees its own rows: the horizon is raised past its own transaction id. API
requests read in autocommit and never have one, so for them the rule above holds exactly.
"""

from __future__ import annotations

from django.db import connection

_PG_WATERMARK = """
SELECT GREATEST(
    COALESCE(
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
          WHERE x IS DISTINCT FROM pg_current_xact_id_if_assigned()
            AND mod(x::text::bigint, 4294967296) NOT IN (
                SELECT backend_xid::text::bigint FROM pg_stat_activity
                 WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database())),
        pg_snapshot_xmax(pg_current_snapshot())::text::bigint),
    pg_current_xact_id_if_assigned()::text::bigint + 1)
"""


def horizon_expression():
    """The watermark as an SQL expression for the page's own query (one round trip fewer, and
    computed from the very snapshot the rows are read with); None where there is no limit."""
    if connection.vendor != "postgresql":
        return None
    from django.db.models import BigIntegerField
    from django.db.models.expressions import RawSQL

    return RawSQL(_PG_WATERMARK.strip(), [], output_field=BigIntegerField())  # noqa: S611 - constant SQL


def watermark() -> int | None:
    """Rows with sync_txid below this are complete and visible; None: no limit (SQLite)."""
    if connection.vendor != "postgresql":
        # SQLite serializes writers and stamps inside the writing transaction (commit order).
        return None
    with connection.cursor() as cur:
        cur.execute(_PG_WATERMARK)
        return int(cur.fetchone()[0])
