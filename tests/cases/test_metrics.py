# ruff: noqa: S608 - the independent SQL is assembled from constants and int ids; values are bound parameters
"""Every figure of cases.metrics on a generated data set, against an independent raw-SQL computation."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import statistics
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Q

from cases import metrics, services
from cases.metrics import Period
from cases.models import Case, CaseKind, Category, Channel, Satisfaction, Status, TimelineEntry, WarningLevel

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=SH)

pytestmark = pytest.mark.django_db

PERIODS = [
    metrics.ALL_TIME,
    Period.quarter(2026, 1),
    Period.quarter(2026, 3),
    Period.from_dates(dt.date(2026, 3, 15), dt.date(2026, 8, 31)),
    Period(lo=dt.datetime(2026, 6, 1, tzinfo=SH)),
]


@pytest.fixture
def dataset(cw):
    """~240 cases with random facts: every state, outcome, satisfaction, escalation and link."""
    rng = random.Random(20261123)
    places = [cw.grid_a, cw.grid_b, cw.village_a, cw.village_b, cw.town_a, cw.town_b, cw.county]
    items = [
        services.NewCase(
            channel=Channel.VISIT,
            category=rng.choice([Category.NEIGHBOUR, Category.LABOUR, Category.LAND]),
            title=f"事项 {i}",
            region=rng.choice(places),
            kind=rng.choice([CaseKind.DISPUTE, CaseKind.DISPUTE, CaseKind.PETITION, CaseKind.HAZARD]),
        )
        for i in range(240)
    ]
    cases = services.case_register_bulk(by=None, items=items, now=dt.datetime(2026, 1, 1, 9, tzinfo=SH))
    centers = [cw.c_county, cw.c_town_a, cw.c_town_b, cw.c_village_a, cw.c_village_b]
    base = dt.datetime(2025, 12, 1, 8, tzinfo=SH)
    entries = []
    for case in cases:
        case.created_at = base + dt.timedelta(days=rng.randint(0, 330), seconds=rng.randint(0, 86399))
        fate = rng.choice(
            [
                "open",
                "open",
                "waiting",
                "resolved",
                "unresolved",
                "closed_ok",
                "closed_ok",
                "closed_fail",
                "merged",
            ]
        )
        case.resolved_at = case.closed_at = None
        case.closed_on_time, case.satisfaction, case.overdue_count = None, "", 0
        case.warning_level = rng.choice(list(WarningLevel))
        case.due_at = NOW + dt.timedelta(hours=rng.randint(-300, 300))
        if fate == "open":
            case.status = rng.choice([Status.REGISTERED, Status.ACCEPTED, Status.IN_PROGRESS])
        elif fate == "waiting":
            case.status = Status.WAITING
        elif fate == "merged":
            case.status = Status.MERGED
            case.resolved_at = case.created_at + dt.timedelta(days=1)  # a merged duplicate counts nowhere
        else:
            if fate in ("resolved", "closed_ok"):
                case.resolved_at = case.created_at + dt.timedelta(hours=rng.randint(1, 24 * 60))
            end = case.resolved_at or case.created_at + dt.timedelta(days=rng.randint(1, 40))
            if fate.startswith("closed"):
                case.status = Status.CLOSED
                case.closed_at = end + dt.timedelta(hours=rng.randint(1, 200))
                case.closed_on_time = rng.choice([True, True, False, None])
                case.satisfaction = rng.choice(["", *Satisfaction.values])
            else:
                case.status = Status.RESOLVED if fate == "resolved" else Status.UNRESOLVED
        if rng.random() < 0.2:
            case.overdue_count = rng.randint(1, 2)
        for _ in range(rng.randint(0, 3)):
            action = rng.choice(["escalate", "overdue", "take_over", "transfer", "accept"])
            a, b = rng.choice(centers), rng.choice(centers)
            met = rng.choice([True, False, None])
            entries.append(
                TimelineEntry(
                    case=case,
                    at=case.created_at + dt.timedelta(days=rng.randint(0, 60)),
                    action=action,
                    summary=action,
                    from_center=a,
                    to_center=b,
                    met_deadline=met,
                    late_seconds=None if met is None else (0 if met else rng.randint(1, 99999)),
                )
            )
    Case.objects.bulk_update(
        cases,
        [
            "created_at",
            "status",
            "resolved_at",
            "closed_at",
            "closed_on_time",
            "satisfaction",
            "overdue_count",
            "warning_level",
            "due_at",
        ],
    )
    TimelineEntry.objects.bulk_create(entries)
    petitions = [c for c in cases if c.kind == CaseKind.PETITION]
    for c in petitions[::3]:
        c.related.add(*rng.sample(cases, rng.randint(1, 2)))  # two links: a to-many join counts once
    return cases


def sql(query: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def period_sql(column: str, period: Period) -> tuple[str, list]:
    parts, params = [f"{column} IS NOT NULL"], []
    if period.lo is not None:
        parts.append(f"{column} >= %s")
        params.append(period.lo)
    if period.hi is not None:
        parts.append(f"{column} < %s")
        params.append(period.hi)
    return " AND ".join(parts), params


def pct(num: int, den: int) -> float | None:
    return None if den == 0 else num * 100.0 / den


def expected(period: Period, town_id: int | None = None) -> dict:
    """The figures by hand: plain SQL on the tables, no ORM, no cases.metrics."""
    town = "" if town_id is None else f" AND c.town_id = {int(town_id)}"
    created, p1 = period_sql("c.created_at", period)
    closed, p2 = period_sql("c.closed_at", period)
    resolved, p3 = period_sql("c.resolved_at", period)
    received, resolved_n = sql(
        f"SELECT count(*), count(c.resolved_at) FROM cases_case c WHERE {created} AND c.status <> 'merged'{town}",
        p1,
    )[0]
    closed_n, on_time, known, happy, answered = sql(
        f"""SELECT count(*), count(*) FILTER (WHERE c.closed_on_time), count(c.closed_on_time),
                   count(*) FILTER (WHERE c.satisfaction IN ('satisfied', 'basic')),
                   count(*) FILTER (WHERE c.satisfaction <> '')
            FROM cases_case c WHERE c.status = 'closed' AND {closed}{town}""",
        p2,
    )[0]
    days = [
        r[0] / 86400
        for r in sql(
            f"""SELECT EXTRACT(EPOCH FROM c.resolved_at - c.created_at)::float FROM cases_case c
                WHERE c.status <> 'merged' AND {resolved}{town}""",
            p3,
        )
    ]
    escalated = sql(
        f"""SELECT count(*) FROM cases_case c WHERE {created} AND c.status <> 'merged'{town} AND EXISTS (
                SELECT 1 FROM cases_timelineentry t WHERE t.case_id = c.id
                AND t.action IN ('escalate', 'overdue', 'take_over') AND t.from_center_id <> t.to_center_id)""",
        p1,
    )[0][0]
    petitions, repeats = sql(
        f"""SELECT count(*), count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM cases_case_related r WHERE r.from_case_id = c.id))
            FROM cases_case c WHERE c.kind = 'petition' AND c.status <> 'merged' AND {created}{town}""",
        p1,
    )[0]
    overdue = sql(
        f"""SELECT count(*) FROM cases_case c WHERE c.status NOT IN ('closed', 'merged'){town} AND (
                c.overdue_count > 0 OR (c.status <> 'waiting' AND c.due_at <= %s))""",
        [NOW],
    )[0][0]
    opened = dict(
        sql(
            f"""SELECT c.warning_level, count(*) FROM cases_case c
                WHERE c.status NOT IN ('closed', 'merged'){town} GROUP BY c.warning_level""",
            [],
        )
    )
    return {
        "received": received,
        "resolved": resolved_n,
        "resolution_rate": pct(resolved_n, received),
        "closed": closed_n,
        "on_time_close_rate": pct(on_time, known),
        "satisfaction_rate": pct(happy, answered),
        "avg_days_to_resolve": statistics.fmean(days) if days else None,
        "median_days_to_resolve": statistics.median(days) if days else None,
        "escalation_rate": pct(escalated, received),
        "repeat_petition_rate": pct(repeats, petitions),
        "overdue": overdue,
        "open": sum(opened.values()),
        "open_red": opened.get("red", 0),
        "open_yellow": opened.get("yellow", 0),
        "open_green": opened.get("green", 0),
    }


def assert_figures(got: dict, want: dict) -> None:
    for key, value in want.items():
        if value is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


REPEAT = Q(related__isnull=False)  # a to-many join: the figure must count each case once


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.label)
def test_each_case_figure_equals_raw_sql(dataset, period):
    got = metrics.case_figures(Case.objects.all(), period=period, now=NOW, repeat=REPEAT)
    assert_figures(got, expected(period))


def test_figures_per_town_in_one_group_by_equal_raw_sql(dataset, cw):
    period = Period.quarter(2026, 2)
    rows = metrics.case_figures_by(Case.objects.all(), "town", period=period, now=NOW, repeat=REPEAT)
    by_town = {r["town"]: r for r in rows}
    assert set(by_town) >= {cw.town_a.pk, cw.town_b.pk}
    for town in (cw.town_a, cw.town_b):
        assert_figures(by_town[town.pk], expected(period, town.pk))


def test_figures_through_a_detail_model_prefix(dataset):
    """A kind's app applies the same figure to its detail model (prefix "case__")."""
    from django.db.models import Value

    period = Period.quarter(2026, 3)
    direct = Case.objects.aggregate(r=metrics.resolution_rate(period=period))["r"]
    via = (
        TimelineEntry.objects.filter(action="register")
        .annotate(one=Value(1))
        .aggregate(r=metrics.resolution_rate(period=period, prefix="case__"))["r"]
    )
    assert via == pytest.approx(direct)


