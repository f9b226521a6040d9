"""Every rollup figure equals the same figure computed from the base tables by cases.metrics,
after a volume of matters and random writes through the case engine, refreshed incrementally."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db.models import Q
from django.utils import timezone

from cases import metrics, services
from cases.models import Case, CaseKind, Category, Channel, Satisfaction, Status, WarningLevel
from dashboards import rollups
from dashboards import selectors as sel
from dashboards.models import CaseFact, ClosedRollup, Dimension, FlowRollup, OpenRollup, RollupState
from demo.seeding import volume
from tests.dashboards.conftest import owner, resolve_and_close, to_in_progress

pytestmark = pytest.mark.django_db


def base(area, first: dt.date, last: dt.date, extra: Q | None = None) -> dict:
    """The figures of the matters counted in `area` for the local days [first, last], from Case."""
    p = metrics.Period.from_dates(first, last)
    qs = Case.objects.filter(Q(town=area) | Q(town__isnull=True, region=area))
    if extra is not None:
        qs = qs.filter(extra)
    closed = metrics.closed_q(period=p)
    return qs.aggregate(
        received=metrics.received_count(period=p),
        resolved=metrics.resolved_count(period=p),
        red=metrics.red_count(period=p),
        resolution_rate=metrics.resolution_rate(period=p),
        escalation_rate=metrics.escalation_rate(period=p),
        closed=metrics.closed_count(period=p),
        closed_resolved=metrics.count_if(closed & metrics.resolved_q()),
        on_time_close_rate=metrics.on_time_close_rate(period=p),
        satisfaction_rate=metrics.satisfaction_rate(period=p),
        success_rate=metrics.case_success_rate(period=p),
    )


def rolled(area, first: dt.date, last: dt.date, **filters) -> dict:
    flow = sel.flow_figures(FlowRollup.objects.filter(area=area), first, last, **filters)
    closed_filters = {k: v for k, v in filters.items()}
    closed = sel.closed_figures(ClosedRollup.objects.filter(area=area), first, last, **closed_filters)
    return {**flow, **closed}


KEYS = (
    "received",
    "resolved",
    "red",
    "resolution_rate",
    "escalation_rate",
    "closed",
    "closed_resolved",
    "on_time_close_rate",
    "satisfaction_rate",
    "success_rate",
)


def assert_same(expected: dict, got: dict, what: str) -> None:
    for k in KEYS:
        e, g = expected[k], got[k]
        if isinstance(e, float) or isinstance(g, float):
            assert e is not None and g is not None and abs(e - g) < 1e-9, f"{what} {k}: base {e} rollup {g}"
        else:
            assert e == g, f"{what} {k}: base {e} rollup {g}"


def periods(today: dt.date, rng: random.Random) -> list[tuple[dt.date, dt.date]]:
    out = [
        (today, today),
        (today.replace(day=1), today),
        (today.replace(month=1, day=1), today),
        (dt.date(today.year - 6, 1, 1), today),
        (dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)),
    ]
    for _ in range(3):
        first = today - dt.timedelta(days=rng.randrange(1, 5 * 365))
        out.append((first, first + dt.timedelta(days=rng.randrange(0, 80))))
    return out


def random_writes(dw, register, rng: random.Random, n: int) -> None:
    """A mix of what happens in a day: new matters of every kind, every transition, edits, the sweep."""
    grids = [dw.grid_a, dw.grid_b]
    for _ in range(n // 4):
        register(
            region=rng.choice(grids),
            kind=rng.choice([CaseKind.DISPUTE, CaseKind.PETITION, CaseKind.HAZARD, CaseKind.REFERRAL]),
            channel=rng.choice([Channel.VISIT, Channel.POLICE_110, Channel.HOTLINE_12345, Channel.GRID]),
            category=rng.choice([Category.LABOUR, Category.FAMILY, Category.LAND]),
            people_count=rng.choice([1, 1, 1, 8]),
        )
    # A matter placed at the county itself (no town: its own area).
    register(region=dw.county, channel=Channel.ONLINE)
    pool = list(
        Case.objects.filter(status__in=[Status.REGISTERED, Status.ACCEPTED, Status.IN_PROGRESS]).order_by(
            "?"
        )[:n]
    )
    for case in pool:
        case.refresh_from_db()
        action = rng.choice(["close", "fail", "escalate", "edit", "start", "reopen"])
        movable = (Status.REGISTERED, Status.ACCEPTED, Status.IN_PROGRESS)
        if action == "close" and case.status in movable:
            resolve_and_close(dw, case, rng.choice(list(Satisfaction.values)))
        elif action == "fail" and case.status in movable:
            case = to_in_progress(dw, case)
            case = services.case_fail(case=case, by=owner(dw, case), comment="调解不成")
            services.case_close(case=case, by=owner(dw, case), satisfaction=Satisfaction.UNSATISFIED)
        elif action == "escalate" and case.owning_center_id != dw.county_center.pk:
            services.case_escalate(case=case, by=owner(dw, case), comment="需上级协调")
        elif action == "edit":
            services.case_update(
                case=case,
                by=owner(dw, case),
                expected_version=case.version,
                category=rng.choice([Category.MEDICAL, Category.TRAFFIC]),
                people_count=rng.choice([1, 12]),
            )
        elif action == "start" and case.status in (Status.REGISTERED, Status.ACCEPTED):
            to_in_progress(dw, case)
    closed = list(Case.objects.filter(status=Status.CLOSED).order_by("?")[: max(n // 10, 1)])
    for case in closed:
        services.case_reopen(case=case, by=owner(dw, case), comment="当事人反映未落实")
    services.sweep()


def test_every_rollup_figure_equals_the_base_tables_after_random_writes(dw, register):
    rng = random.Random(8)
    volume.seed(matters=1500, open_count=300, due_count=25, people=200, log=lambda *_: None)
    first = rollups.refresh_cases()
    assert first.mode == "rebuild" and first.changed == 1500
    random_writes(dw, register, rng, 48)
    result = rollups.refresh_cases()
    assert result.mode == "incremental" and 0 < result.changed < 400

    today = timezone.localdate()
    areas = [dw.town_a, dw.town_b, dw.county]
    for area in areas:
        for first_day, last_day in periods(today, rng):
            what = f"{area.name} {first_day}–{last_day}"
            assert_same(
                base(area, first_day, last_day),
                rolled(area, first_day, last_day, dimension=Dimension.ALL),
                what,
            )
        year = (today.replace(month=1, day=1) - dt.timedelta(days=400), today)
        for kind in CaseKind.values:
            assert_same(
                base(area, *year, Q(kind=kind)),
                rolled(area, *year, dimension=Dimension.KIND, value=kind),
                f"{area.name} kind {kind}",
            )
        for category in Category.values:
            assert_same(
                base(area, *year, Q(category=category)),
                rolled(area, *year, dimension=Dimension.CATEGORY, value=category),
                f"{area.name} category {category}",
            )
        for channel in Channel.values:
            e = base(area, *year, Q(channel=channel))
            g = sel.flow_figures(
                FlowRollup.objects.filter(area=area), *year, dimension=Dimension.CHANNEL, value=channel
            )
            assert (e["received"], e["resolved"], e["red"]) == (g["received"], g["resolved"], g["red"]), (
                channel
            )
        # Open matters now, by colour and by kind.
        qs = Case.objects.filter(Q(town=area) | Q(town__isnull=True, region=area))
        for colour in WarningLevel.values:
            expected = qs.aggregate(n=metrics.open_count(colour=colour))["n"]
            got = sum(
                OpenRollup.objects.filter(area=area, warning_level=colour).values_list("open", flat=True)
            )
            assert expected == got, (area.name, colour)
        for kind in CaseKind.values:
            expected = qs.filter(kind=kind).aggregate(n=metrics.open_count())["n"]
            got = sum(OpenRollup.objects.filter(area=area, kind=kind).values_list("open", flat=True))
            assert expected == got, (area.name, kind)

    # The incremental result is the full rebuild's, row for row (zero rows aside).
    def snapshot():
        return (
            {
                r[:-4]: r[-4:]
                for r in FlowRollup.objects.values_list(
                    "granularity",
                    "start",
                    "area",
                    "dimension",
                    "value",
                    "received",
                    "resolved",
                    "red",
                    "escalated",
                )
                if any(r[-4:])
            },
            {
                r[:-1]: r[-1]
                for r in OpenRollup.objects.values_list("area", "kind", "category", "warning_level", "open")
                if r[-1]
            },
        )

    incremental = snapshot()
    rollups.rebuild_cases()
    assert snapshot() == incremental


def test_a_refresh_with_nothing_new_changes_nothing_and_is_incremental(dw, register):
    for _ in range(3):
        register()
    rollups.refresh_cases()
    before = list(FlowRollup.objects.order_by("pk").values_list("received", "resolved"))
    again = rollups.refresh_cases()  # the same matters, inside the overlap window: a zero difference
    assert again.mode == "incremental"
    assert list(FlowRollup.objects.order_by("pk").values_list("received", "resolved")) == before
    assert CaseFact.objects.count() == 3


def test_the_watermark_moves_and_only_changed_matters_are_read(dw, register):
    import time_machine

    start = timezone.now()
    with time_machine.travel(start - dt.timedelta(minutes=5), tick=False):
        for _ in range(5):
            register()
    with time_machine.travel(start, tick=False):
        rollups.refresh_cases()
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        case = register(region=dw.grid_b, kind=CaseKind.PETITION)
        result = rollups.refresh_cases()
    assert result.changed == 1
    state = RollupState.objects.get(name=rollups.CASES)
    assert state.watermark == start + dt.timedelta(minutes=10)
    assert (
        FlowRollup.objects.get(
            granularity="day", area=dw.town_b, dimension=Dimension.KIND, value=CaseKind.PETITION
        ).received
        == 1
    )
    assert case.town_id == dw.town_b.pk
