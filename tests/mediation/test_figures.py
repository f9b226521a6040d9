"""The figures the centers report, on a generated data set, against values computed here in Python."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cases import metrics
from cases.models import Category, Channel
from cases.services import NewCase, case_register_bulk
from mediation.models import Agreement, AgreementStatus, Confirmation, Mediation, Outcome
from mediation.selectors import mediation_figures, mediation_figures_by

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
PERIOD = metrics.Period.from_dates(dt.date(2025, 7, 1), dt.date(2025, 12, 31))
CATEGORIES = [Category.LABOUR, Category.NEIGHBOUR, Category.PROPERTY, Category.FAMILY]


@pytest.fixture
def data(mw):
    """120 mediations over 2025 by five mediators: random outcomes, durations, amounts, workers."""
    rng = random.Random(20251)
    mediators = [mw.county_chief, mw.labour_mediator, mw.mediator_a, mw.mediator_village_a, mw.mediator_b]
    specs = []
    for i in range(120):
        specs.append(
            {
                "mediator": rng.choice(mediators),
                "category": rng.choice(CATEGORIES),
                "assigned": dt.datetime(2025, 1, 1, 9, tzinfo=SH) + dt.timedelta(hours=rng.randrange(0, 24 * 360)),
                "days": rng.uniform(0.5, 60),
                "outcome": rng.choices([Outcome.SUCCESS, Outcome.FAILED, Outcome.PENDING], [7, 2, 1])[0],
                "amount": Decimal(rng.randrange(0, 500_000)) / 100 if rng.random() < 0.85 else None,
                "agreed": Decimal(rng.randrange(100, 300_000)) / 100 if rng.random() < 0.9 else None,
                "workers": rng.randrange(0, 30),
                "confirmation": rng.choice(["", "applied", "confirmed", "rejected"]),
                "i": i,
            }
        )
    cases = case_register_bulk(
        by=mw.town_a_dispatcher,
        items=[
            NewCase(channel=Channel.VISIT, category=s["category"], title=f"纠纷 {s['i']}", region=mw.grid_a,
                    amount=s["amount"])
            for s in specs
        ],
    )
    mediations, agreements = [], []
    for case, s in zip(cases, specs, strict=True):
        ended = s["assigned"] + dt.timedelta(days=s["days"]) if s["outcome"] != Outcome.PENDING else None
        s["ended"] = ended
        mediations.append(
            Mediation(case=case, committee=s["mediator"].committee, mediator=s["mediator"], assigned_at=s["assigned"],
                      outcome=s["outcome"], ended_at=ended)
        )
        if s["outcome"] == Outcome.SUCCESS:
            agreements.append(
                Agreement(mediation_id=case.pk, facts="事实", terms="条款", amount=s["agreed"], beneficiaries=s["workers"],
                          status=AgreementStatus.SIGNED, drafted_by=mw.town_a_dispatcher, drafted_at=ended,
                          signed_at=ended, confirmation=s["confirmation"],
                          performed_amount=s["agreed"] if s["i"] % 3 == 0 else None)
            )
    Mediation.objects.bulk_create(mediations)
    Agreement.objects.bulk_create(agreements)
    return specs


def expected(specs, period):
    def inside(t):
        return t is not None and (period.lo is None or t >= period.lo) and (period.hi is None or t < period.hi)

    concluded = [s for s in specs if s["outcome"] != Outcome.PENDING and inside(s["ended"])]
    ok = [s for s in concluded if s["outcome"] == Outcome.SUCCESS]
    labour = [s for s in ok if s["category"] == Category.LABOUR]
    days = [(s["ended"] - s["assigned"]).total_seconds() / 86400 for s in ok]
    return {
        "assigned": sum(1 for s in specs if inside(s["assigned"])),
        "concluded": len(concluded),
        "succeeded": len(ok),
        "failed": len(concluded) - len(ok),
        "pending": sum(1 for s in specs if s["outcome"] == Outcome.PENDING),
        "success_rate": (len(ok) / len(concluded) * 100) if concluded else None,
        "avg_days_to_agreement": statistics.fmean(days) if days else None,
        "median_days_to_agreement": statistics.median(days) if days else None,
        "amount_involved": sum((s["amount"] or Decimal(0) for s in concluded), Decimal(0)),
        "amount_agreed": sum((s["agreed"] or Decimal(0) for s in ok), Decimal(0)),
        "amount_performed": sum((s["agreed"] or Decimal(0) for s in ok if s["i"] % 3 == 0), Decimal(0)),
        "wages_recovered": sum((s["agreed"] or Decimal(0) for s in labour), Decimal(0)),
        "workers_paid": sum(s["workers"] for s in labour),
        "confirmation_applied": sum(1 for s in ok if s["confirmation"]),
        "confirmed": sum(1 for s in ok if s["confirmation"] == Confirmation.CONFIRMED),
    }


def check(row, want):
    for key, value in want.items():
        got = row[key]
        if value is None or got is None:
            assert got == value, key
        elif isinstance(value, float):
            assert got == pytest.approx(value, rel=1e-9, abs=1e-6), key
        else:
            assert got == value, key


@pytest.mark.parametrize("period", [PERIOD, metrics.ALL_TIME], ids=["second-half-2025", "all-time"])
def test_totals_match_an_independent_computation(data, period):
    check(mediation_figures(Mediation.objects.all(), period=period), expected(data, period))


def test_per_committee_and_per_mediator(data):
    for by, key, label in (("committee", "committee", lambda s: s["mediator"].committee_id),
                           ("mediator", "mediator", lambda s: s["mediator"].pk)):
        rows = {r[key]: r for r in mediation_figures_by(Mediation.objects.all(), by, period=PERIOD)}
        groups = defaultdict(list)
        for s in data:
            groups[label(s)].append(s)
        assert set(rows) == set(groups)
        for pk, specs in groups.items():
            check(rows[pk], expected(specs, PERIOD))


def test_per_domain_and_per_month(data):
    rows = {r["case__category"]: r for r in mediation_figures_by(Mediation.objects.all(), "domain", period=PERIOD)}
    for category in CATEGORIES:
        check(rows[category], expected([s for s in data if s["category"] == category], PERIOD))
    assert rows[Category.LABOUR]["label"] == "劳动争议（欠薪）"
    months = mediation_figures_by(Mediation.objects.all(), "month", period=metrics.ALL_TIME)
    by_month = {r["label"]: r for r in months}
    for key in {s["ended"].astimezone(SH).strftime("%Y-%m") for s in data if s["ended"]}:
        specs = [s for s in data if s["ended"] and s["ended"].astimezone(SH).strftime("%Y-%m") == key]
        want = expected(specs, metrics.ALL_TIME)
        for k in ("concluded", "succeeded", "success_rate", "amount_agreed", "wages_recovered", "workers_paid"):
            assert by_month[key][k] == pytest.approx(want[k]) if isinstance(want[k], float) else by_month[key][k] == want[k]


def test_an_empty_set_has_no_rate_rather_than_zero(mw):
    row = mediation_figures(Mediation.objects.none())
    assert row["success_rate"] is None and row["avg_days_to_agreement"] is None
    assert row["amount_agreed"] == 0 and row["workers_paid"] == 0


def test_the_filtered_medians_compile_on_sqlite_for_the_demo_mode():
    """make run's SQLite: a median with a FILTER clause (every figure has one) must compile there too."""
    from django.db import connections
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from cases.models import Case

    cfg = {**connections.settings["default"], "ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    sqlite = DatabaseWrapper(cfg, alias="sqlite_probe")
    try:
        for qs in (
            Mediation.objects.values("committee").annotate(m=metrics.median_days_to_agreement(period=PERIOD)),
            Case.objects.values("town").annotate(m=metrics.median_days_to_resolve(period=PERIOD)),
        ):
            sql, _ = qs.query.get_compiler(connection=sqlite).as_sql()
            assert "ZZ_MEDIAN(" in sql and "FILTER (WHERE" in sql
    finally:
        sqlite.close()
