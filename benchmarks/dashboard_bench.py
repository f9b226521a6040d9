"""Big-screen data endpoint at a county's volume (1,000,000 matters over five years).

    python benchmarks/dashboard_bench.py                 # clones the 1M template (built once by seed_volume)
    python benchmarks/dashboard_bench.py --matters 100000

On a fresh clone of the template: the full rebuild of the rollups (once, as after an upgrade),
then the median server time of the data endpoint (a county leader through Django's test client:
session, jurisdiction gate, every figure of the screen, JSON) beside the median of the single
hand-written SQL GROUP BY that computes the same open-by-colour-by-town figure on the base table,
and their ratio (target ≤ 1; endpoint target < 100 ms). Then random writes (closing, reopening,
recolouring matters, as the engine writes them), the incremental refresh's time (target < 5 s),
and a check that the rollups' open-by-colour-by-town and year-to-date figures still equal the
base table's. Prints the rollups' age as the screen shows it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPEAT = 15
ENDPOINT_TARGET_MS = 100
REFRESH_TARGET_S = 5


def timed(fn, repeat: int = REPEAT) -> float:
    """Median milliseconds of `fn` after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 2)


def hand_group_by() -> dict[tuple[int | None, str], int]:
    """The one hand-written GROUP BY: open matters by colour by town, on cases_case."""
    from django.db import connection

    from cases.models import OPEN_STATES

    states = ", ".join(f"'{s}'" for s in OPEN_STATES)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT town_id, warning_level, count(*) FROM cases_case "  # noqa: S608 - constant states
            f"WHERE status IN ({states}) GROUP BY town_id, warning_level"
        )
        return {(town, colour): n for town, colour, n in cur.fetchall()}


def rollup_open() -> dict[tuple[int | None, str], int]:
    from django.db.models import Sum

    from dashboards.models import OpenRollup

    return {
        (area, colour): n
        for area, colour, n in OpenRollup.objects.order_by()
        .values_list("area_id", "warning_level")
        .annotate(n=Sum("open"))
        if n
    }


def ytd_equal() -> bool:
    """Year to date: received, resolved and the resolution rate, rollups against the base table."""
    from django.utils import timezone

    from cases import metrics
    from cases.models import Case
    from dashboards import selectors as sel
    from dashboards.models import Dimension, FlowRollup

    today = timezone.localdate()
    first = today.replace(month=1, day=1)
    period = metrics.Period.from_dates(first, today)
    base = Case.objects.filter(period.q("created_at")).aggregate(
        received=metrics.received_count(period=period),
        resolved=metrics.resolved_count(period=period),
        rate=metrics.resolution_rate(period=period),
    )
    got = sel.flow_figures(FlowRollup.objects.all(), first, today, dimension=Dimension.ALL)
    same_rate = (base["rate"] is None and got["resolution_rate"] is None) or abs(
        (base["rate"] or 0) - (got["resolution_rate"] or 0)
    ) < 1e-9
    return base["received"] == got["received"] and base["resolved"] == got["resolved"] and same_rate


def bench_leader():
    from centers.models import Center, RegionKind, Role, User
    from centers.services import membership_create

    county = Center.objects.filter(region__kind=RegionKind.COUNTY).order_by("region__depth").first()
    user, created = User.objects.get_or_create(username="bench_leader", defaults={"full_name": "大屏基准"})
    if created:
        membership_create(user=user, role=Role.LEADERSHIP, center=county)
    return user


def random_writes(n: int, seed: int = 8) -> dict[str, int]:
    """Write `n` matters as the engine would (fields and updated_at): close open ones, reopen closed
    ones, recolour open ones. Raw SQL, so a million-row benchmark spends its time in the refresh."""
    import random

    from django.db import connection
    from django.utils import timezone

    from cases.models import CLOCK_STATES

    rng = random.Random(seed)
    now = timezone.now()
    with connection.cursor() as cur:
        open_states = [str(s) for s in CLOCK_STATES]
        cur.execute(
            "SELECT id FROM cases_case WHERE status = ANY(%s) ORDER BY random() LIMIT %s", [open_states, n]
        )
        open_ids = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT id FROM cases_case WHERE status = 'closed' ORDER BY random() LIMIT %s", [n])
        closed_ids = [r[0] for r in cur.fetchall()]
        close = open_ids[: int(n * 0.4)]
        recolour = open_ids[int(n * 0.4) : int(n * 0.7)]
        reopen = closed_ids[: n - len(close) - len(recolour)]
        cur.execute(
            "UPDATE cases_case SET status = 'closed', closed_at = %s, resolved_at = coalesce(resolved_at, %s), "
            "closed_on_time = true, satisfaction = 'satisfied', due_at = NULL, yellow_at = NULL, "
            "version = version + 1, updated_at = %s WHERE id = ANY(%s)",
            [now, now, now, close],
        )
        for colour in ("red", "yellow", "green"):
            ids = [i for i in recolour if rng.random() < 0.34]
            cur.execute(
                "UPDATE cases_case SET warning_level = %s, warning_changed_at = %s, version = version + 1, "
                "updated_at = %s WHERE id = ANY(%s)",
                [colour, now, now, ids],
            )
        cur.execute(
            "UPDATE cases_case SET status = 'in_progress', closed_at = NULL, resolved_at = NULL, "
            "closed_on_time = NULL, satisfaction = '', version = version + 1, updated_at = %s WHERE id = ANY(%s)",
            [now, reopen],
        )
    return {"closed": len(close), "recoloured": len(recolour), "reopened": len(reopen)}


