"""The 12345 import: a 100,000-row hotline file through the import page's own service path.

    python benchmarks/import_12345.py                        # 100,000 rows on a 100,000-matter template
    python benchmarks/import_12345.py --rows 20000 --matters 20000
    python benchmarks/import_12345.py --matters 1000000      # on the lead's 1M template (bench_1000k)

A clone of the template database (`seed_demo` + `seed_volume --matters N`, built once, see
benchmarks/common.py) receives the files of `petitions.datagen` for the demo county, with planted
truth: a 12345 file of `--rows` rows in which 5% of the matters also reached 110 or the online
platform (reworded, +86 / spaced / dashed phones, address variants, up to 72 h apart, some by
another family member), 1% bad rows (a short phone, an impossible date, an unknown town, no
title, a head count that is not a number), repeat callers and professional claimants; and the
110 and online files holding the other channels' copies and look-alike records (precision traps).

The 110 and online files are imported first (they are what the other channels already hold);
then the 12345 file is imported the way the import page does it — `import_preview` (read the
file, validate every row, count known record numbers, store the batch) and `import_run` (read
and validate again, register the good rows in bulk: people, cases, petitions, flags, fusion) —
and timed end to end. Then the file is imported once more (nothing may be added).

Prints rows per second including validation and fusion, the recall of the fusion (share of the
planted cross-channel duplicates it suggests) and its precision (share of its suggested
merges/links that are planted duplicates), the targets beside them (shared/ARCHITECTURE.md), and
the import report's check: every bad row reported with the reason naming its field, every good
row imported, the re-import adding nothing. Exits non-zero when the report is wrong.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_ROWS_PER_S = 2000
TARGET_RECALL = 0.9
TARGET_PRECISION = 0.95
DAYS = 180  # the generated records span this many days, ending a few days ago


def arrange() -> tuple[Any, Any, list]:
    """The importing dispatcher of the county center and the county's villages (idempotent)."""
    from centers.models import Region, RegionKind, Role, User
    from centers.selectors import center_of_region
    from centers.services import membership_create
    from petitions.datagen import Place

    county = Region.objects.filter(kind=RegionKind.COUNTY).order_by("depth", "pk").first()
    center = center_of_region(county)
    user, _ = User.objects.get_or_create(username="bench_importer", defaults={"full_name": "基准导入"})
    if not user.memberships.filter(center=center, role=Role.DISPATCHER, is_active=True).exists():
        membership_create(user=user, role=Role.DISPATCHER, center=center)
    regions = list(
        Region.objects.filter(path__startswith=county.path, kind__in=[RegionKind.TOWN, RegionKind.VILLAGE])
        .order_by("path")
        .values_list("kind", "path", "name", "code")
    )
    towns = {path: name for kind, path, name, _ in regions if kind == RegionKind.TOWN}
    places = []
    for kind, path, name, code in regions:
        if kind != RegionKind.VILLAGE or not code:
            continue
        town = next((towns[p] for p in towns if path.startswith(p)), None)
        if town is not None:
            places.append(Place(town=town, village=name, code=code))
    if not places:
        raise SystemExit("the county has no villages with region codes: seed_demo first")
    return user, center, places


def generate(places: list, rows: int, seed: int, now: dt.datetime):
    from petitions import datagen

    start = (now - dt.timedelta(days=DAYS + 3)).astimezone(datagen.SH).replace(hour=8, minute=0, second=0)
    # Scale the repeat callers and claimants with the file (the seed county: 19 and 29 in a year).
    scale = max(rows / 100_000, 0.05)
    return datagen.generate(
        places,
        hotline_rows=rows,
        duplicate_rate=0.05,
        bad_rate=0.01,
        repeat_callers=max(int(19 * scale), 3),
        near_repeat_callers=max(int(10 * scale), 2),
        claimants=max(int(29 * scale), 3),
        near_claimants=max(int(10 * scale), 2),
        seed=seed,
        start=start,
        days=DAYS,
    )


