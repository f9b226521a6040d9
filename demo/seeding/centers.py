"""The demo county: places, centers, units and staff.

湘源县 is fictional; its code 430124 is a real (retired, 1983–2017) county code, so ID numbers
generated for the demo's people carry a birth-place prefix that `stdnum.cn.ric` accepts, without
naming any existing county. Shape and figures follow the seed counties (长沙县, 湘潭县): 18 towns (6
街道 and 12 镇), ~225 villages and communities, ~1,900 level-4 grid cells of 200–300 households,
~3,500 grid workers.

The plan is deterministic (seeded per town, in a fixed order), so `--towns N` yields the first N
towns of the full county and a later full run adds exactly the rest. Everything is keyed on region
code and username, written with bulk inserts (and bulk history rows), and nothing that exists is
touched: running the command twice creates nothing.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db.models import Model

from centers.models import (
    CENTER_KINDS,
    Center,
    DepartmentKind,
    Membership,
    Region,
    RegionKind,
    Role,
    Unit,
    User,
)
from centers.services import center_name_for, role_group

from . import names
from .context import Login, SeedContext

COUNTY_CODE = "430124"
COUNTY_NAME = "湘源县"
CENTROID = (28.25, 112.55)  # lat, lng
AREA_PHONE = "0731"
TOWN_COUNT = len(names.TOWNS_URBAN) + len(names.TOWNS_RURAL)  # 18
HISTORY_REASON = "演示数据"
_CHUNK = 500  # SQLite caps the number of query parameters

# County bureaus (the hall's windows and the departments the center calls on) and their names.
COUNTY_UNITS = (
    (DepartmentKind.PUBLIC_SECURITY, "公安局"),
    (DepartmentKind.PROCURATORATE, "人民检察院"),
    (DepartmentKind.COURT, "人民法院"),
    (DepartmentKind.JUSTICE, "司法局"),
    (DepartmentKind.PETITION, "信访局"),
    (DepartmentKind.HRSS, "人力资源和社会保障局"),
    (DepartmentKind.HOUSING, "住房和城乡建设局"),
    (DepartmentKind.CIVIL_AFFAIRS, "民政局"),
    (DepartmentKind.MARKET, "市场监督管理局"),
    (DepartmentKind.NATURAL_RESOURCES, "自然资源局"),
    (DepartmentKind.HEALTH, "卫生健康局"),
    (DepartmentKind.TRANSPORT, "交通运输局"),
    (DepartmentKind.ENVIRONMENT, "生态环境局"),
    (DepartmentKind.EMERGENCY, "应急管理局"),
    (DepartmentKind.EDUCATION, "教育局"),
    (DepartmentKind.AGRICULTURE, "农业农村局"),
    (DepartmentKind.WOMEN, "妇女联合会"),
)


# --- The plan -------------------------------------------------------------------------------
@dataclass
class Worker:
    username: str
    full_name: str
    phone: str
    title: str


@dataclass
class Place:
    name: str
    kind: str
    code: str
    lat: float
    lng: float
    is_urban: bool = False
    households: int = 0
    population: int = 0
    children: list[Place] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)  # grid cells only

    @property
    def short(self) -> str:
        """The name without 街道/镇: 文昌街道 → 文昌 (as in 文昌派出所)."""
        return self.name.removesuffix("街道").removesuffix("镇")

    def walk(self) -> Iterator[Place]:
        yield self
        for child in self.children:
            yield from child.walk()

    def as_bulk(self) -> dict:
        """treebeard's load_bulk structure."""
        data = {
            "name": self.name,
            "kind": self.kind,
            "code": self.code,
            "is_urban": self.is_urban,
            "households": self.households,
            "population": self.population,
            "lat": round(self.lat, 6),
            "lng": round(self.lng, 6),
        }
        return {"data": data, "children": [c.as_bulk() for c in self.children]}


def grid_worker_username(grid_code: str, n: int) -> str:
    """Grid workers' logins name their cell, so later steps (grid teams) can find them."""
    return f"wg{grid_code}-{n}"


