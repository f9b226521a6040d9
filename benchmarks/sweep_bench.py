"""Sweep benchmark: its cost must follow the due cases, not the open ones.

    python benchmarks/sweep_bench.py                 # 1,000,000 matters (template built once)
    python benchmarks/sweep_bench.py --matters 100000

Scenarios, each on a fresh clone of the template: 1,000 due among 100,000 open; 1,000 due among
10,000 open; 10,000 due among 100,000 open. Prints each sweep's time and the rows it touched, and
the ratios: (1k due / 100k open) ÷ (1k due / 10k open) should be ≈ 1, and 10k ÷ 1k due ≈ 10 or
less. Target (shared/ARCHITECTURE.md): 1k due among 100k open under 0.1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MS = 100


def arrange(*, open_target: int, due: int) -> dict:
    """Leave exactly `open_target` open cases with clocks, `due` of them already due."""
    from django.db import connection
    from django.utils import timezone

    from cases.models import CLOCK_STATES, Case

    now = timezone.now()
    states = [str(s) for s in CLOCK_STATES]
    open_ids = list(Case.objects.filter(status__in=states).order_by("pk").values_list("pk", flat=True))
    if len(open_ids) < open_target:
        raise SystemExit(f"the data set has {len(open_ids)} open cases, fewer than {open_target}")
    excess = open_ids[open_target:]
    keep = open_ids[:open_target]
    with connection.cursor() as cur:
        if excess:
            cur.execute(
                "UPDATE cases_case SET status = 'closed', due_at = NULL, yellow_at = NULL, closed_at = %s "
                "WHERE id = ANY(%s)", [now, excess],
            )
        # Every kept open case: clock in the future, green, not yet handled …
        cur.execute(
            "UPDATE cases_case SET due_at = %s, yellow_at = %s, overdue_fired = false, warning_level = 'green', "
            "warning_reasons = '[]' WHERE id = ANY(%s)",
            [now + dt.timedelta(days=5), now + dt.timedelta(days=3), keep],
        )
        # … and `due` of them overdue by up to an hour.
        cur.execute(
            "UPDATE cases_case SET due_at = %s, yellow_at = %s WHERE id = ANY(%s)",
            [now - dt.timedelta(minutes=30), now - dt.timedelta(hours=2), keep[:due]],
        )
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE cases_case")
    return {"open": len(keep), "due": due}


def measure() -> dict:
    """One sweep, timed, after a warm-up that loads code and the rule tables."""
    from cases.clocks import RuleBook, WorkCalendar
    from cases.models import Case
    from cases.services import sweep

    RuleBook(), WorkCalendar(), Case.objects.filter(pk=0).exists()
    # A running worker has its broker transport loaded: so does the measured sweep.
    import kombu.transport.redis  # noqa: F401

    started = time.perf_counter()
    run = sweep()
    elapsed = time.perf_counter() - started
    return {
        "ms": round(elapsed * 1000, 1),
        "escalated": run.escalated,
        "turned_red": run.turned_red,
        "examined": run.examined,
    }


def child(open_target: int, due: int) -> None:
    import django

    django.setup()
    arranged = arrange(open_target=open_target, due=due)
    print(json.dumps({**arranged, **measure()}))


def main() -> None:
    from benchmarks import common

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--matters", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--child", nargs=2, type=int, metavar=("OPEN", "DUE"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    template = f"bench_{args.matters // 1000}k"
    common.ensure_template(template, matters=args.matters, open_count=args.open)
    scenarios = [(args.open, 1000), (args.open // 10, 1000), (args.open, 10_000)]
    results = {}
    for open_target, due in scenarios:
        common.clone(template, "bench_sweep_run")
        try:
            results[(open_target, due)] = r = common.run_child(Path(__file__), "bench_sweep_run", str(open_target), str(due))
        finally:
            common.drop("bench_sweep_run")
        print(f"sweep: {due:>6,} due among {open_target:>7,} open ({args.matters:,} matters): "
              f"{r['ms']:8.1f} ms, rows touched {r['examined']:,} (escalated {r['escalated']:,})", flush=True)
    a = results[(args.open, 1000)]["ms"]
    b = results[(args.open // 10, 1000)]["ms"]
    c = results[(args.open, 10_000)]["ms"]
    print(f"ratio 1k due @ {args.open:,} open ÷ 1k due @ {args.open // 10:,} open: {a / b:.2f}  (≈1: cost follows due, not open)")
    print(f"ratio 10k due ÷ 1k due (same open): {c / a:.2f}  (≤ 10: linear in due)")
    print(f"1k due among {args.open:,} open: {a:.1f} ms  (target < {TARGET_MS} ms)")


if __name__ == "__main__":
    main()
