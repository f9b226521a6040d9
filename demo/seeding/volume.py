"""A county's real volume: N matters over five years, for benchmarks (`seed_volume --matters N`).

Mostly closed matters (with their register and close timeline rows and an applicant each), a set
of open ones spread over the levels with clocks in the future, and a set already due. People are
generated with valid ID numbers (the county's prefix, a birth date, the GB 11643 checksum) and
phones, encrypted like every Person. Rows go in with PostgreSQL's COPY (bulk_create on SQLite), in
chunks, so a million matters take minutes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from cases import crypto
from cases.models import (
    CLOCK_STATES,
    Case,
    CaseParty,
    CaseSequence,
    Category,
    Channel,
    Person,
    Satisfaction,
    Status,
    TimelineEntry,
)
from centers.models import Center, Region, RegionKind, User

from . import names

CHUNK = 20_000
YEARS = 5

CATEGORY_WEIGHTS = {
    Category.NEIGHBOUR: 22, Category.FAMILY: 16, Category.LABOUR: 14, Category.PROPERTY: 10, Category.LAND: 9,
    Category.TRAFFIC: 6, Category.LENDING: 6, Category.CONSUMER: 5, Category.DEMOLITION: 3, Category.MEDICAL: 2,
    Category.CONSTRUCTION: 2, Category.ENVIRONMENT: 2, Category.MILITARY: 1, Category.OTHER: 2,
}
CHANNEL_WEIGHTS = {
    Channel.VISIT: 30, Channel.GRID: 30, Channel.HOTLINE_12345: 20, Channel.POLICE_110: 8, Channel.ONLINE: 5,
    Channel.COURT: 3, Channel.LETTER: 2, Channel.LOWER_CENTER: 2,
}
TITLES = {
    Category.NEIGHBOUR: ["邻里排水纠纷", "宅基地界址争议", "噪音扰民纠纷", "相邻通行纠纷"],
    Category.FAMILY: ["婚姻家庭纠纷", "赡养纠纷", "离婚财产分割纠纷", "抚养费纠纷"],
    Category.LABOUR: ["工地欠薪", "劳务报酬纠纷", "工伤赔偿争议", "农民工工资拖欠"],
    Category.PROPERTY: ["物业费纠纷", "小区停车纠纷", "物业服务质量投诉"],
    Category.LAND: ["土地承包经营权纠纷", "山林权属争议", "土地流转纠纷"],
    Category.TRAFFIC: ["交通事故赔偿纠纷", "电动车碰撞纠纷"],
    Category.LENDING: ["民间借贷纠纷", "借款逾期未还"],
    Category.CONSUMER: ["商品质量纠纷", "预付卡退费纠纷"],
    Category.DEMOLITION: ["征地补偿纠纷", "房屋拆迁安置纠纷"],
    Category.MEDICAL: ["医疗损害赔偿纠纷"],
    Category.CONSTRUCTION: ["工程机械租赁费纠纷", "施工扰民纠纷"],
    Category.ENVIRONMENT: ["养殖污染纠纷", "企业排污投诉"],
    Category.MILITARY: ["涉军用地纠纷"],
    Category.OTHER: ["其他矛盾纠纷"],
}


@dataclass(frozen=True)
class Place:
    region_id: int
    path: str
    town_id: int | None
    village_center_id: int
    town_center_id: int
    county_center_id: int


def _places() -> tuple[list[Place], int]:
    """Every grid cell with its village, town and county centers (loaded once)."""
    centers = {c.region_id: c.pk for c in Center.objects.all()}
    regions = {r.path: r for r in Region.objects.only("pk", "path", "kind")}
    step = Region.steplen
    places = []
    county_center = None
    for r in regions.values():
        if r.kind != RegionKind.GRID:
            continue
        village = regions.get(r.path[: -step])
        town = regions.get(r.path[: -2 * step])
        county = regions.get(r.path[: -3 * step])
        if not (village and town and county):
            continue
        county_center = centers[county.pk]
        places.append(Place(r.pk, r.path, town.pk, centers[village.pk], centers[town.pk], county_center))
    if not places:
        raise SystemExit("没有网格：请先运行 seed_demo。")
    return places, county_center


def _weighted(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(rng: random.Random, prefix: str, born: dt.date) -> str:
    body = f"{prefix}{born:%Y%m%d}{rng.randrange(1000):03d}"
    total = sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def _copy(model, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY rows into the model's table (PostgreSQL)."""
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join(_pg(v) for v in row))
        buf.write("\n")
    buf.seek(0)
    with connection.cursor() as cur:
        cur.cursor.copy_expert(
            f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT text)", buf
        )


def _pg(v) -> str:
    if v is None:
        return r"\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, dt.datetime):
        return v.isoformat()
    s = str(v)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _next_id(model) -> int:
    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _reset_sequence(model) -> None:
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"  # noqa: S608 - table names from model metadata
            )