def test_step_on_time_rate_reads_stored_timeline_facts(dataset):
    period = Period.quarter(2026, 2)
    where, params = period_sql("at", period)
    met, known = sql(
        f"SELECT count(*) FILTER (WHERE met_deadline), count(met_deadline) FROM cases_timelineentry WHERE {where}",
        params,
    )[0]
    got = TimelineEntry.objects.aggregate(r=metrics.step_on_time_rate(period=period))["r"]
    assert got == pytest.approx(pct(met, known))


def test_rates_are_null_not_zero_without_a_denominator(cw):
    got = metrics.case_figures(Case.objects.all(), now=NOW, repeat=REPEAT)
    assert got["received"] == 0 and got["overdue"] == 0
    for key in (
        "resolution_rate",
        "on_time_close_rate",
        "satisfaction_rate",
        "escalation_rate",
        "repeat_petition_rate",
        "avg_days_to_resolve",
        "median_days_to_resolve",
    ):
        assert got[key] is None, key


def test_median_is_the_mean_of_the_middle_two_for_an_even_count(cw, make_case):
    start = dt.datetime(2026, 3, 2, 9, tzinfo=SH)
    for hours in (24, 48, 96, 240):
        case = make_case()
        Case.objects.filter(pk=case.pk).update(
            created_at=start, resolved_at=start + dt.timedelta(hours=hours), status=Status.RESOLVED
        )
    got = metrics.case_figures(Case.objects.all(), now=NOW)
    assert got["median_days_to_resolve"] == pytest.approx(3.0)  # (2 + 4) / 2
    assert got["avg_days_to_resolve"] == pytest.approx((1 + 2 + 4 + 10) / 4)


