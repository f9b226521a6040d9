"""Mixed load at a county's volume: window clerks, mediators, big screens and API clients at once.

    python benchmarks/load_bench.py                       # clones the 1M template (built once by seed_volume)
    python benchmarks/load_bench.py --matters 20000 --seconds 20

On a clone of the template, one gunicorn (sync workers, 3 by default) on loopback, PostgreSQL and
Redis serve locust (headless, benchmarks/load_locustfile.py) running for a bounded time:

- 50 window clerks register visitors: the register page (its CSRF token), the look-up the form
  makes while the ID number is typed, the form POST (`visit_register`: a new or returning person
  found through the keyed hash, a case opened through the engine), then the visit page;
- 20 mediators work their own queues: 我的调解, a mediation's page, the session form, and its POST
  recording a session (`session_record` through the case engine);
- 10 big screens refresh the data endpoint (`/dashboards/screen/data/`, the rollups);
- 20 town-center systems sync with their tokens: the incremental case, timeline and mediation
  feeds from their stored cursors, and now and then a new case pushed with an Idempotency-Key
  (sometimes sent twice, as a retry after a lost answer).

Everyone signs in beforehand (sessions and tokens made by the set-up; login itself is not part of
the load). Pacing, a busy hour (`--think` scales it): a clerk registers a visitor every 10–30 s
and a mediator records a session every 10–30 s (four requests each time), a screen refreshes
every 10 s, a town system syncs every 5–15 s — about 20 requests/s offered. `--think 0.2` is a
stress well above what 3 sync workers on this 2-core machine serve: the p95s then measure the queue.

Then the same users, with the same pacing and the same number of requests per iteration, hit a
bare Django JSON view (benchmarks/api_urls.py) on the same gunicorn for a shorter run: the
baseline. Printed: requests per second, p50/p95 per endpoint and overall, the
error count (target: 0; any non-2xx/3xx answer, or a form that does not redirect, is an error),
and the mixed run's throughput and p95 as ratios to the baseline's.

Background work (notifications, SMS) is enqueued to a queue of the benchmark's own and purged at
the end: no Celery worker runs, so the server's CPU goes to the web requests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "load_locustfile.py"
QUEUE = "zongzhi-load-bench"
MIX = {"clerks": 50, "mediators": 20, "screens": 10, "api_clients": 20}


# ============================================================================================
# Set-up (inside Django, on the cloned database)
# ============================================================================================


def _session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _user(username: str, full_name: str, **extra):
    from centers.models import User

    user, _ = User.objects.get_or_create(username=username, defaults={"full_name": full_name, **extra})
    return user


def arrange_clerks(n: int, known: int = 200) -> tuple[list[dict], list[list[str]]]:
    """n window clerks of the county hall on duty today (five to a window), signed in; and a sample
    of people on file (returning visitors)."""
    from django.utils import timezone

    from benchmarks.registration_bench import people_on_file
    from centers.models import DepartmentKind, Region, RegionKind, Role, Unit
    from centers.selectors import center_of_region
    from centers.services import membership_create
    from reception.models import Window
    from reception.services import duty_set

    county = Region.objects.filter(kind=RegionKind.COUNTY).order_by("depth", "pk").first()
    center = center_of_region(county)
    boss = _user("bench_load_boss", "压测大厅主管")
    membership_create(user=boss, role=Role.HALL_SUPERVISOR, center=center)
    court = Unit.objects.filter(region__path__startswith=county.path, kind=DepartmentKind.COURT).first()
    if court is None:
        court = Unit.objects.create(region=county, kind=DepartmentKind.COURT, name=f"{county.name}人民法院")
    village = Region.objects.filter(path__startswith=county.path, kind=RegionKind.VILLAGE).order_by("path").first()
    clerks = []
    for i in range(n):
        user = _user(f"bench_load_clerk_{i:02d}", f"压测窗口{i:02d}")
        membership_create(user=user, role=Role.WINDOW_CLERK, center=center)
        clerks.append(user)
    out = []
    for w in range(0, n, 5):
        window, _ = Window.objects.get_or_create(
            center=center, number=60 + w // 5,
            defaults={"name": f"压测窗口 {w // 5 + 1}", "department": DepartmentKind.PETITION},
        )
        group = clerks[w : w + 5]
        duty_set(by=boss, window=window, date=timezone.localdate(), users=group)
        for user in group:
            out.append({
                "session": _session_cookie(user), "window": window.pk, "region": (village or county).pk,
                "unit": court.pk,
            })
    return out, [list(p) for p in people_on_file(known)]


def arrange_mediators(n: int, per_mediator: int) -> list[dict]:
    """n mediators of the county committee, each with `per_mediator` disputes in mediation
    (assigned and consented through the services), signed in."""
    from cases.models import Case, CaseKind, Status
    from centers.models import Region, RegionKind, Role
    from centers.selectors import center_of_region
    from centers.services import membership_create
    from mediation.models import ConsentWay, Mediation, MediationCommittee, Mediator
    from mediation.services import committee_create, mediation_assign, mediation_consent, mediator_create

    county = Region.objects.filter(kind=RegionKind.COUNTY).order_by("depth", "pk").first()
    center = center_of_region(county)
    admin = _user("bench_load_admin", "压测管理员", is_superuser=True, is_staff=True)
    committee = MediationCommittee.objects.filter(region=county, is_active=True).order_by("pk").first()
    if committee is None:
        committee = committee_create(name=f"{county.name}人民调解委员会", region=county)
    taken = set(Mediation.objects.values_list("pk", flat=True))
    candidates = iter(
        Case.objects.filter(
            kind=CaseKind.DISPUTE, status__in=(Status.REGISTERED, Status.ACCEPTED), region_path__startswith=county.path
        ).exclude(pk__in=taken).order_by("-pk")[: n * per_mediator * 2]
    )
    out = []
    for i in range(n):
        user = _user(f"bench_load_mediator_{i:02d}", f"压测调解员{i:02d}")
        membership_create(user=user, role=Role.MEDIATOR, center=center)
        mediator = Mediator.objects.filter(user=user).first() or mediator_create(
            user=user, committee=committee, region=county, max_load=per_mediator * 10
        )
        mine = list(Mediation.objects.filter(mediator=mediator, outcome="pending").values_list("pk", flat=True))
        while len(mine) < per_mediator:
            case = next(candidates, None)
            if case is None:
                break
            m = mediation_assign(case=case, by=admin, mediator=mediator, note="压测")
            mediation_consent(mediation=m, by=user, way=ConsentWay.ORAL)
            mine.append(m.pk)
        if not mine:
            raise RuntimeError("no open disputes left to put in mediation")
        out.append({"session": _session_cookie(user), "mediations": mine})
    return out


def arrange_screens(n: int) -> list[dict]:
    """n big screens: half the county's, half its towns' (a leader each), signed in; the rollups
    built once, as the refresh task leaves them."""
    from centers.models import Center, RegionKind, Role
    from centers.services import membership_create
    from dashboards import rollups, safety

    rollups.rebuild_all()
    safety.compute_current()
    county = Center.objects.filter(region__kind=RegionKind.COUNTY).order_by("region__depth", "pk").first()
    towns = list(Center.objects.filter(region__kind=RegionKind.TOWN).order_by("region__path")[: max(1, n // 2)])
    out = []
    for i in range(n):
        center = county if i % 2 == 0 or not towns else towns[(i // 2) % len(towns)]
        user = _user(f"bench_load_screen_{i:02d}", f"压测大屏{i:02d}")
        membership_create(user=user, role=Role.LEADERSHIP, center=center)
        out.append({"session": _session_cookie(user)})
    return out


def _cursor_near_end(qs, keys: tuple[str, str], back: int) -> str | None:
    """The feed position `back` rows before its end: the client synced until shortly ago."""
    from apiauth.pagination import encode_cursor

    row = qs.order_by(*[f"-{k}" for k in keys]).values_list(*keys)[back : back + 1].first()
    return encode_cursor(list(row)) if row else None


def arrange_api_clients(n: int, back: int = 150) -> list[dict]:
    """n town-center systems (API client accounts, round-robin over the towns), each with a token
    and the cursors it stored at its last sync."""
    from apiauth.services import token_create
    from cases.models import Case, TimelineEntry
    from centers.jurisdiction import restrict
    from centers.models import Center, Region, RegionKind, Role
    from centers.services import membership_create

    towns = list(Center.objects.filter(region__kind=RegionKind.TOWN).select_related("region").order_by("region__path"))
    out = []
    for i in range(n):
        center = towns[i % len(towns)]
        user = _user(f"bench_load_api_{i:02d}", f"{center.name}接口（压测）", is_api_client=True)
        membership_create(user=user, role=Role.API_CLIENT, center=center)
        # Throughput is measured, not the limiter (which still counts every request in Redis).
        _, key = token_create(user=user, name="load benchmark", by=None, rate_per_minute=1_000_000)
        village = Region.objects.filter(path__startswith=center.region.path, kind=RegionKind.VILLAGE).order_by("path")
        out.append({
            "key": key,
            "region": (village.first() or center.region).code,
            "cursors": {
                "cases": _cursor_near_end(restrict(Case.objects.all(), user), ("sync_txid", "id"), back),
                "timeline": _cursor_near_end(restrict(TimelineEntry.objects.all(), user), ("sync_txid", "id"), back),
                "mediations": None,
            },
        })
    return out


def arrange(*, clerks: int, mediators: int, screens: int, api_clients: int, per_mediator: int = 4) -> dict:
    """Everyone signed in, with what they work on (the clone keeps the template's statistics)."""
    plan: dict[str, Any] = {}
    plan["clerks"], plan["people"] = arrange_clerks(clerks)
    plan["mediators"] = arrange_mediators(mediators, per_mediator)
    plan["screens"] = arrange_screens(screens)
    plan["api_clients"] = arrange_api_clients(api_clients)
    return plan


# ============================================================================================
# The run: gunicorn + locust
# ============================================================================================


def start_gunicorn(workers: int) -> tuple[subprocess.Popen, int]:
    from benchmarks.api_throughput import database_url, free_port, request

    port = free_port()
    env = dict(
        os.environ, DJANGO_SETTINGS_MODULE="benchmarks.api_settings", DATABASE_URL=database_url(),
        PYTHONPATH=str(ROOT), CELERY_QUEUE=QUEUE,
    )
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "zongzhi.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--worker-class", "sync", "--timeout", "60", "--log-level", "warning",
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            if request(port, "/bench/bare/", {})[0] == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def read_stats(prefix: str) -> dict:
    def num(v: str) -> float:
        try:
            return float(v)
        except ValueError:
            return 0.0

    endpoints, total = {}, {}
    with open(f"{prefix}_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            item = {
                "requests": int(num(row["Request Count"])), "errors": int(num(row["Failure Count"])),
                "rps": round(num(row["Requests/s"]), 2), "p50_ms": num(row["50%"]), "p95_ms": num(row["95%"]),
            }
            if row["Name"] == "Aggregated":
                total = item
            else:
                endpoints[row["Name"]] = item
    failures = []
    path = Path(f"{prefix}_failures.csv")
    if path.exists():
        with path.open(newline="") as f:
            failures = [
                {"endpoint": r["Name"], "error": r["Error"][:300], "count": int(num(r["Occurrences"]))}
                for r in csv.DictReader(f)
            ]
    return {"endpoints": endpoints, "total": total, "failures": failures}


def run_locust(*, port: int, plan_path: str, phase: str, seconds: float, counts: dict[str, int],
               think: float, workdir: str) -> dict:
    users = sum(counts.values())
    prefix = os.path.join(workdir, phase)
    env = dict(
        os.environ, LOAD_PLAN=plan_path, LOAD_PHASE=phase, LOAD_THINK=str(think),
        **{f"LOAD_{k.upper()}": str(v) for k, v in counts.items()},
    )
    cmd = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", f"http://127.0.0.1:{port}",
        "-u", str(users), "-r", str(max(1, min(users, 25))), "-t", f"{max(1, round(seconds))}s",
        "--stop-timeout", "10", "--reset-stats", "--csv", prefix, "--only-summary", "--loglevel", "WARNING",
    ]
    out = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    if not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust wrote no statistics (exit {out.returncode}): {out.stderr[-3000:]}")
    return read_stats(prefix)


