"""Refreshing the rollup tables: incremental from the `CaseFact` ledger, or a full rebuild.

Incremental refresh (every SWEEP-like period, dashboards.tasks.refresh_rollups):
1. Under a row lock on RollupState("cases") (one refresh at a time), take the matters whose
   `updated_at` is at or after the last watermark minus OVERLAP (index case_updated_idx). Every
   write to a Case goes through cases.services, which sets `updated_at`.
2. Let the database evaluate their facts (`cases.metrics.case_facts()`: the one definition) and
   read their old ledger rows; the difference of what the two contribute is added to the rollups
   with one upsert per table (INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n, PostgreSQL
   and SQLite alike). A matter seen twice (the overlap) contributes a difference of zero.
3. Store the new ledger rows and move the watermark to the refresh's start, held back to the
   start of the oldest transaction still open on PostgreSQL (a write committed later carries an
   `updated_at` from before it, and must still be seen next time); OVERLAP covers the moments
   between a service reading the clock and opening its transaction.

Cost follows the number of changed matters, not the table's size. A full rebuild (`rebuild()`,
nightly and whenever the ledger is empty) recomputes the ledger and every rollup with
INSERT … SELECT … GROUP BY in the database, no Python loop over rows.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Case as CaseWhen
from django.db.models import CharField, DateField, F, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Substr, TruncDate, TruncMonth
from django.utils import timezone

from cases import metrics
from cases.metrics import LOCAL
from cases.models import Case
from centers.models import Region, RegionKind

from .models import (
    CLOSED_COUNTS,
    FLOW_COUNTS,
    CaseFact,
    ClosedRollup,
    Dimension,
    FlowRollup,
    Granularity,
    GridActivityRollup,
    OpenRollup,
    RollupState,
)

CASES = "cases"
GRID = "grid_activity"
# Between a service reading the clock (updated_at) and its transaction becoming visible.
OVERLAP = dt.timedelta(seconds=60)
# A transaction open longer than this does not hold the watermark back further (the nightly
# rebuild catches what it wrote); bounds the work of one refresh.
MAX_HOLD_BACK = dt.timedelta(minutes=10)
CHUNK = 5_000
# More changed matters than this at once (a bulk import, a first run): rebuild instead.
REBUILD_ABOVE = 200_000
# Visits: days touched by the newest visits (by id, this many back, for late commits).
VISIT_ID_OVERLAP = 5_000

FACT_FIELDS = [f.attname for f in CaseFact._meta.concrete_fields]
FLAG_FIELDS = list(metrics.case_facts())
FLOW_DIMS = (Dimension.ALL, Dimension.KIND, Dimension.CHANNEL, Dimension.CATEGORY)
CLOSED_DIMS = (Dimension.ALL, Dimension.KIND, Dimension.CATEGORY)
OPEN_KEY = ("area_id", "kind", "category", "warning_level")


# ============================================================================================
# The ledger row of a matter, as the database computes it
# ============================================================================================


def _flag(q) -> CaseWhen:
    return CaseWhen(When(q, then=Value(1)), default=Value(0), output_field=IntegerField())


def fact_values(qs: QuerySet[Case]) -> QuerySet:
    """`qs` as CaseFact column values (same names and order as FACT_FIELDS)."""
    facts = metrics.case_facts()
    ann: dict[str, Any] = {
        "case_id": F("pk"),
        "area_id": Coalesce("town_id", "region_id"),
        "created_day": TruncDate("created_at", tzinfo=LOCAL),
        "created_month": Cast(TruncMonth("created_at", tzinfo=LOCAL), DateField()),
        "closed_day": TruncDate("closed_at", tzinfo=LOCAL),
        "closed_month": Cast(TruncMonth("closed_at", tzinfo=LOCAL), DateField()),
        "f_kind": F("kind"),
        "f_channel": F("channel"),
        "f_category": F("category"),
        "f_warning_level": F("warning_level"),
    }
    ann.update({f"f_{name}": _flag(q) for name, q in facts.items()})
    names = list(ann)
    assert [n.removeprefix("f_") for n in names] == FACT_FIELDS, (names, FACT_FIELDS)
    return qs.order_by().annotate(**ann).values(*names)


def _fact_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k.removeprefix("f_"): v for k, v in row.items()}


# ============================================================================================
# What a ledger row contributes
# ============================================================================================


def _flow_keys(f: dict[str, Any]) -> Iterator[tuple]:
    for gran, start in ((Granularity.DAY, f["created_day"]), (Granularity.MONTH, f["created_month"])):
        for dim in FLOW_DIMS:
            yield (str(gran), start, f["area_id"], str(dim), "" if dim == Dimension.ALL else f[str(dim)])


def _closed_keys(f: dict[str, Any]) -> Iterator[tuple]:
    for gran, start in ((Granularity.DAY, f["closed_day"]), (Granularity.MONTH, f["closed_month"])):
        for dim in CLOSED_DIMS:
            yield (str(gran), start, f["area_id"], str(dim), "" if dim == Dimension.ALL else f[str(dim)])


@dataclass
class Deltas:
    flow: dict[tuple, list[int]]
    closed: dict[tuple, list[int]]
    open: dict[tuple, list[int]]

    @classmethod
    def empty(cls) -> Deltas:
        return cls(
            defaultdict(lambda: [0] * len(FLOW_COUNTS)),
            defaultdict(lambda: [0] * len(CLOSED_COUNTS)),
            defaultdict(lambda: [0]),
        )

    def add(self, f: dict[str, Any], sign: int) -> None:
        if f["received"]:
            vec = [sign * f[c] for c in FLOW_COUNTS]
            for key in _flow_keys(f):
                acc = self.flow[key]
                for i, v in enumerate(vec):
                    acc[i] += v
        if f["closed"]:
            vec = [sign * f[c] for c in CLOSED_COUNTS]
            for key in _closed_keys(f):
                acc = self.closed[key]
                for i, v in enumerate(vec):
                    acc[i] += v
        if f["open"]:
            self.open[tuple(f[k] for k in OPEN_KEY)][0] += sign


def _upsert(model, key_cols: Sequence[str], count_cols: Sequence[str], deltas: dict[tuple, list[int]]) -> int:
    """Add `deltas` to the rows of their keys (inserting missing rows): multi-row INSERT … ON
    CONFLICT DO UPDATE, a few hundred rows per statement (PostgreSQL and SQLite alike)."""
    rows = [(*k, *v) for k, v in deltas.items() if any(v)]
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    cols = [*key_cols, *count_cols]
    sets = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in count_cols)
    one = f"({', '.join(['%s'] * len(cols))})"
    # SQLite allows 999 parameters per statement in older builds.
    per_statement = max(1, 900 // len(cols))
    with connection.cursor() as cur:
        for i in range(0, len(rows), per_statement):
            chunk = rows[i : i + per_statement]
            sql = (
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join([one] * len(chunk))} "  # noqa: S608 - our own table and columns
                f"ON CONFLICT ({', '.join(key_cols)}) DO UPDATE SET {sets}"
            )
            cur.execute(sql, [v for row in chunk for v in row])
    return len(rows)


ROLLUP_KEY = ("granularity", "start", "area_id", "dimension", "value")


def _apply(d: Deltas) -> None:
    _upsert(FlowRollup, ROLLUP_KEY, FLOW_COUNTS, d.flow)
    _upsert(ClosedRollup, ROLLUP_KEY, CLOSED_COUNTS, d.closed)
    _upsert(OpenRollup, OPEN_KEY, ("open",), d.open)


# ============================================================================================
# Refresh
# ============================================================================================


@dataclass
class RefreshResult:
    mode: str  # "incremental" | "rebuild"
    changed: int
    ms: int
    watermark: dt.datetime


def _state(name: str) -> RollupState:
    RollupState.objects.get_or_create(name=name)
    return RollupState.objects.select_for_update().get(name=name)


def _horizon(started: dt.datetime) -> dt.datetime:
    """The new watermark: the refresh's start, held back to the oldest open transaction."""
    if connection.vendor != "postgresql":
        return started  # SQLite serialises writers: nothing commits behind our back
    with connection.cursor() as cur:
        cur.execute(
            "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
        )
        (oldest,) = cur.fetchone()
    if oldest is None:
        return started
    return max(min(started, oldest), started - MAX_HOLD_BACK)


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def refresh_cases(*, now: dt.datetime | None = None) -> RefreshResult:
    """Bring the case rollups up to date (incrementally when the ledger exists)."""
    t0 = time.perf_counter()
    with transaction.atomic():
        state = _state(CASES)
        started = now or timezone.now()
        if state.watermark is None or not CaseFact.objects.exists():
            return _rebuild_locked(state, started, t0)
        ids = list(
            Case.objects.filter(updated_at__gte=state.watermark - OVERLAP)
            .order_by()
            .values_list("pk", flat=True)
        )
        if len(ids) > REBUILD_ABOVE:
            return _rebuild_locked(state, started, t0)
        horizon = _horizon(started)
        deltas = Deltas.empty()
        for chunk in _chunks(ids):
            new = [_fact_row(r) for r in fact_values(Case.objects.filter(pk__in=chunk))]
            old = CaseFact.objects.filter(case_id__in=chunk).values(*FACT_FIELDS)
            for f in old:
                deltas.add(f, -1)
            for f in new:
                deltas.add(f, +1)
            CaseFact.objects.bulk_create(
                [CaseFact(**f) for f in new],
                update_conflicts=True,
                unique_fields=["case_id"],
                update_fields=[f for f in FACT_FIELDS if f != "case_id"],
                batch_size=1000,
            )
        _apply(deltas)
        ms = round((time.perf_counter() - t0) * 1000)
        state.watermark = horizon
        state.refreshed_at = started
        state.last_changed = len(ids)
        state.last_ms = ms
        state.generation += 1
        state.save()
        return RefreshResult("incremental", len(ids), ms, horizon)