def write_files(ds, directory: Path) -> dict[str, Path]:
    from petitions import datagen

    paths = {}
    for source, rows in (("police_110", ds.police), ("online", ds.online), ("hotline_12345", ds.hotline)):
        path = directory / f"{source}.csv"
        headers = datagen.HOTLINE_HEADERS if source == "hotline_12345" else list(rows[0])
        datagen.write_csv(rows, path, headers)
        paths[source] = path
    return paths


def import_file(user, source: str, path: Path) -> tuple[Any, float, float]:
    """Preview, then import, as the import page (and its background task) does; seconds of each."""
    from django.core.files import File

    from petitions import services

    started = time.perf_counter()
    with path.open("rb") as f:
        batch = services.import_preview(by=user, source=source, file=File(f, name=path.name))
    previewed = time.perf_counter()
    batch = services.import_run(batch=batch, by=user)
    return batch, previewed - started, time.perf_counter() - previewed


def case_ids(ds) -> dict[tuple[str, str], int]:
    """(channel, record number) → case id of every imported record."""
    from cases.models import Case
    from petitions.datagen import ref_of

    out = {}
    for channel, rows in (("hotline_12345", ds.hotline), ("police_110", ds.police), ("online", ds.online)):
        refs = [ref_of(r) for r in rows]
        for start in range(0, len(refs), 10_000):
            qs = Case.objects.filter(channel=channel, source_ref__in=refs[start : start + 10_000])
            out.update({(channel, ref): pk for ref, pk in qs.values_list("source_ref", "pk")})
    return out


def fusion_quality(ds, ids: dict[tuple[str, str], int]) -> dict[str, Any]:
    """Recall and precision of the suggested pairs against the planted duplicates."""
    from petitions.models import FusionMatch

    planted = {
        frozenset((ids[("hotline_12345", a)], ids[(ch, b)]))
        for a, ch, b in ds.duplicate_pairs
        if ("hotline_12345", a) in ids and (ch, b) in ids
    }
    hotline = {pk for (channel, _), pk in ids.items() if channel == "hotline_12345"}
    found = set()
    others = 0
    for a, b in FusionMatch.objects.values_list("case_id", "other_id").iterator(chunk_size=20_000):
        if a in hotline or b in hotline:
            found.add(frozenset((a, b)))
        else:
            others += 1  # 110 ↔ online: never planted
    true = found & planted
    return {
        "planted": len(planted),
        "planted_missing": len(ds.duplicate_pairs) - len(planted),
        "suggested": len(found),
        "true": len(true),
        "recall": len(true) / len(planted) if planted else 1.0,
        "precision": len(true) / len(found) if found else 1.0,
        "other_channel_pairs": others,
        "other_channel_precision": len(true) / (len(found) + others) if found or others else 1.0,
    }


def check_report(
    ds, batch, again, ids: dict[tuple[str, str], int], before_reimport: dict[str, int]
) -> list[str]:
    """What is wrong with the 12345 import's report (empty: it is right)."""

    problems = []
    total = len(ds.hotline)
    bad = ds.bad_refs
    good = total - len(bad)
    if batch.status != "done":
        problems.append(f"import status {batch.status}: {batch.message}")
    if (batch.total_rows, batch.good_rows, batch.bad_rows) != (total, good, len(bad)):
        problems.append(
            f"rows total/good/bad {batch.total_rows}/{batch.good_rows}/{batch.bad_rows}, "
            f"planted {total}/{good}/{len(bad)}"
        )
    if (batch.imported_rows, batch.existing_rows) != (good, 0):
        problems.append(f"imported {batch.imported_rows}, existing {batch.existing_rows}, expected {good}, 0")
    reported = {e["ref"]: e for e in batch.errors}
    if set(reported) != bad:
        problems.append(
            f"bad rows reported {len(reported)}: {len(bad - set(reported))} planted ones missing, "
            f"{len(set(reported) - bad)} good ones reported as bad"
        )
    wrong_reason = [
        ref
        for ref, field in ds.bad_fields.items()
        if ref in reported and (field not in reported[ref]["fields"] or not all(reported[ref]["errors"]))
    ]
    if wrong_reason:
        problems.append(
            f"{len(wrong_reason)} bad rows reported without the reason of their fault, e.g. {wrong_reason[0]}"
        )
    hotline_refs = {ref for (channel, ref) in ids if channel == "hotline_12345"}
    planted_good = {r["工单编号"] for r in ds.hotline} - bad
    if hotline_refs != planted_good:
        problems.append(
            f"12345 records on file {len(hotline_refs)}: {len(planted_good - hotline_refs)} good rows missing, "
            f"{len(hotline_refs - planted_good)} bad rows imported"
        )
    if (again.imported_rows, again.existing_rows, again.bad_rows) != (0, good, len(bad)):
        problems.append(
            f"re-import: imported {again.imported_rows}, existing {again.existing_rows}, bad {again.bad_rows}"
        )
    after = on_file()
    for what, n in before_reimport.items():
        if after[what] != n:
            problems.append(f"the re-import changed the number of {what}: {n} → {after[what]}")
    return problems