def _town_order() -> list[tuple[str, bool, str]]:
    """(short name, urban?, code) of every town in plan order: 街道 and 镇 interleaved, so the
    first two (town A, town B of the printed logins) are one 街道 and one 镇."""
    urban = [(n, True, f"{COUNTY_CODE}{i + 1:03d}") for i, n in enumerate(names.TOWNS_URBAN)]
    # 镇 codes start at 100 (the national convention: 001–099 街道, 100–199 镇).
    rural = [(n, False, f"{COUNTY_CODE}{i + 101:03d}") for i, n in enumerate(names.TOWNS_RURAL)]
    order: list[tuple[str, bool, str]] = []
    for i in range(max(len(urban), len(rural))):
        order += urban[i : i + 1] + rural[i : i + 1]
    return order


def _jitter(rng: random.Random, lat: float, lng: float, radius: float) -> tuple[float, float]:
    angle = rng.uniform(0, 2 * math.pi)
    r = radius * math.sqrt(rng.random())
    return lat + r * math.sin(angle), lng + r * math.cos(angle)


def county_plan(towns: int = TOWN_COUNT) -> Place:
    """The first `towns` towns of the demo county, always the same."""
    if not 1 <= towns <= TOWN_COUNT:
        raise ValueError(f"towns must be between 1 and {TOWN_COUNT}")
    county = Place(COUNTY_NAME, RegionKind.COUNTY, COUNTY_CODE, *CENTROID)
    taken: set[str] = set()
    for index, (short, urban, code) in enumerate(_town_order()[:towns]):
        # One generator per town, consumed in a fixed order: town i is the same whatever N is,
        # provided the earlier towns were generated first (they are: names are unique county-wide).
        rng = random.Random(f"{COUNTY_CODE}/{code}")  # noqa: S311 - demo data, not secrets
        angle = 2 * math.pi * index / TOWN_COUNT
        radius = rng.uniform(0.01, 0.05) if urban else rng.uniform(0.09, 0.28)
        town = Place(
            f"{short}街道" if urban else f"{short}镇",
            RegionKind.TOWN,
            code,
            CENTROID[0] + radius * math.sin(angle),
            CENTROID[1] + radius * math.cos(angle) * 1.15,
            is_urban=urban,
        )
        units = rng.randint(8, 16) if urban else rng.randint(11, 15)
        communities = round(units * rng.uniform(0.7, 0.9)) if urban else rng.randint(1, 2)
        for k in range(units):
            is_community = k < communities
            # Village codes: 001–199 居委会 (communities), 200–399 村委会 (villages).
            vcode = f"{code}{k + 1:03d}" if is_community else f"{code}{200 + k - communities + 1:03d}"
            vname = names.unique_name(
                rng, taken, names.community_name if is_community else names.village_name
            )
            village = Place(
                vname,
                RegionKind.VILLAGE,
                vcode,
                *_jitter(rng, town.lat, town.lng, 0.012 if urban else 0.04),
                is_urban=is_community,
            )
            for g in range(rng.randint(9, 14) if is_community else rng.randint(5, 8)):
                households = rng.randint(200, 300)
                gcode = f"{vcode}{g + 1:03d}"
                grid = Place(
                    f"第{g + 1}网格",
                    RegionKind.GRID,
                    gcode,
                    *_jitter(rng, village.lat, village.lng, 0.004),
                    is_urban=is_community,
                    households=households,
                    population=round(households * rng.uniform(2.6, 3.4)),
                )
                # 3+N: every cell has a full-time grid worker; most also a part-time one.
                grid.workers.append(
                    Worker(
                        grid_worker_username(gcode, 1),
                        names.person_name(rng),
                        names.mobile(rng),
                        "专职网格员",
                    )
                )
                if rng.random() < 0.85:
                    grid.workers.append(
                        Worker(
                            grid_worker_username(gcode, 2),
                            names.person_name(rng),
                            names.mobile(rng),
                            "兼职网格员",
                        )
                    )
                village.children.append(grid)
            town.children.append(village)
        county.children.append(town)
    return county