# Mobile prefixes in use (libphonenumber accepts them); the low eight digits keep phones unique.
MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)), "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "166", "173", "176", "177", "178", *(f"18{d}" for d in range(10)), "199",
)

PERSON_COLUMNS = [
    "id", "kind", "name", "id_number_enc", "id_number_hash", "id_number_masked", "phone_enc", "phone_hash",
    "phone_masked", "gender", "birth_date", "address", "region_id", "created_at", "updated_at",
]


def seed_people(n: int, *, rng: random.Random, prefix: str, now: dt.datetime, log=print) -> tuple[int, int]:
    """n people with valid, unique ID numbers and phones; returns the id range [first, last]."""
    first = _next_id(Person)
    fernet = crypto.fernet()
    made = 0
    while made < n:
        size = min(CHUNK, n - made)
        rows = []
        for i in range(size):
            pid = first + made + i
            born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 65))
            idn = id_number(rng, prefix, born)
            # Unique phones: the person's sequence number in the low digits.
            phone = f"{rng.choice(MOBILE_PREFIXES)}{(pid * 7919) % 10**8:08d}"
            rows.append(
                (
                    pid, "individual", names.person_name(rng),
                    fernet.encrypt(idn.encode()).decode(), crypto.lookup_hash("id", idn), crypto.mask_id_number(idn),
                    fernet.encrypt(phone.encode()).decode(), crypto.lookup_hash("phone", phone),
                    crypto.mask_phone(phone), "男" if int(idn[16]) % 2 else "女", born.isoformat(), "", None,
                    now, now,
                )
            )
        _insert(Person, PERSON_COLUMNS, rows)
        made += size
        log(f"  people {made:,}/{n:,}")
    _reset_sequence(Person)
    return first, first + n - 1


CASE_COLUMNS = [
    "id", "tracking_no", "kind", "channel", "category", "title", "description", "region_id", "region_path",
    "town_id", "address", "occurred_at", "amount", "people_count", "has_casualty", "petition_risk",
    "failed_mediations", "risk_note", "level", "owning_center_id", "owning_unit_id", "status", "phase",
    "warning_level", "warning_reasons", "warning_changed_at", "step_no", "step_started_at", "due_at", "yellow_at",
    "due_explanation", "clock_rule_id", "paused_at", "extension_hours", "overdue_fired", "overdue_count",
    "version", "registered_by_id", "created_at", "updated_at", "accepted_at", "resolved_at", "closed_at", "result",
    "satisfaction", "closed_on_time", "merged_into_id", "external_id", "source_ref",
]
TIMELINE_COLUMNS = [
    "id", "case_id", "at", "actor_id", "action", "summary", "comment", "from_status", "to_status",
    "from_center_id", "to_center_id", "step_due_at", "met_deadline", "late_seconds", "data",
]
PARTY_COLUMNS = ["id", "case_id", "person_id", "role", "note"]