def test_sqlite_median_aggregate_honours_filter_and_nulls():
    """The demo mode's median: the aggregate registered on a SQLite connection, FILTER included."""

    class Conn:  # what _register_sqlite_median needs of a Django connection
        def __init__(self):
            self.connection = sqlite3.connect(":memory:")

        def ensure_connection(self):
            pass

    conn = Conn()
    metrics._register_sqlite_median(conn)
    raw = conn.connection
    raw.execute("CREATE TABLE t (g TEXT, x REAL)")
    raw.executemany(
        "INSERT INTO t VALUES (?, ?)", [("a", 1), ("a", 3), ("a", None), ("a", 10), ("b", 7), ("b", 2)]
    )
    rows = raw.execute(
        "SELECT g, ZZ_MEDIAN(x), ZZ_MEDIAN(x) FILTER (WHERE x > 2) FROM t GROUP BY g ORDER BY g"
    ).fetchall()
    assert rows == [("a", 3.0, 6.5), ("b", 4.5, 7.0)]
    assert raw.execute("SELECT ZZ_MEDIAN(x) FROM t WHERE g = 'none'").fetchone() == (None,)


def test_quarter_periods_cover_the_year_without_gaps():
    quarters = [Period.quarter(2026, q) for q in range(1, 5)]
    assert quarters[0].lo == dt.datetime(2026, 1, 1, tzinfo=SH)
    assert quarters[3].hi == dt.datetime(2027, 1, 1, tzinfo=SH)
    for a, b in zip(quarters, quarters[1:], strict=False):
        assert a.hi == b.lo
    assert Period.quarter(2026, 1).label == "2026-01-01 至 2026-03-31"