def rebuild_cases(*, now: dt.datetime | None = None) -> RefreshResult:
    """Recompute the ledger and every case rollup from the base table."""
    t0 = time.perf_counter()
    with transaction.atomic():
        state = _state(CASES)
        return _rebuild_locked(state, now or timezone.now(), t0)


def _insert_select(model, columns: Sequence[str], qs: QuerySet) -> None:
    sql, params = qs.query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {table} ({', '.join(columns)}) {sql}", params)  # noqa: S608 - compiled by the ORM


def _rebuild_locked(state: RollupState, started: dt.datetime, t0: float) -> RefreshResult:
    horizon = _horizon(started)
    for model in (CaseFact, FlowRollup, ClosedRollup, OpenRollup):
        if connection.vendor == "postgresql":
            _truncate(model)
        else:
            model.objects.all().delete()
    _insert_select(CaseFact, FACT_FIELDS, fact_values(Case.objects.all()))
    counts = lambda cols: {c: Sum(c) for c in cols}  # noqa: E731
    for gran, day_col in ((Granularity.DAY, "created_day"), (Granularity.MONTH, "created_month")):
        for dim in FLOW_DIMS:
            qs = (
                CaseFact.objects.filter(received=1)
                .order_by()
                .values(
                    g=Value(str(gran), output_field=CharField()),
                    s=F(day_col),
                    a=F("area_id"),
                    d=Value(str(dim), output_field=CharField()),
                    v=Value("", output_field=CharField()) if dim == Dimension.ALL else F(str(dim)),
                )
                .annotate(**{f"n_{c}": s for c, s in counts(FLOW_COUNTS).items()})
            )
            _insert_select(FlowRollup, [*ROLLUP_KEY, *FLOW_COUNTS], qs)
    for gran, day_col in ((Granularity.DAY, "closed_day"), (Granularity.MONTH, "closed_month")):
        for dim in CLOSED_DIMS:
            qs = (
                CaseFact.objects.filter(closed=1)
                .order_by()
                .values(
                    g=Value(str(gran), output_field=CharField()),
                    s=F(day_col),
                    a=F("area_id"),
                    d=Value(str(dim), output_field=CharField()),
                    v=Value("", output_field=CharField()) if dim == Dimension.ALL else F(str(dim)),
                )
                .annotate(**{f"n_{c}": s for c, s in counts(CLOSED_COUNTS).items()})
            )
            _insert_select(ClosedRollup, [*ROLLUP_KEY, *CLOSED_COUNTS], qs)
    qs = (
        CaseFact.objects.filter(open=1)
        .order_by()
        .values("area_id", "kind", "category", "warning_level")
        .annotate(n_open=Sum("open"))
    )
    _insert_select(OpenRollup, [*OPEN_KEY, "open"], qs)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for model in (CaseFact, FlowRollup, ClosedRollup, OpenRollup):
                cur.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    ms = round((time.perf_counter() - t0) * 1000)
    state.watermark = horizon
    state.refreshed_at = started
    state.rebuilt_at = started
    state.last_changed = CaseFact.objects.count()
    state.last_ms = ms
    state.generation += 1
    state.save()
    return RefreshResult("rebuild", state.last_changed, ms, horizon)