def _insert(model, columns: list[str], rows: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        _copy(model, columns, rows)
    else:
        fields = [c[:-3] + "_id" if c.endswith("_id") else c for c in columns]
        objs = []
        for row in rows:
            kwargs = {}
            for f, v in zip(fields, row, strict=True):
                if f in ("warning_reasons", "data") and isinstance(v, str):
                    v = json.loads(v)
                kwargs[f] = v
            objs.append(model(**kwargs))
        model.objects.bulk_create(objs, batch_size=500)


def seed_cases(
    n: int,
    *,
    open_count: int,
    due_count: int,
    people: tuple[int, int],
    rng: random.Random,
    now: dt.datetime,
    log=print,
) -> dict:
    """n matters over five years: `open_count` still open (of which `due_count` already due)."""
    places, _county_center = _places()
    prefix = Region.objects.get(path=places[0].path[: Region.steplen]).code[:6]
    user_ids = list(User.objects.filter(is_active=True).values_list("pk", flat=True)[:500]) or [None]
    seq = {y: CaseSequence.objects.filter(prefix=prefix, year=y).values_list("last", flat=True).first() or 0
           for y in range(now.year - YEARS, now.year + 1)}
    next_case = _next_id(Case)
    next_entry = _next_id(TimelineEntry)
    next_party = _next_id(CaseParty)
    start = now - dt.timedelta(days=365 * YEARS)
    span = (now - start).total_seconds()
    # Which of the n rows are open: the newest ones (open matters are recent).
    open_from = n - open_count
    made = 0
    while made < n:
        size = min(CHUNK, n - made)
        cases, entries, parties = [], [], []
        for i in range(size):
            k = made + i
            is_open = k >= open_from
            is_due = is_open and (k - open_from) < due_count
            if is_open:
                created = now - dt.timedelta(seconds=rng.randrange(1, 30 * 86400))
            else:
                created = start + dt.timedelta(seconds=span * (k / max(open_from, 1)) * rng.uniform(0.995, 1.0))
            year = timezone.localtime(created).year
            seq[year] = seq.get(year, 0) + 1
            place = rng.choice(places)
            r = rng.random()
            level, owner = ("village", place.village_center_id) if r < 0.7 else (
                ("town", place.town_center_id) if r < 0.93 else ("county", place.county_center_id))
            category = _weighted(rng, CATEGORY_WEIGHTS)
            channel = _weighted(rng, CHANNEL_WEIGHTS)
            people_count = 1 if rng.random() < 0.96 else rng.randrange(2, 40)
            amount = round(rng.lognormvariate(9, 1.4), 2) if category in (Category.LABOUR, Category.LENDING, Category.TRAFFIC, Category.DEMOLITION) else None
            cid = next_case + k
            resolved = rng.random() < 0.97
            if is_open:
                status = rng.choice(CLOCK_STATES)
                due = (now - dt.timedelta(minutes=rng.randrange(1, 600))) if is_due else (
                    now + dt.timedelta(days=rng.uniform(1.5, 20)))
                yellow = due - dt.timedelta(days=1) if not is_due else due - dt.timedelta(hours=6)
                if not is_due:
                    yellow = max(yellow, now + dt.timedelta(hours=12))
                closed_at = resolved_at = satisfaction = closed_on_time = None
                final_status = status
            else:
                due = yellow = None
                days = rng.expovariate(1 / 12)
                closed_at = created + dt.timedelta(days=days)
                resolved_at = closed_at - dt.timedelta(days=min(days, rng.uniform(0, 3))) if resolved else None
                satisfaction = rng.choices(list(Satisfaction.values), weights=[80, 15, 5])[0]
                closed_on_time = days < 20
                final_status = Status.CLOSED
            red = people_count >= 5 or is_due
            warning = "red" if red else "green"
            reasons = []
            if people_count >= 5:
                reasons.append(f"涉及 {people_count} 人（群体性，阈值 5 人）")
            cases.append(
                (
                    cid, f"{prefix}-{year}-{seq[year]:06d}", "dispute", channel, category,
                    rng.choice(TITLES[category]), "", place.region_id, place.path, place.town_id, "",
                    created, amount, people_count, False, False, 0, "", level, owner, None, final_status, "",
                    warning, json.dumps(reasons, ensure_ascii=False), created, 1, created if is_open else None,
                    due, yellow, "", None, None, 0, False, 0, 1, rng.choice(user_ids), created,
                    closed_at or created, created if final_status != Status.REGISTERED else None, resolved_at,
                    closed_at, "双方达成调解协议" if resolved and not is_open else "", satisfaction or "",
                    closed_on_time, None, None, "",
                )
            )
            entries.append(
                (next_entry, cid, created, None, "register", "登记", "", "", Status.REGISTERED, None, owner,
                 None, None, None, "{}")
            )
            next_entry += 1
            if not is_open:
                entries.append(
                    (next_entry, cid, closed_at, None, "close", "回访办结", "", Status.RESOLVED, Status.CLOSED,
                     owner, owner, None, closed_on_time, None if closed_on_time else 3600, "{}")
                )
                next_entry += 1
            person = rng.randint(*people)
            parties.append((next_party, cid, person, "applicant", ""))
            next_party += 1
        with transaction.atomic():
            _insert(Case, CASE_COLUMNS, cases)
            _insert(TimelineEntry, TIMELINE_COLUMNS, entries)
            _insert(CaseParty, PARTY_COLUMNS, parties)
        made += size
        log(f"  matters {made:,}/{n:,}")
    for model in (Case, TimelineEntry, CaseParty):
        _reset_sequence(model)
    for year, last in seq.items():
        if last:
            CaseSequence.objects.update_or_create(prefix=prefix, year=year, defaults={"last": last})
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for model in (Person, Case, TimelineEntry, CaseParty):
                cur.execute(f"ANALYZE {model._meta.db_table}")
    return {"matters": n, "open": open_count, "due": due_count}


def county_prefix() -> str:
    root = Region.objects.filter(kind=RegionKind.COUNTY).order_by("depth").first()
    if root is None:
        raise SystemExit("没有县：请先运行 seed_demo。")
    return root.code[:6]


def seed(
    *, matters: int, open_count: int, due_count: int, people: int, seed: int = 2026, log=print
) -> dict:
    rng = random.Random(seed)
    now = timezone.now()
    prefix = county_prefix()
    if people:
        first, last = seed_people(people, rng=rng, prefix=prefix, now=now, log=log)
    else:
        ids = Person.objects.aggregate(lo=Max("pk"))
        if not ids["lo"]:
            first, last = seed_people(max(matters // 2, 1), rng=rng, prefix=prefix, now=now, log=log)
        else:
            first, last = 1, ids["lo"]
    return seed_cases(
        matters, open_count=open_count, due_count=due_count, people=(first, last), rng=rng, now=now, log=log
    )

