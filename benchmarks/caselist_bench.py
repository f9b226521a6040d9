"""Case list, work queue and export at a county's volume (1,000,000 matters over five years).

    python benchmarks/caselist_bench.py                 # clones the 1M template (built once by seed_volume)
    python benchmarks/caselist_bench.py --matters 100000

Server time of the list page (through Django's test client: jurisdiction gate, filters, capped
count, 50 rows, template) for county and town staff under typical filters, the work queue, and
the Excel export of about 5,000 rows (the largest written while the user waits). Every figure is printed beside the baseline measured in the same
run: the bare query for 50 newest cases (no gate, no count, no template). Also printed: the full
COUNT(*) that Django's Paginator would run against the capped count the list runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPEAT = 5


def timed(fn, repeat: int = REPEAT) -> float:
    """Median milliseconds of `fn` after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def bench_users():
    """A county dispatcher and a town dispatcher (the town with the most matters)."""
    from django.db.models import Count

    from cases.models import Case
    from centers.models import Center, RegionKind, Role, User
    from centers.services import membership_create

    county = Center.objects.filter(region__kind=RegionKind.COUNTY).order_by("region__depth").first()
    busiest = Case.objects.values("town").annotate(n=Count("pk")).order_by("-n").first()
    town = Center.objects.get(region_id=busiest["town"])
    out = []
    for name, center in (("bench_county", county), ("bench_town", town)):
        user, _ = User.objects.get_or_create(username=name, defaults={"full_name": name})
        membership_create(user=user, role=Role.DISPATCHER, center=center)
        out.append(user)
    return out[0], out[1], town


def measure(*, repeat: int = REPEAT, export_rows: int = 5_000) -> dict:
    import datetime as dt

    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from cases.models import Case, Category, Status, WarningLevel
    from cases.paging import CappedPaginator
    from cases.selectors import CaseFilters, case_list_for_user, case_search
    from cases.services import case_export_write
    from centers.models import Region, RegionKind

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE cases_case")
    county_user, town_user, town = bench_users()
    total = Case.objects.count()
    village = (
        Region.objects.filter(path__startswith=town.region.path, kind=RegionKind.VILLAGE)
        .order_by("path")
        .first()
    )
    sample = (
        Case.objects.filter(region_path__startswith=town.region.path)
        .order_by("-pk")
        .values_list("tracking_no", flat=True)
        .first()
    )
    year_ago = (timezone.localdate() - dt.timedelta(days=365)).isoformat()

    def bare():
        list(
            Case.objects.select_related("region", "town", "owning_center", "owning_unit").order_by(
                "-created_at", "-pk"
            )[:50]
        )

    baseline = timed(bare, repeat)
    clients = {}
    for user in (county_user, town_user):
        c = Client()
        c.force_login(user)
        clients[user.username] = c

    def page(who: str, params: dict):
        def get():
            r = clients[who].get("/cases/", params)
            assert r.status_code == 200, r.status_code

        return get

    scenarios = [
        ("county, no filter", "bench_county", {}),
        (
            "county, in progress + red",
            "bench_county",
            {"status": Status.IN_PROGRESS, "warning_level": WarningLevel.RED},
        ),
        (
            "county, labour, last 12 months",
            "bench_county",
            {"category": Category.LABOUR, "created_from": year_ago},
        ),
        ("county, one village", "bench_county", {"region": village.pk}),
        ("county, tracking number", "bench_county", {"q": sample}),
        ("county, free text 欠薪", "bench_county", {"q": "欠薪"}),
        ("county, page 40 (last under the cap)", "bench_county", {"page": 40}),
        ("town, no filter", "bench_town", {}),
        ("town, open + yellow", "bench_town", {"warning_level": WarningLevel.YELLOW}),
    ]
    pages = {name: timed(page(who, params), repeat) for name, who, params in scenarios}

    def queue():
        r = clients["bench_town"].get("/cases/queue/")
        assert r.status_code == 200

    pages["town dispatcher's queue"] = timed(queue, repeat)

    gated = case_list_for_user(county_user)
    full_count = timed(lambda: gated.count(), repeat)
    capped_count = timed(lambda: gated.order_by()[: CappedPaginator.cap + 1].count(), repeat)

    filters = CaseFilters()
    rows = min(export_rows, total)
    # Exactly `rows` rows: the newest up to a creation time.
    cutoff = case_search(county_user, filters).values_list("created_at", flat=True)[rows - 1]
    export_filters = CaseFilters(created_from=timezone.localtime(cutoff).date())
    n_rows = case_search(county_user, export_filters).count()
    with tempfile.TemporaryFile() as out:
        started, cpu = time.perf_counter(), time.process_time()
        written = case_export_write(
            user=county_user, filters=export_filters, description="benchmark", out=out
        )
        export_s, export_cpu = time.perf_counter() - started, time.process_time() - cpu
        size = out.tell()
    assert written == n_rows
    return {
        "matters": total,
        "baseline_ms": baseline,
        "pages": pages,
        "full_count_ms": full_count,
        "capped_count_ms": capped_count,
        "export_rows": written,
        "export_s": round(export_s, 2),
        "export_rows_per_s": round(written / export_s),
        "export_rows_per_cpu_s": round(written / export_cpu),
        "cap": CappedPaginator.cap,
        "export_bytes": size,
    }


def child() -> None:
    import django

    django.setup()
    print(json.dumps(measure(), ensure_ascii=False))


def main() -> None:
    from benchmarks import common

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--matters", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child()
        return
    template = f"bench_{args.matters // 1000}k"
    common.ensure_template(template, matters=args.matters, open_count=args.open)
    common.clone(template, "bench_caselist_run")
    try:
        r = common.run_child(Path(__file__), "bench_caselist_run")
    finally:
        common.drop("bench_caselist_run")
    base = r["baseline_ms"]
    print(
        f"{r['matters']:,} matters. Baseline (bare query, 50 newest, no gate/count/template): {base:.1f} ms"
    )
    for name, ms in r["pages"].items():
        print(f"  list page · {name:<32} {ms:8.1f} ms  ({ms / base:5.1f} × baseline)")
    print(
        f"count for the county: full COUNT(*) {r['full_count_ms']:.1f} ms vs capped at {r['cap'] + 1:,} "
        f"{r['capped_count_ms']:.1f} ms ({r['full_count_ms'] / max(r['capped_count_ms'], 0.1):.1f}× cheaper)"
    )
    print(
        f"export: {r['export_rows']:,} rows in {r['export_s']:.2f} s = {r['export_rows_per_s']:,} rows/s "
        f"({r['export_rows_per_cpu_s']:,} rows per CPU second; {r['export_bytes'] / 1048576:.1f} MB); "
        "larger exports go to a Celery task"
    )


if __name__ == "__main__":
    main()