def _truncate(model) -> None:
    with connection.cursor() as cur:
        # TRUNCATE refuses a table with pending deferred foreign-key checks in this transaction:
        # run them now (Django's foreign keys are DEFERRABLE INITIALLY DEFERRED), then defer again.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute(f"TRUNCATE {connection.ops.quote_name(model._meta.db_table)}")
        cur.execute("SET CONSTRAINTS ALL DEFERRED")


# ============================================================================================
# Grid workers' activity (household visits)
# ============================================================================================


def _town_paths() -> dict[str, int]:
    return dict(Region.objects.filter(kind=RegionKind.TOWN).values_list("path", "pk"))


def _visit_days(qs: QuerySet) -> set[dt.date]:
    return set(qs.annotate(d=TruncDate("visited_at", tzinfo=LOCAL)).values_list("d", flat=True).distinct())


def _day_runs(days: Sequence[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as contiguous [first, last] runs."""
    runs: list[tuple[dt.date, dt.date]] = []
    for d in sorted(set(days)):
        if runs and runs[-1][1] + dt.timedelta(days=1) == d:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def _visit_rollup_rows(where: Q) -> list[GridActivityRollup]:
    """GROUP BY local day and town over the visits matching `where` (one query per town path length)."""
    from grids.models import HouseholdVisit, VisitFinding

    towns = _town_paths()
    rows = []
    for length in sorted({len(p) for p in towns}):
        grouped = (
            HouseholdVisit.objects.filter(where)
            .order_by()
            .values(d=TruncDate("visited_at", tzinfo=LOCAL), p=Substr("grid_path", 1, length))
            .annotate(
                visits=metrics.visit_count(),
                disputes=metrics.visit_count(filter=Q(finding=VisitFinding.DISPUTE)),
                hazards=metrics.visit_count(filter=Q(finding=VisitFinding.HAZARD)),
                workers=metrics.active_worker_count(),
            )
        )
        for r in grouped:
            area = towns.get(r["p"])
            if area is not None and r["visits"]:
                rows.append(
                    GridActivityRollup(
                        day=r["d"],
                        area_id=area,
                        visits=r["visits"],
                        disputes_found=r["disputes"],
                        hazards_found=r["hazards"],
                        workers=r["workers"],
                    )
                )
    return rows


def _recompute_visit_days(days: Iterable[dt.date]) -> int:
    """Replace the rows of these days. The filter names every grid so that PostgreSQL walks the
    (grid, visited_at) index once per grid instead of reading every visit."""
    days = sorted(set(days))
    if not days:
        return 0
    grids = list(Region.objects.filter(kind=RegionKind.GRID).values_list("pk", flat=True))
    when = Q()
    for first, last in _day_runs(days):
        when |= metrics.Period.from_dates(first, last).q("visited_at")
    rows = _visit_rollup_rows(Q(grid_id__in=grids) & when)
    GridActivityRollup.objects.filter(day__in=days).delete()
    GridActivityRollup.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def refresh_grid_activity(*, now: dt.datetime | None = None, full: bool = False) -> RefreshResult:
    """Recompute the days touched by new visits (and today): each a small GROUP BY."""
    from grids.models import HouseholdVisit

    t0 = time.perf_counter()
    with transaction.atomic():
        state = _state(GRID)
        started = now or timezone.now()
        last_id = state.last_changed if state.watermark is not None and not full else None
        max_id = HouseholdVisit.objects.aggregate(m=Max("pk"))["m"] or 0
        if last_id is None:
            GridActivityRollup.objects.all().delete()
            GridActivityRollup.objects.bulk_create(_visit_rollup_rows(Q()), batch_size=1000)
            days: set[dt.date] = set()
        else:
            days = _visit_days(HouseholdVisit.objects.filter(pk__gt=max(last_id - VISIT_ID_OVERLAP, 0)))
            days.add(timezone.localtime(started).date())
            _recompute_visit_days(days)
        ms = round((time.perf_counter() - t0) * 1000)
        state.watermark = started
        state.refreshed_at = started
        if last_id is None:
            state.rebuilt_at = started
        # For this family the "changed" counter keeps the highest visit id seen.
        state.last_changed = max_id
        state.last_ms = ms
        state.generation += 1
        state.save()
        return RefreshResult("rebuild" if last_id is None else "incremental", len(days), ms, started)


def refresh_all(*, now: dt.datetime | None = None) -> dict[str, RefreshResult]:
    return {CASES: refresh_cases(now=now), GRID: refresh_grid_activity(now=now)}


def rebuild_all(*, now: dt.datetime | None = None) -> dict[str, RefreshResult]:
    return {CASES: rebuild_cases(now=now), GRID: refresh_grid_activity(now=now, full=True)}