# --- Writing --------------------------------------------------------------------------------
def _chunks(values: list, size: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _history(model: type[Model], objs: Iterable[Model]) -> None:
    """One 'created' history row per seeded object, written in bulk (bulk_create sends no signals)."""
    model.history.bulk_history_create(list(objs), default_change_reason=HISTORY_REASON)


def ensure_places(ctx: SeedContext, plan: Place) -> Region:
    """Create the places of `plan` that are missing, subtree by subtree with treebeard's load_bulk."""
    root = Region.objects.filter(code=plan.code).first()
    new_ids: list[int] = []
    if root is None:
        new_ids += Region.objects.load_bulk([plan.as_bulk()], bulk_create=True)
        root = Region.objects.get(code=plan.code)
    else:
        existing = set(Region.objects.filter(path__startswith=root.path).values_list("code", flat=True))

        def missing(node: Place) -> Iterator[tuple[str, Place]]:
            for child in node.children:
                if child.code not in existing:
                    yield node.code, child
                else:
                    yield from missing(child)

        for parent_code, subtree in list(missing(plan)):
            # Fetched each time: a sorted insert may have shifted sibling paths.
            parent = Region.objects.get(code=parent_code)
            new_ids += Region.objects.load_bulk([subtree.as_bulk()], parent=parent, bulk_create=True)
    if new_ids:
        # The first node of each load_bulk call is saved one by one and already has its history row.
        has_history: set[int] = set()
        for ids in _chunks(new_ids):
            has_history |= set(Region.history.filter(id__in=ids).values_list("id", flat=True))
        need = [pk for pk in new_ids if pk not in has_history]
        for ids in _chunks(need):
            _history(Region, Region.objects.filter(pk__in=ids))
    ctx.note("辖区", len(new_ids))
    return root


def refresh_totals(county: Region) -> None:
    """Households and population of every village, town and the county: the sum of its grid cells."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    step = Region.steplen
    grids = Region.objects.filter(path__startswith=county.path, kind=RegionKind.GRID)
    for path, households, population in grids.values_list("path", "households", "population"):
        for end in range(step, len(path), step):
            totals[path[:end]][0] += households
            totals[path[:end]][1] += population
    changed = []
    for node in Region.objects.filter(path__startswith=county.path).exclude(kind=RegionKind.GRID):
        households, population = totals[node.path]
        if (node.households, node.population) != (households, population):
            node.households, node.population = households, population
            changed.append(node)
    Region.objects.bulk_update(changed, ["households", "population"], batch_size=_CHUNK)


def _phone(rng: random.Random) -> str:
    return f"{AREA_PHONE}-8{rng.randint(0, 9999999):07d}"


def ensure_centers(ctx: SeedContext, county: Region) -> None:
    rng = random.Random(f"{COUNTY_CODE}/centers")  # noqa: S311
    regions = Region.objects.filter(path__startswith=county.path, kind__in=CENTER_KINDS, center__isnull=True)
    new = []
    for region in regions.order_by("path"):
        address = (
            f"{region.name}村（居）委会"
            if region.kind == RegionKind.VILLAGE
            else f"{region.name}政务服务中心"
        )
        new.append(Center(region=region, name=center_name_for(region), phone=_phone(rng), address=address))
    created = Center.objects.bulk_create(new, batch_size=_CHUNK)
    _history(Center, created)
    ctx.note("综治中心", len(created))


def unit_plan(plan: Place) -> list[tuple[str, str, str]]:
    """(region code, kind, name) of every unit: the county bureaus, and per town a police
    station and a justice office, and a people's tribunal in every third town."""
    out = [(plan.code, kind, f"{plan.name}{suffix}") for kind, suffix in COUNTY_UNITS]
    for i, town in enumerate(plan.children):
        out.append((town.code, DepartmentKind.POLICE_STATION, f"{town.short}派出所"))
        out.append((town.code, DepartmentKind.JUSTICE_OFFICE, f"{town.short}司法所"))
        if i % 3 == 0:
            out.append((town.code, DepartmentKind.TRIBUNAL, f"{town.short}人民法庭"))
    return out


def ensure_units(ctx: SeedContext, county: Region, plan: Place) -> None:
    rng = random.Random(f"{COUNTY_CODE}/units")  # noqa: S311
    region_ids = dict(
        Region.objects.filter(path__startswith=county.path)
        .exclude(kind=RegionKind.GRID)
        .values_list("code", "pk")
    )
    existing = set(Unit.objects.filter(region__path__startswith=county.path).values_list("region_id", "name"))
    new = [
        Unit(region_id=region_ids[code], kind=kind, name=name, phone=_phone(rng))
        for code, kind, name in unit_plan(plan)
        if (region_ids[code], name) not in existing
    ]
    created = Unit.objects.bulk_create(new, batch_size=_CHUNK)
    _history(Unit, created)
    ctx.note("职能部门", len(created))


@dataclass(frozen=True)
class Post:
    role: str
    center: str | None = None  # region code of the center
    unit: str | None = None  # unit name (unique county-wide in the demo)
    title: str = ""


@dataclass(frozen=True)
class StaffSpec:
    username: str
    full_name: str
    phone: str
    posts: tuple[Post, ...]
    is_staff: bool = False
    is_superuser: bool = False
    is_api_client: bool = False
    printed: bool = True  # listed in the logins table


def grid_worker_specs(plan: Place) -> Iterator[StaffSpec]:
    for village in (v for t in plan.children for v in t.children):
        for grid in village.children:
            for w in grid.workers:
                post = Post(Role.GRID_WORKER, center=village.code, title=f"{grid.name}{w.title}")
                yield StaffSpec(w.username, w.full_name, w.phone, (post,), printed=False)


def role_user_specs(plan: Place) -> list[StaffSpec]:
    """The handful of users per role whose logins the command prints."""
    county = plan.code

    def spec(username: str, *posts: Post, **flags) -> StaffSpec:
        # Seeded by username: a user's name does not depend on which other users the plan has.
        rng = random.Random(f"{COUNTY_CODE}/staff/{username}")  # noqa: S311
        return StaffSpec(username, names.person_name(rng), names.mobile(rng), posts, **flags)

    specs = [
        spec("admin", Post(Role.SYSADMIN, county, title="系统管理员"), is_staff=True, is_superuser=True),
        spec(
            "county_leader",
            Post(Role.LEADERSHIP, county, title="县委政法委书记"),
            Post(Role.CENTER_LEADER, county, title="中心主任"),
        ),
        spec("county_dispatcher", Post(Role.DISPATCHER, county, title="指挥调度员")),
        spec("hall_supervisor", Post(Role.HALL_SUPERVISOR, county, title="接待大厅主管")),
        spec("clerk1", Post(Role.WINDOW_CLERK, county, title="信访窗口")),
        spec("clerk2", Post(Role.WINDOW_CLERK, county, title="人社窗口")),
        spec("clerk3", Post(Role.WINDOW_CLERK, county, title="法律服务窗口")),
        spec("mediator_county", Post(Role.MEDIATOR, county, title="县人民调解委员会调解员")),
        spec("mediator_labour", Post(Role.MEDIATOR, county, title="县劳动争议人民调解委员会调解员")),
        spec("court_liaison", Post(Role.UNIT_STAFF, unit=f"{plan.name}人民法院", title="诉调对接联络员")),
        spec("counsellor", Post(Role.COUNSELLOR, county, title="心理咨询室")),
        spec("hrss_staff", Post(Role.UNIT_STAFF, unit=f"{plan.name}人力资源和社会保障局", title="劳动监察")),
    ]
    for letter, town in zip("ab", plan.children[:2], strict=False):
        specs += [
            spec(f"town_{letter}_leader", Post(Role.CENTER_LEADER, town.code, title="中心主任")),
            spec(f"town_{letter}_dispatcher", Post(Role.DISPATCHER, town.code, title="值班调度员")),
        ]
    town_a = plan.children[0]
    specs += [
        spec("mediator_a", Post(Role.MEDIATOR, town_a.code, title=f"{town_a.name}人民调解委员会调解员")),
        spec(
            "mediator_village_a",
            Post(Role.MEDIATOR, town_a.children[0].code, title=f"{town_a.children[0].name}人民调解委员会调解员"),
        ),
        spec("police_a", Post(Role.UNIT_STAFF, unit=f"{town_a.short}派出所", title="社区民警")),
        spec("village_a_staff", Post(Role.DISPATCHER, town_a.children[0].code, title="综治专干")),
        spec("api_town_a", Post(Role.API_CLIENT, town_a.code, title="乡镇系统接口"), is_api_client=True),
    ]
    return specs


def ensure_staff(ctx: SeedContext, county: Region, specs: list[StaffSpec]) -> None:
    """Users, their posts and their role groups; existing users (and their passwords) are kept."""
    usernames = [s.username for s in specs]
    user_ids: dict[str, int] = {}
    for chunk in _chunks(usernames):
        user_ids.update(User.objects.filter(username__in=chunk).values_list("username", "pk"))
    new_users = [
        User(
            username=s.username,
            full_name=s.full_name,
            phone=s.phone,
            password=ctx.password_hash,
            is_staff=s.is_staff,
            is_superuser=s.is_superuser,
            is_api_client=s.is_api_client,
        )
        for s in specs
        if s.username not in user_ids
    ]
    for user in User.objects.bulk_create(new_users, batch_size=_CHUNK):
        user_ids[user.username] = user.pk
    ctx.note("用户", len(new_users))

    centers = dict(
        Center.objects.filter(region__path__startswith=county.path).values_list("region__code", "pk")
    )
    units = dict(Unit.objects.filter(region__path__startswith=county.path).values_list("name", "pk"))
    held: set[tuple[int, int | None, int | None, str]] = set()
    for chunk in _chunks(list(user_ids.values())):
        held |= set(
            Membership.objects.filter(user_id__in=chunk).values_list(
                "user_id", "center_id", "unit_id", "role"
            )
        )
    new_posts = []
    groups: dict[str, Group] = {}
    links = []
    for s in specs:
        uid = user_ids[s.username]
        for post in s.posts:
            key = (uid, centers.get(post.center), units.get(post.unit), post.role)
            if key not in held:
                held.add(key)
                new_posts.append(
                    Membership(
                        user_id=uid, center_id=key[1], unit_id=key[2], role=post.role, title=post.title
                    )
                )
            group = groups.get(post.role) or groups.setdefault(post.role, role_group(post.role))
            links.append(User.groups.through(user_id=uid, group_id=group.pk))
    created = Membership.objects.bulk_create(new_posts, batch_size=_CHUNK)
    _history(Membership, created)
    User.groups.through.objects.bulk_create(links, batch_size=_CHUNK, ignore_conflicts=True)
    ctx.note("岗位", len(created))


def _logins(specs: list[StaffSpec], plan: Place) -> list[Login]:
    places = {p.code: p for p in plan.walk() if p.kind != RegionKind.GRID}
    out = []
    for s in specs:
        for post in s.posts:
            # A Place has the name and kind center_name_for reads.
            where = center_name_for(places[post.center]) if post.center else post.unit or ""
            out.append(Login(s.username, Role(post.role).label, where, s.full_name))
    return out


def seed(ctx: SeedContext) -> None:
    """The step `seed_demo` runs first: the county, its centers, units and staff."""
    plan = county_plan(ctx.towns)
    county = ensure_places(ctx, plan)
    ensure_centers(ctx, county)
    ensure_units(ctx, county, plan)
    refresh_totals(county)
    role_users = role_user_specs(plan)
    workers = list(grid_worker_specs(plan))
    ensure_staff(ctx, county, role_users + workers)
    ctx.county = county
    ctx.logins += _logins(role_users, plan)
    # One grid worker as an example: the other ~3,500 share the password and the name pattern.
    ctx.logins += _logins(workers[:1], plan)
