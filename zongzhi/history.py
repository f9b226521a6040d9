"""Lean history tables for the hot models.

django-simple-history gives every copied field of a historical model its own index (each foreign
key, each unique or indexed column, plus `varchar_pattern_ops` twins): 17 indexes on the case
history, 11 on the person history. History is read by object (`id`) and by date (`history_date`,
`history_user`, which simple-history indexes itself); the other indexes were only paid for, on
every registration, import row and sweep escalation.
"""

from __future__ import annotations


class IndexOnly:
    """For `HistoricalRecords(no_db_index=IndexOnly(...))`: drop the db index of every copied field
    except the named ones (simple-history asks `name in no_db_index` per field)."""

    def __init__(self, *keep: str) -> None:
        self.keep = frozenset(keep)

    def __contains__(self, name: object) -> bool:
        return name not in self.keep

    def __repr__(self) -> str:
        return f"IndexOnly{tuple(sorted(self.keep))}"