def on_file() -> dict[str, int]:
    from cases.models import Case, Person
    from petitions.models import FusionMatch, PetitionFlag

    return {
        "cases": Case.objects.count(),
        "people": Person.objects.count(),
        "fusion suggestions": FusionMatch.objects.count(),
        "flags": PetitionFlag.objects.count(),
    }


def lists_quality(ds, user) -> dict[str, Any]:
    """Repeat callers and professional claimants on the pages' lists vs the planted truth."""
    from cases import crypto
    from petitions import datagen, selectors
    from petitions.models import PetitionPolicy

    policy = PetitionPolicy.current()
    want_callers, want_claimants = datagen.truth_lists(
        ds, repeat_caller_min=policy.repeat_caller_min, claimant_min=policy.frequent_complainant_min
    )
    since = dt.datetime.now(tz=dt.UTC) - dt.timedelta(days=DAYS + 30)
    callers = {p.key for p in selectors.repeat_callers(user, since=since)}
    claimants = {p.key for p in selectors.frequent_complainants(user, since=since)}

    def key(k: str) -> str:
        if len(k) == 18:
            return crypto.lookup_hash("id", crypto.normalize_id_number(k))
        return crypto.lookup_hash("phone", crypto.normalize_phone(k))

    return {
        "repeat_callers": len(want_callers),
        "repeat_callers_listed": len(callers),
        "repeat_callers_match": callers == {crypto.lookup_hash("phone", p) for p in want_callers},
        "claimants": len(want_claimants),
        "claimants_listed": len(claimants),
        "claimants_match": claimants == {key(k) for k in want_claimants},
    }


def measure(rows: int, *, seed: int = 7, workdir: Path | None = None) -> dict[str, Any]:
    """Generate, import the other channels, then time the 12345 import; everything the report prints."""
    from django.test import override_settings
    from django.utils import timezone

    from cases.models import Case

    user, _center, places = arrange()
    now = timezone.now()
    started = time.perf_counter()
    ds = generate(places, rows, seed, now)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(workdir or tmp)
        paths = write_files(ds, directory)
        generated = time.perf_counter() - started
        cases_before = Case.objects.count()
        with override_settings(MEDIA_ROOT=str(directory / "media")):
            others = {}
            for source in ("police_110", "online"):
                b, p_s, r_s = import_file(user, source, paths[source])
                others[source] = {
                    "rows": b.total_rows,
                    "imported": b.imported_rows,
                    "bad": b.bad_rows,
                    "seconds": round(p_s + r_s, 2),
                }
            batch, preview_s, run_s = import_file(user, "hotline_12345", paths["hotline_12345"])
            before_reimport = on_file()
            again, again_preview_s, again_run_s = import_file(user, "hotline_12345", paths["hotline_12345"])
    ids = case_ids(ds)
    seconds = preview_s + run_s
    return {
        "matters_before": cases_before,
        "rows": batch.total_rows,
        "generated_s": round(generated, 1),
        "other_channels": others,
        "preview_s": round(preview_s, 2),
        "import_s": round(run_s, 2),
        "seconds": round(seconds, 2),
        "rows_per_s": round(batch.total_rows / seconds, 1) if seconds else 0.0,
        "reimport_s": round(again_preview_s + again_run_s, 2),
        "report": {
            "good": batch.good_rows,
            "bad": batch.bad_rows,
            "imported": batch.imported_rows,
            "fused": batch.fused_rows,
            "message": batch.message,
            "bad_by_field": dict(Counter(f for e in batch.errors for f in e["fields"])),
        },
        "reimport": {"imported": again.imported_rows, "existing": again.existing_rows, "bad": again.bad_rows},
        "problems": check_report(ds, batch, again, ids, before_reimport),
        "fusion": fusion_quality(ds, ids),
        "lists": lists_quality(ds, user),
    }