def measure(
    *, seconds: float = 60.0, baseline_seconds: float = 30.0, warmup_seconds: float = 10.0, workers: int = 3,
    think: float = 1.0, counts: dict[str, int] | None = None, per_mediator: int = 4,
) -> dict:
    from cases.models import Case

    counts = dict(counts or MIX)
    started = time.monotonic()
    plan = arrange(per_mediator=per_mediator, **counts)
    setup_s = time.monotonic() - started
    matters = Case.objects.count()
    with tempfile.TemporaryDirectory(prefix="zz-load-") as workdir:
        plan_path = os.path.join(workdir, "plan.json")
        with open(plan_path, "w") as f:
            json.dump(plan, f)
        proc, port = start_gunicorn(workers)
        try:
            # The warm-up (the mixed load, not counted) gets every worker past its first requests.
            runs = {
                phase: run_locust(port=port, plan_path=plan_path, phase=phase, seconds=s, counts=counts,
                                  think=think, workdir=workdir)
                for phase, s in (("warmup", warmup_seconds), ("mixed", seconds), ("baseline", baseline_seconds))
            }
        finally:
            stop(proc)
            _purge_queue()
    mixed, base = runs["mixed"]["total"], runs["baseline"]["total"]
    return {
        "matters": matters,
        "workers": workers,
        "users": counts,
        "seconds": seconds,
        "baseline_seconds": baseline_seconds,
        "warmup_seconds": warmup_seconds,
        "setup_s": round(setup_s, 1),
        "mixed": runs["mixed"],
        "baseline": runs["baseline"],
        "errors": mixed.get("errors", 0) + base.get("errors", 0),
        "rps_ratio": round(mixed["rps"] / base["rps"], 3) if base.get("rps") else None,
        "p95_ratio": round(mixed["p95_ms"] / base["p95_ms"], 2) if base.get("p95_ms") else None,
    }