def measure(*, repeat: int = REPEAT, writes: int = 1000) -> dict:
    from django.db import connection
    from django.test import Client

    from cases.models import Case
    from dashboards import rollups, safety
    from dashboards.models import FlowRollup

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE cases_case")
    matters = Case.objects.count()
    started = time.perf_counter()
    rollups.rebuild_all()
    rebuild_s = time.perf_counter() - started
    started = time.perf_counter()
    safety.compute_current()
    safety_s = time.perf_counter() - started

    client = Client()
    client.force_login(bench_leader())

    def endpoint():
        r = client.get("/dashboards/screen/data/")
        assert r.status_code == 200, r.status_code
        return r

    group_by_ms = timed(hand_group_by, repeat)
    endpoint_ms = timed(endpoint, repeat)
    equal_before = rollup_open() == {k: v for k, v in hand_group_by().items() if v} and ytd_equal()

    wrote = random_writes(writes)
    started = time.perf_counter()
    result = rollups.refresh_cases()
    refresh_s = time.perf_counter() - started
    equal_after = rollup_open() == {k: v for k, v in hand_group_by().items() if v} and ytd_equal()
    endpoint_after_ms = timed(endpoint, repeat)
    age = endpoint().json()["rollup"]["age_seconds"]
    return {
        "matters": matters,
        "rollup_rows": FlowRollup.objects.count(),
        "rebuild_s": round(rebuild_s, 2),
        "safety_s": round(safety_s, 2),
        "group_by_ms": group_by_ms,
        "endpoint_ms": endpoint_ms,
        "ratio": round(endpoint_ms / group_by_ms, 3) if group_by_ms else None,
        "equal_before": equal_before,
        "writes": wrote,
        "refresh_mode": result.mode,
        "refresh_changed": result.changed,
        "refresh_s": round(refresh_s, 3),
        "equal_after": equal_after,
        "endpoint_after_ms": endpoint_after_ms,
        "age_seconds": age,
    }


def child(writes: int) -> None:
    import django

    django.setup()
    print(json.dumps(measure(writes=writes), ensure_ascii=False))


def main() -> None:
    from benchmarks import common

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--matters", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=1_000)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.writes)
        return
    template = f"bench_{args.matters // 1000}k"
    common.ensure_template(template, matters=args.matters, open_count=args.open)
    common.clone(template, "bench_dashboard_run")
    try:
        r = common.run_child(Path(__file__), "bench_dashboard_run", f"--writes={args.writes}")
    finally:
        common.drop("bench_dashboard_run")
    print(
        f"{r['matters']:,} matters; rollups rebuilt in {r['rebuild_s']:.1f} s ({r['rollup_rows']:,} flow rows), "
        f"safety index in {r['safety_s']:.1f} s"
    )
    print(f"hand-written GROUP BY (open by colour by town, cases_case): median {r['group_by_ms']:.1f} ms")
    print(
        f"big-screen data endpoint (county leader, every figure):     median {r['endpoint_ms']:.1f} ms "
        f"(target < {ENDPOINT_TARGET_MS} ms)"
    )
    print(f"ratio endpoint ÷ GROUP BY: {r['ratio']:.2f}  (target ≤ 1)")
    w = r["writes"]
    print(
        f"random writes: {w['closed']:,} closed, {w['recoloured']:,} recoloured, {w['reopened']:,} reopened → "
        f"incremental refresh ({r['refresh_changed']:,} matters) {r['refresh_s']:.2f} s (target < {REFRESH_TARGET_S} s)"
    )
    print(
        f"rollups equal to the base table: before {r['equal_before']}, after the writes {r['equal_after']}; "
        f"endpoint after refresh: median {r['endpoint_after_ms']:.1f} ms; rollup age shown: {r['age_seconds']} s"
    )


if __name__ == "__main__":
    main()
