"""Fast bulk writes for the sweep.

Django's `bulk_update` builds a CASE WHEN expression per row and field in Python: for 1,000 rows
and 19 fields that is ~40,000 expressions and most of a second of CPU before the database sees a
byte. On PostgreSQL one `UPDATE … FROM (VALUES …)` through psycopg2's execute_values does the same
in a few milliseconds; SQLite (the embedded demo, small volumes) keeps `bulk_update`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models import Model

# Django's own field classes whose value psycopg2 adapts as it stands (ints, text, booleans, aware
# datetimes, dates, decimals, foreign keys' ints): converting each value through the field's
# get_db_prep_save costs more CPU than the INSERT itself. Subclasses (e.g. encrypted fields) are
# not in the set, so they keep their own conversion.
_PASSTHROUGH = {
    models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField, models.BigIntegerField,
    models.SmallIntegerField, models.PositiveIntegerField, models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField, models.BooleanField, models.CharField, models.TextField, models.SlugField,
    models.DateTimeField, models.DateField, models.DecimalField, models.FloatField,
}


def _converter(field: Any) -> Callable[[Any], Any] | None:
    """None when the value goes to psycopg2 unchanged, else the field's own conversion."""
    if type(field) in _PASSTHROUGH:
        return None
    if isinstance(field, models.ForeignKey) and type(field.target_field) in _PASSTHROUGH:
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _rows(items, getters, converters) -> list[list[Any]]:
    out = []
    for item in items:
        row = [get(item) for get in getters]
        for i, conv in converters:
            row[i] = conv(row[i])
        out.append(row)
    return out


def bulk_update_rows(model: type[Model], objs: Sequence[Model], fields: Sequence[str], *, page_size: int = 1000) -> None:
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, list(fields), batch_size=500)
        return
    from psycopg2.extras import execute_values

    meta = model._meta
    concrete = [meta.get_field(f) for f in fields]
    pk = meta.pk
    columns = [pk.column, *(f.column for f in concrete)]
    types = [pk.db_type(connection), *(f.db_type(connection) for f in concrete)]
    # Cast every value so NULLs and JSON in VALUES get the column's type.
    template = "(" + ", ".join(f"%s::{t}" for t in types) + ")"
    sets = ", ".join(f'"{c}" = v."{c}"' for c in columns[1:])
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'UPDATE "{meta.db_table}" AS t SET {sets} FROM (VALUES %s) AS v({names}) WHERE t."{pk.column}" = v."{pk.column}"'  # noqa: S608 - identifiers from model metadata, values bound
    from operator import attrgetter

    all_fields = [pk, *concrete]
    getters = [attrgetter(f.attname) for f in all_fields]
    converters = [(i, c) for i, c in enumerate(map(_converter, all_fields)) if c is not None]
    rows = _rows(objs, getters, converters)
    with connection.cursor() as cur:
        execute_values(cur.cursor, sql, rows, template=template, page_size=page_size)


def bulk_insert_rows(
    model: type[Model], rows: Sequence[dict], *, ignore_conflicts: bool = False, page_size: int = 1000
) -> None:
    """Insert plain dicts (field attnames → Python values) without building model instances."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**r) for r in rows], ignore_conflicts=ignore_conflicts, batch_size=500)
        return
    from psycopg2.extras import execute_values

    meta = model._meta
    attnames = list(rows[0])
    fields = [meta.get_field(a[:-3] if a.endswith("_id") and not _is_field(meta, a) else a) for a in attnames]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    sql = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES %s'  # noqa: S608 - identifiers from model metadata, values bound
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    from operator import itemgetter

    getters = [itemgetter(a) for a in attnames]
    converters = [(i, c) for i, c in enumerate(map(_converter, fields)) if c is not None]
    values = _rows(rows, getters, converters)
    with connection.cursor() as cur:
        execute_values(cur.cursor, sql, values, page_size=page_size)


def bulk_insert_objects(model: type[Model], objs: Sequence[Model], *, page_size: int = 1000) -> list[Model]:
    """`bulk_create` for new instances without its per-value conversion: sets their pks.

    One `INSERT … VALUES … RETURNING pk` per page through execute_values, values taken as they
    stand (see _PASSTHROUGH; other fields keep their own conversion, auto_now fields are stamped
    as `save()` would). Elsewhere than PostgreSQL, plain `bulk_create`.
    """
    if not objs:
        return list(objs)
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(objs, batch_size=500)
    from operator import attrgetter

    from psycopg2.extras import execute_values

    meta = model._meta
    pk = meta.pk
    auto_pk = isinstance(pk, models.AutoField)  # AutoField, BigAutoField, SmallAutoField
    fields = [f for f in meta.concrete_fields if not (auto_pk and f is pk)]
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj in objs:
        for f in stamped:
            f.pre_save(obj, True)
    columns = ", ".join(f'"{f.column}"' for f in fields)
    sql = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES %s RETURNING "{pk.column}"'  # noqa: S608 - identifiers from model metadata, values bound
    getters = [attrgetter(f.attname) for f in fields]
    converters = [(i, c) for i, c in enumerate(map(_converter, fields)) if c is not None]
    values = _rows(objs, getters, converters)
    with connection.cursor() as cur:
        ids = execute_values(cur.cursor, sql, values, page_size=page_size, fetch=True)
    db = connection.alias
    for obj, (pk_value,) in zip(objs, ids, strict=True):
        setattr(obj, pk.attname, pk_value)
        obj._state.adding = False
        obj._state.db = db
    return list(objs)


def _is_field(meta, name: str) -> bool:
    try:
        meta.get_field(name)
    except Exception:  # noqa: BLE001 - FieldDoesNotExist
        return False
    return True


def history_snapshot(
    model: type[Model],
    objs: Sequence[Model],
    *,
    reason: str,
    date,
    history_type: str = "~",
    created: bool = False,
    user: Any = None,
    user_id: int | None = None,
) -> None:
    """django-simple-history rows for `objs` as they now stand in the database ('~' = changed,
    '+' = created: `history_type="+"` or `created=True`, for rows just bulk-inserted), by `user`
    or `user_id` (neither: no user).

    On PostgreSQL one INSERT … SELECT copies the tracked columns straight from the table: no
    historical model instances and no per-value conversion in Python (bulk registration writes
    one history row per new person, case, party and petition).
    """
    if not objs:
        return
    history = model.history.model
    if created:
        history_type = "+"
    if connection.vendor != "postgresql":
        from django.contrib.auth import get_user_model

        if user is None and user_id:
            user = get_user_model()(pk=user_id)
        model.history.bulk_history_create(
            objs, update=history_type == "~", default_user=user, default_change_reason=reason, default_date=date
        )
        return
    tracked = [
        f for f in history._meta.concrete_fields
        if not f.name.startswith("history_") and f.name != "history_id"
    ]
    cols = ", ".join(f'"{f.column}"' for f in tracked)
    sql = (
        f'INSERT INTO "{history._meta.db_table}" ({cols}, "history_date", "history_change_reason", '  # noqa: S608 - identifiers from model metadata, values bound
        f'"history_type", "history_user_id") SELECT {cols}, %s, %s, %s, %s FROM "{model._meta.db_table}" '
        f'WHERE "{model._meta.pk.column}" = ANY(%s)'
    )
    user_id = getattr(user, "pk", None) or user_id
    with connection.cursor() as cur:
        cur.execute(sql, [date, reason, history_type, user_id, [o.pk for o in objs]])