def _purge_queue() -> None:
    """Drop the notifications the run enqueued (no worker consumed them)."""
    from django.conf import settings

    from zongzhi.celery import app

    if getattr(settings, "CELERY_BROKER_URL", "").startswith("redis"):
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        for key in client.scan_iter(f"{QUEUE}*"):
            client.delete(key)
    else:
        app.control.purge()


def child(args: argparse.Namespace) -> None:
    import django

    os.environ["CELERY_QUEUE"] = QUEUE
    django.setup()
    counts = {"clerks": args.clerks, "mediators": args.mediators, "screens": args.screens, "api_clients": args.api_clients}
    result = measure(
        seconds=args.seconds, baseline_seconds=args.baseline_seconds, warmup_seconds=args.warmup_seconds,
        workers=args.workers, think=args.think,
        counts=counts,
    )
    print(json.dumps(result, ensure_ascii=False))


def report(r: dict) -> None:
    u = r["users"]
    print(
        f"{r['matters']:,} matters; gunicorn {r['workers']} sync workers, PostgreSQL, Redis on loopback; "
        f"{u['clerks']} clerks, {u['mediators']} mediators, {u['screens']} screens, {u['api_clients']} API clients; "
        f"{r['seconds']:.0f} s mixed after {r['warmup_seconds']:.0f} s warm-up, {r['baseline_seconds']:.0f} s baseline "
        f"(set-up {r['setup_s']:.0f} s)"
    )
    print(f"  {'endpoint':<42} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6}")
    for name, e in sorted(r["mixed"]["endpoints"].items()):
        print(f"  {name:<42} {e['requests']:>8} {e['rps']:>7.1f} {e['p50_ms']:>7.0f} {e['p95_ms']:>7.0f} {e['errors']:>6}")
    for label, run in (("mixed, all endpoints", r["mixed"]["total"]), ("baseline: bare JSON view", r["baseline"]["total"])):
        print(
            f"  {label:<42} {run['requests']:>8} {run['rps']:>7.1f} {run['p50_ms']:>7.0f} {run['p95_ms']:>7.0f} "
            f"{run['errors']:>6}"
        )
    for f in r["mixed"]["failures"] + r["baseline"]["failures"]:
        print(f"  error: {f['endpoint']}: {f['error']} ×{f['count']}")
    print(
        f"throughput {r['mixed']['total']['rps']:.1f} req/s = {r['rps_ratio']:.0%} of the bare view's under the same "
        f"users and pacing; p95 {r['p95_ratio']}× the bare view's; errors {r['errors']} (target 0)"
    )


def main() -> None:
    from benchmarks import common

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--matters", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the mixed run")
    parser.add_argument("--baseline-seconds", type=float, default=30.0, help="length of the bare-view run")
    parser.add_argument("--warmup-seconds", type=float, default=10.0, help="uncounted mixed load first")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--think", type=float, default=1.0, help="scale of the users' think times")
    for key, n in MIX.items():
        parser.add_argument(f"--{key.replace('_', '-')}", type=int, default=n)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    template = f"bench_{args.matters // 1000}k"
    common.ensure_template(template, matters=args.matters, open_count=args.open)
    db = "bench_load_run"
    common.clone(template, db)
    try:
        r = common.run_child(
            Path(__file__), db, f"--seconds={args.seconds}", f"--baseline-seconds={args.baseline_seconds}",
            f"--warmup-seconds={args.warmup_seconds}", f"--workers={args.workers}", f"--think={args.think}",
            f"--clerks={args.clerks}", f"--mediators={args.mediators}", f"--screens={args.screens}", f"--api-clients={args.api_clients}",
        )
    finally:
        common.drop(db)
    report(r)


if __name__ == "__main__":
    main()
