"""Registration at the window: server time of the registration POST with 1,000,000 people on file.

    python benchmarks/registration_bench.py                  # 1,000,000 matters and people (template built once)
    python benchmarks/registration_bench.py --matters 100000 --n 100

Two clones of the template (`seed_demo` + `seed_volume --matters N`, which puts N people on file
with valid ID numbers and phones): the full one, and a baseline whose people table is emptied
(TRUNCATE cases_person CASCADE: the same matters, no people). On each, a window clerk posts the
registration form through Django's test client (the whole request: middleware, session, form,
`visit_register`, the case engine; no network), n times per scenario:

- new visitor: an ID number that is not on file;
- returning by ID: the ID number of a person on file (found through the keyed hash);
- returning by phone: only the phone of a person on file;

and the JSON look-up the form calls while the ID number or the phone is typed, by ID and by phone.
Prints p50/p95 per scenario on both databases and the ratio full ÷ baseline.
Target (shared/ARCHITECTURE.md): registration p95 < 50 ms with 1M people on file.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MS = 50
SCENARIOS = ("new", "by_id", "by_phone")
LOOKUPS = ("lookup_id", "lookup_phone")


@dataclass
class Desk:
    client: Any
    center: Any
    window: Any
    unit: Any
    region_id: int
    route: str


def arrange(route: str = "law_litigation") -> Desk:
    """A clerk on duty at a window of the county hall, signed in (idempotent per database)."""
    from django.test import Client
    from django.utils import timezone

    from centers.models import DepartmentKind, Region, RegionKind, Role, Unit, User
    from centers.selectors import center_of_region
    from centers.services import membership_create
    from reception.models import Window
    from reception.services import duty_set

    county = Region.objects.filter(kind=RegionKind.COUNTY).order_by("depth", "pk").first()
    center = center_of_region(county)
    clerk, _ = User.objects.get_or_create(username="bench_clerk", defaults={"full_name": "基准窗口"})
    boss, _ = User.objects.get_or_create(username="bench_boss", defaults={"full_name": "基准主管"})
    membership_create(user=clerk, role=Role.WINDOW_CLERK, center=center)
    membership_create(user=boss, role=Role.HALL_SUPERVISOR, center=center)
    unit = Unit.objects.filter(region__path__startswith=county.path, kind=DepartmentKind.COURT).first()
    if unit is None:
        unit = Unit.objects.create(region=county, kind=DepartmentKind.COURT, name=f"{county.name}人民法院")
    window, _ = Window.objects.get_or_create(
        center=center, number=99, defaults={"name": "基准窗口", "department": DepartmentKind.PETITION}
    )
    duty_set(by=boss, window=window, date=timezone.localdate(), users=[clerk])
    village = (
        Region.objects.filter(path__startswith=county.path, kind=RegionKind.VILLAGE).order_by("path").first()
    )
    client = Client()
    client.force_login(clerk)
    return Desk(client, center, window, unit, (village or county).pk, route)


def people_on_file(n: int, seed: int = 7) -> list[tuple[str, str, str]]:
    """(name, ID number, phone) of n random people on file. Decrypting a sample is the benchmark's
    business only; the application never decrypts in bulk."""
    from django.db.models import Max

    from cases.models import Person

    top = Person.objects.aggregate(m=Max("pk"))["m"] or 0
    if not top:
        return []
    rng = random.Random(seed)
    ids = rng.sample(range(1, top + 1), min(n * 4, top))
    people = [p for p in Person.objects.filter(pk__in=ids).exclude(id_number_hash="").exclude(phone_hash="")][
        :n
    ]
    from reception.validators import clean_phone

    def valid(phone: str) -> bool:  # templates built before seed_volume's prefix fix hold a few bad ones
        try:
            clean_phone(phone)
        except Exception:  # noqa: BLE001 - a ValidationError: not a usable sample
            return False
        return True

    return [(p.name, p.id_number, p.phone) for p in people if valid(p.phone)]


def _fresh_id(rng: random.Random) -> str:
    from stdnum.cn import ric

    body = f"430124{rng.randrange(1960, 2000)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def _form(desk: Desk, *, name: str, id_number: str, phone: str, matter: str) -> dict[str, str]:
    return {
        "window": str(desk.window.pk),
        "id_number": id_number,
        "phone": phone,
        "name": name,
        "address": "",
        "region": str(desk.region_id),
        "people_count": "1",
        "category": "labour",
        "matter": matter,
        "description": "",
        "route": desk.route,
        "result": "当场答复" if desk.route in ("on_the_spot", "consultation") else "",
        "satisfaction": "satisfied",
        "unit": str(desk.unit.pk),
        "summons_hours": "2",
        "party-TOTAL_FORMS": "0",
        "party-INITIAL_FORMS": "0",
        "party-MIN_NUM_FORMS": "0",
        "party-MAX_NUM_FORMS": "10",
    }


def _timed(fn) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def measure(desk: Desk, n: int, *, seed: int = 11) -> dict[str, list[float]]:
    """n requests per scenario (after a warm-up); milliseconds per request. Fails on any non-redirect."""
    rng = random.Random(seed)
    known = people_on_file(n + 2)
    out: dict[str, list[float]] = {s: [] for s in (*SCENARIOS, *LOOKUPS)}
    # Warm-up: code paths, rule tables, the session.
    desk.client.post(
        "/reception/register/", _form(desk, name="预热", id_number=_fresh_id(rng), phone="", matter="预热")
    )
    for i in range(n):
        plans = {"new": ("新来访", _fresh_id(rng), f"139{rng.randrange(10**8):08d}")}
        if known:
            name, idn, phone = known[i % len(known)]
            plans["by_id"] = (name, idn, "")
            plans["by_phone"] = (name, "", phone)
        for scenario, (name, idn, phone) in plans.items():
            data = _form(desk, name=name, id_number=idn, phone=phone, matter=f"基准登记 {scenario} {i}")
            ms, response = _timed(lambda data=data: desk.client.post("/reception/register/", data))
            if response.status_code != 302:
                raise SystemExit(f"registration failed ({scenario}): {response.status_code}")
            out[scenario].append(ms)
        if known:
            name, idn, phone = known[i % len(known)]
            for key, params in (("lookup_id", {"id_number": idn}), ("lookup_phone", {"phone": phone})):
                ms, response = _timed(lambda params=params: desk.client.get("/reception/lookup/", params))
                if response.status_code != 200 or not response.json()["found"]:
                    raise SystemExit(f"look-up failed ({key})")
                out[key].append(ms)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50": round(statistics.median(ordered), 1), "p95": round(p95, 1), "n": len(ordered)}


def child(n: int, route: str) -> None:
    import django

    django.setup()
    from cases.models import Person

    desk = arrange(route)
    samples = measure(desk, n)
    print(json.dumps({"people": Person.objects.count(), **{k: summary(v) for k, v in samples.items()}}))


def main() -> None:
    from benchmarks import common

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--matters", type=int, default=1_000_000, help="matters (and people) in the template")
    parser.add_argument("--n", type=int, default=200, help="registrations per scenario")
    parser.add_argument("--route", default="law_litigation")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("N", "ROUTE"))
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1])
        return
    template = f"bench_{args.matters // 1000}k"
    common.ensure_template(
        template, matters=args.matters, open_count=args.matters // 10, rebuild=args.rebuild
    )
    results = {}
    for label in ("baseline", "full"):
        db = f"bench_registration_{label}"
        common.clone(template, db)
        try:
            common.manage(db, "migrate", "-v0")
            if label == "baseline":
                common.psql("TRUNCATE cases_person CASCADE; ANALYZE", db)
            results[label] = r = common.run_child(Path(__file__), db, str(args.n), args.route)
        finally:
            common.drop(db)
        print(f"{label}: {r['people']:,} people on file", flush=True)
        for key in (*SCENARIOS, *LOOKUPS):
            if r.get(key):
                print(
                    f"  {key:<13} p50 {r[key]['p50']:7.1f} ms   p95 {r[key]['p95']:7.1f} ms   (n={r[key]['n']})"
                )
    base, full = results["baseline"], results["full"]
    print(
        f"registration (route {args.route}), full ÷ baseline p95: new visitor {full['new']['p95'] / base['new']['p95']:.2f}"
    )
    worst = max(full[k]["p95"] for k in SCENARIOS if full.get(k))
    print(
        f"registration p95 with {full['people']:,} people on file: {worst:.1f} ms  (target < {TARGET_MS} ms)"
    )


if __name__ == "__main__":
    main()