def print_result(r: dict[str, Any], load: str = "") -> bool:
    """Print the figures with their targets; True when the import report is right."""
    f, lists = r["fusion"], r["lists"]
    print(f"template matters before the import: {r['matters_before']:,}")
    for source, o in r["other_channels"].items():
        print(f"  first imported {source}: {o['rows']:,} rows ({o['bad']} bad) in {o['seconds']} s")
    print(
        f"12345 file: {r['rows']:,} rows; preview (read + validate) {r['preview_s']} s, import "
        f"(read + validate + register + flags + fusion) {r['import_s']} s"
    )
    print(
        f"12345 import: {r['rows_per_s']:,.0f} rows/s including validation and fusion  "
        f"(target ≥ {TARGET_ROWS_PER_S:,}){'  load ' + load if load else ''}"
    )
    print(
        f"fusion recall: {f['recall']:.3f} ({f['true']:,} of {f['planted']:,} planted duplicates suggested)  "
        f"(target ≥ {TARGET_RECALL})"
    )
    print(
        f"fusion precision: {f['precision']:.3f} ({f['true']:,} of {f['suggested']:,} suggested merges/links "
        f"are planted duplicates)  (target ≥ {TARGET_PRECISION})"
    )
    print(
        f"  plus {f['other_channel_pairs']:,} pairs between 110 and online records (none planted); "
        f"precision counting them {f['other_channel_precision']:.3f}"
    )
    print(f"report: {r['report']['message']}; bad rows by field {r['report']['bad_by_field']}")
    print(
        f"re-import of the same file: imported {r['reimport']['imported']}, already on file "
        f"{r['reimport']['existing']:,}, bad {r['reimport']['bad']} ({r['reimport_s']} s)"
    )
    print(
        f"repeat callers listed {lists['repeat_callers_listed']} / planted {lists['repeat_callers']} "
        f"({'match' if lists['repeat_callers_match'] else 'DIFFER'}); professional claimants listed "
        f"{lists['claimants_listed']} / planted {lists['claimants']} "
        f"({'match' if lists['claimants_match'] else 'DIFFER'})"
    )
    if r["problems"]:
        print("import report WRONG:")
        for p in r["problems"]:
            print(f"  - {p}")
        return False
    print(
        "import report correct: bad rows reported with their reasons, good rows imported, re-import added nothing"
    )
    return True


def child(rows: int, seed: int) -> None:
    import django

    django.setup()
    print(json.dumps(measure(rows, seed=seed), ensure_ascii=False, default=str))


def main() -> None:
    from benchmarks import common

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the 12345 file")
    parser.add_argument("--matters", type=int, default=100_000, help="matters in the template database")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the template")
    parser.add_argument("--keep", action="store_true", help="keep the clone (bench_import_12345) to inspect")
    parser.add_argument("--child", nargs=2, metavar=("ROWS", "SEED"))
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), int(args.child[1]))
        return
    template = f"bench_{args.matters // 1000}k"
    common.ensure_template(
        template, matters=args.matters, open_count=args.matters // 10, rebuild=args.rebuild
    )
    db = "bench_import_12345"
    common.clone(template, db)
    try:
        result = common.run_child(Path(__file__), db, str(args.rows), str(args.seed))
    finally:
        if not args.keep:
            common.drop(db)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if not print_result(result, load):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
