"""API list throughput at a county's volume, as a ratio to a bare Django JSON view.

    python benchmarks/api_throughput.py                  # clones the 1M template (built once by seed_volume)
    python benchmarks/api_throughput.py --matters 100000 --seconds 20

One gunicorn (sync workers, one per core) on loopback serves both the API's case list
(`GET /api/v1/cases/`, 50 rows: token authentication, per-token rate limit, jurisdiction gate,
sync horizon, keyset page, serializer) and a bare Django view returning the same 50 rows as JSON
(benchmarks/api_urls.py). The same client — threads, a new connection per request, as gunicorn's
sync workers close them — drives each for the same time. Printed: requests per second of each,
the API's as a ratio of the bare view's for a county token and a town token, p50/p95 latency,
and errors (any non-200 counts). Target (shared/ARCHITECTURE.md): the ratio ≥ 50%.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def bench_tokens() -> dict[str, str]:
    """API client accounts of the county center and of the busiest town, each with a token."""
    from django.db.models import Count

    from apiauth.services import token_create
    from cases.models import Case
    from centers.models import Center, RegionKind, Role, User
    from centers.services import membership_create

    county = Center.objects.filter(region__kind=RegionKind.COUNTY).order_by("region__depth").first()
    busiest = Case.objects.values("town").annotate(n=Count("pk")).order_by("-n").first()
    town = Center.objects.get(region_id=busiest["town"])
    out = {}
    for label, center in (("county", county), ("town", town)):
        user, created = User.objects.get_or_create(
            username=f"bench_api_{label}", defaults={"full_name": f"bench {label}", "is_api_client": True}
        )
        if created:
            membership_create(user=user, role=Role.API_CLIENT, center=center)
        # The benchmark measures throughput, not the limit: a budget it cannot exhaust.
        _, key = token_create(user=user, name="benchmark", by=None, rate_per_minute=10_000_000)
        out[label] = key
    return out


class Server:
    """gunicorn on loopback with the benchmark's settings, against the current database."""

    def __init__(self, *, workers: int) -> None:
        self.port = free_port()
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="benchmarks.api_settings",
            DATABASE_URL=database_url(),
            PYTHONPATH=str(ROOT),
        )
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "zongzhi.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning",
            ],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.proc.stderr.read().decode(errors='replace')[-2000:]}")
            try:
                status, _ = request(self.port, "/bench/bare/", {})
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer within 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def request(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def drive(port: int, path: str, headers: dict[str, str], *, seconds: float, concurrency: int) -> dict:
    """Requests from `concurrency` threads for `seconds` (after a short warm-up); bounded in time."""
    for _ in range(3):
        request(port, path, headers)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors
        mine, bad = [], 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                status, _ = request(port, path, headers)
            except OSError:
                status = 0
            mine.append(time.perf_counter() - started)
            if status != 200:
                bad += 1
        with lock:
            latencies.extend(mine)
            errors += bad

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors,
        "rps": round(n / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if n else None,
        "p95_ms": round(latencies[int(n * 0.95) - 1] * 1000, 1) if n else None,
    }


def measure(*, seconds: float = 15.0, concurrency: int = 8, workers: int | None = None) -> dict:
    from cases.models import Case

    keys = bench_tokens()
    workers = workers or os.cpu_count() or 2
    server = Server(workers=workers)
    try:
        status, body = request(server.port, "/api/v1/cases/", {"Authorization": f"Token {keys['county']}"})
        if status != 200:
            raise RuntimeError(f"the API list answered {status}: {body[:500]!r}")
        rows = json.loads(body)["results"]
        runs = {"bare": drive(server.port, "/bench/bare/", {}, seconds=seconds, concurrency=concurrency)}
        for label, key in keys.items():
            runs[f"api_{label}"] = drive(
                server.port, "/api/v1/cases/", {"Authorization": f"Token {key}"}, seconds=seconds,
                concurrency=concurrency,
            )
    finally:
        server.stop()
    bare = runs["bare"]["rps"]
    return {
        "matters": Case.objects.count(),
        "rows_per_page": len(rows),
        "workers": workers,
        "concurrency": concurrency,
        "seconds": seconds,
        "runs": runs,
        "ratio_county": round(runs["api_county"]["rps"] / bare, 3) if bare else None,
        "ratio_town": round(runs["api_town"]["rps"] / bare, 3) if bare else None,
    }


def child(seconds: float, concurrency: int) -> None:
    import django

    django.setup()
    print(json.dumps(measure(seconds=seconds, concurrency=concurrency), ensure_ascii=False))


def main() -> None:
    from benchmarks import common

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--matters", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.seconds, args.concurrency)
        return
    template = f"bench_{args.matters // 1000}k"
    common.ensure_template(template, matters=args.matters, open_count=args.open)
    common.clone(template, "bench_api_run")
    try:
        r = common.run_child(
            Path(__file__), "bench_api_run", f"--seconds={args.seconds}", f"--concurrency={args.concurrency}"
        )
    finally:
        common.drop("bench_api_run")
    print(
        f"{r['matters']:,} matters; gunicorn {r['workers']} sync workers on loopback; {r['concurrency']} client "
        f"threads, {r['seconds']:.0f} s per run; {r['rows_per_page']} rows per page"
    )
    for name, run in r["runs"].items():
        print(
            f"  {name:<11} {run['rps']:8.1f} req/s   p50 {run['p50_ms']} ms   p95 {run['p95_ms']} ms   "
            f"errors {run['errors']}/{run['requests']}"
        )
    print(
        f"API list / bare Django JSON view: county token {r['ratio_county']:.0%}, town token {r['ratio_town']:.0%} "
        f"(target ≥ {TARGET_RATIO:.0%})"
    )


if __name__ == "__main__":
    main()
