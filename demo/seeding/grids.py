"""Grid work in the demo county: every cell's 3+N team and card, two weeks of household visits,
grid reports (disputes and hazards at every step of their lifecycle) and this period's sweeps.

Teams, cards and visits are bulk inserts keyed on the grid (a grid that has them is skipped);
reports and sweep reports go through grids.services like a real worker's, and only in the first
village of the first two towns (the village whose station the printed login `village_a_staff`
staffs), so a demo user finds them at once. Running the step twice creates nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.bulk import history_snapshot
from cases.models import Case, Channel
from centers.models import Region, RegionKind, Unit, User
from grids import services
from grids.models import (
    GridProfile,
    GridTeamMember,
    HazardType,
    HouseholdVisit,
    Rhythm,
    Severity,
    Sweep,
    TeamRole,
    VisitFinding,
)

from . import names
from .centers import COUNTY_CODE, HISTORY_REASON, grid_worker_username
from .context import SeedContext

_CHUNK = 500
VISIT_DAYS = 14
# Share of cells nobody visited for over a week (so the town's no-visit warning has something to show).
IDLE_SHARE = 0.08


def _chunks(values: list, size: int = _CHUNK):
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _history(model, objs: list) -> None:
    """'Created' history rows for bulk-inserted demo rows (one INSERT … SELECT per chunk on PostgreSQL)."""
    now = timezone.now()
    for chunk in _chunks(objs, 5000):
        history_snapshot(model, chunk, reason=HISTORY_REASON, date=now, history_type="+")


def _grids(county: Region) -> list[Region]:
    return list(
        Region.objects.filter(path__startswith=county.path, kind=RegionKind.GRID)
        .only("pk", "path", "code", "name", "households", "population")
        .order_by("path")
    )


def ensure_teams(ctx: SeedContext, grids: list[Region]) -> None:
    """3+N per cell: a town instructor, the cell's grid workers (their logins), a party group leader and 1–3 collectors."""
    staffed = set(GridTeamMember.objects.filter(grid__in=grids).values_list("grid_id", flat=True).distinct())
    todo = [g for g in grids if g.pk not in staffed]
    if not todo:
        return
    usernames = [grid_worker_username(g.code, n) for g in todo for n in (1, 2)]
    users: dict[str, User] = {}
    for chunk in _chunks(usernames):
        users.update(
            {
                u.username: u
                for u in User.objects.filter(username__in=chunk).only("pk", "username", "full_name", "phone")
            }
        )
    since = timezone.localdate() - dt.timedelta(days=400)
    rows: list[GridTeamMember] = []
    instructors: dict[str, tuple[str, str]] = {}
    for g in todo:
        rng = random.Random(f"{COUNTY_CODE}/team/{g.code}")  # noqa: S311 - demo data
        village_path = g.path[: -Region.steplen]
        # One town cadre instructs all the cells of a village.
        if village_path not in instructors:
            irng = random.Random(f"{COUNTY_CODE}/instructor/{village_path}")  # noqa: S311
            instructors[village_path] = (names.person_name(irng), names.mobile(irng))
        name, phone = instructors[village_path]
        posts: list[tuple[str, str, str, str, User | None]] = [
            (TeamRole.INSTRUCTOR, name, phone, "乡镇包村干部", None)
        ]
        for n, title in ((1, "专职网格员"), (2, "兼职网格员")):
            user = users.get(grid_worker_username(g.code, n))
            if user is not None:
                posts.append((TeamRole.GRID_WORKER, user.full_name, user.phone, title, user))
        posts.append((TeamRole.PARTY_LEADER, names.person_name(rng), names.mobile(rng), "党小组长", None))
        for _ in range(rng.randint(1, 3)):
            title = rng.choice(("楼栋长", "组长", "志愿者"))
            posts.append((TeamRole.INFO_COLLECTOR, names.person_name(rng), names.mobile(rng), title, None))
        rows += [
            GridTeamMember(
                grid_id=g.pk,
                grid_path=g.path,
                role=role,
                user_id=user.pk if user else None,
                name=name,
                phone=phone,
                title=title,
                since=since,
            )
            for role, name, phone, title, user in posts
        ]
    created = GridTeamMember.objects.bulk_create(rows, batch_size=_CHUNK)
    _history(GridTeamMember, created)
    ctx.note("网格团队成员", len(created))


def ensure_profiles(ctx: SeedContext, grids: list[Region]) -> None:
    have = set(GridProfile.objects.filter(grid__in=grids).values_list("grid_id", flat=True))
    rows = []
    for g in grids:
        if g.pk in have:
            continue
        rng = random.Random(f"{COUNTY_CODE}/profile/{g.code}")  # noqa: S311
        rows.append(
            GridProfile(
                grid_id=g.pk,
                houses=round(g.households * rng.uniform(0.8, 1.05)),
                floating_population=round(g.population * rng.uniform(0.03, 0.15)),
                boundary=f"东至{rng.choice('一二三四五')}组，西至{rng.choice('东西南北')}干渠，南至村道，北至{rng.choice(('山脚', '河堤', '主街'))}",
                service_phone=names.mobile(rng),
            )
        )
    created = GridProfile.objects.bulk_create(rows, batch_size=_CHUNK)
    _history(GridProfile, created)
    ctx.note("网格概况", len(created))


HOUSEHOLD_STREETS = ("幸福路", "建设路", "人民路", "新村组", "老屋组", "塘边组", "学堂路", "枫树湾")
VISIT_NOTES = {
    VisitFinding.NORMAL: ("家中老人身体尚好，宣传防诈骗知识", "了解家庭近况，无异常", "宣传医保缴费政策"),
    VisitFinding.NEEDS: ("独居老人希望安装扶手", "反映路灯不亮，已转村委会", "咨询低保申请条件"),
    VisitFinding.OTHER: ("出租房新入住租户，已登记", "外出务工，家中无人，留联系卡"),
}


def ensure_visits(ctx: SeedContext, grids: list[Region]) -> None:
    """Two weeks of 入户走访 by each cell's workers; a few cells none for over a week."""
    visited = set(HouseholdVisit.objects.filter(grid__in=grids).values_list("grid_id", flat=True).distinct())
    todo = [g for g in grids if g.pk not in visited]
    if not todo:
        return
    workers: dict[int, list[int]] = {}
    for grid_id, user_id in GridTeamMember.objects.filter(
        grid__in=todo, role=TeamRole.GRID_WORKER, is_active=True
    ).values_list("grid_id", "user_id"):
        workers.setdefault(grid_id, []).append(user_id)
    now = timezone.now()
    rows = []
    for g in todo:
        if g.pk not in workers:
            continue
        rng = random.Random(f"{COUNTY_CODE}/visits/{g.code}")  # noqa: S311
        idle = rng.random() < IDLE_SHARE
        first_day = 8 if idle else 0  # an idle cell's last visit is 8+ days ago
        for _ in range(rng.randint(2, 8)):
            day = rng.randint(first_day, VISIT_DAYS + first_day)
            when = now - dt.timedelta(days=day, hours=rng.randint(0, 9), minutes=rng.randint(0, 59))
            finding = rng.choices(
                (VisitFinding.NORMAL, VisitFinding.NEEDS, VisitFinding.OTHER), weights=(80, 12, 8)
            )[0]
            rows.append(
                HouseholdVisit(
                    grid_id=g.pk,
                    grid_path=g.path,
                    worker_id=rng.choice(workers[g.pk]),
                    visited_at=when,
                    household=names.person_name(rng),
                    address=f"{rng.choice(HOUSEHOLD_STREETS)}{rng.randint(1, 120)}号",
                    finding=finding,
                    notes=rng.choice(VISIT_NOTES[finding]),
                )
            )
    created = HouseholdVisit.objects.bulk_create(rows, batch_size=_CHUNK)
    _history(HouseholdVisit, created)
    ctx.note("入户走访", len(created))


def _png(name: str) -> SimpleUploadedFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 90)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


DISPUTES = (
    ("neighbour", "邻居楼上卫生间漏水纠纷", "楼上卫生间防水层损坏，楼下天花板渗水三个月，协商未果", 2, ""),
    (
        "property",
        "小区电梯长期停运，业主与物业争执",
        "3栋电梯停运一个月，物业称维修基金未到位",
        40,
        "业主拟集体到县里反映",
    ),
    ("labour", "装修工人讨要工钱", "包工头拖欠6名工人工资约3.6万元", 6, ""),
    ("family", "赡养老人纠纷", "兄弟三人对母亲赡养费分担有争议", 4, ""),
)
HAZARDS = (
    (HazardType.FIRE, Severity.GENERAL, "3栋楼道", "楼道堆放杂物，电动车入户充电"),
    (HazardType.GAS, Severity.SERIOUS, "临街餐馆后厨", "液化气瓶与明火距离不足，软管老化"),
    (HazardType.BUILDING, Severity.MAJOR, "老街17号", "砖木结构老屋外墙开裂，仍有人居住"),
    (HazardType.ELECTRICITY, Severity.GENERAL, "村口小卖部", "私拉乱接电线，插座过载"),
)


def _worker(grid: Region, n: int = 1) -> User | None:
    return User.objects.filter(username=grid_worker_username(grid.code, n)).first()


def ensure_reports(ctx: SeedContext, county: Region) -> None:
    """Disputes and hazards reported from the first village of town A and town B, at every step."""
    if Case.objects.filter(channel=Channel.GRID, region_path__startswith=county.path).exists():
        return
    towns = list(
        Region.objects.filter(path__startswith=county.path, kind=RegionKind.TOWN).order_by("path")[:2]
    )
    made = 0
    for t_index, town in enumerate(towns):
        village = (
            Region.objects.filter(path__startswith=town.path, kind=RegionKind.VILLAGE)
            .order_by("path")
            .first()
        )
        grids = list(
            Region.objects.filter(path__startswith=village.path, kind=RegionKind.GRID).order_by("path")
        )
        station_staff = (
            User.objects.filter(
                memberships__center__region=village,
                memberships__role="dispatcher",
                memberships__is_active=True,
            ).first()
            or User.objects.filter(
                memberships__center__region=town, memberships__role="dispatcher", memberships__is_active=True
            ).first()
        )
        police = Unit.objects.filter(region=town, kind="police_station").first()
        police_staff = (
            User.objects.filter(memberships__unit=police, memberships__is_active=True).first()
            if police
            else None
        )
        disputes = DISPUTES if t_index == 0 else DISPUTES[:2]
        for i, (category, title, description, people, risk) in enumerate(disputes):
            grid = grids[i % len(grids)]
            worker = _worker(grid)
            if worker is None:
                continue
            services.dispute_report(
                by=worker,
                grid=grid,
                category=category,
                title=title,
                description=description,
                people_count=people,
                risk_note=risk,
                party_name=names.person_name(random.Random(f"{COUNTY_CODE}/party/{grid.code}/{i}")),  # noqa: S311
            )
            made += 1
        hazards = HAZARDS if t_index == 0 else HAZARDS[:1]
        for i, (kind, severity, place, description) in enumerate(hazards):
            grid = grids[(i + 1) % len(grids)]
            worker = _worker(grid)
            if worker is None:
                continue
            hazard = services.hazard_report(
                by=worker,
                grid=grid,
                hazard_type=kind,
                severity=severity,
                place=place,
                description=description,
            )
            made += 1
            # Town A's hazards show every step: pending, rectifying, waiting for verification, closed.
            if t_index != 0 or i == 1 or station_staff is None or police is None:
                continue
            hazard = services.hazard_assign(
                hazard=hazard, by=station_staff, unit=police, requirement="限期整改，整改后上传照片佐证"
            )
            if i in (2, 3) and police_staff is not None:
                hazard = services.hazard_rectify(
                    hazard=hazard, by=police_staff, rectification="已督促整改到位", evidence=_png("after.png")
                )
                if i == 3:
                    services.hazard_verify(hazard=hazard, by=worker, comment="现场核查，整改到位")
    ctx.note("网格上报事项", made)


def ensure_sweeps(ctx: SeedContext, county: Region) -> None:
    """This period's county and town sweeps (as the beat would create them) and a few filed reports in town A."""
    today = timezone.localdate()
    before = Sweep.objects.filter(region__path__startswith=county.path).count()
    services.sweeps_create_periodic(today=today)
    ctx.note("排查任务", Sweep.objects.filter(region__path__startswith=county.path).count() - before)
    town = Region.objects.filter(path__startswith=county.path, kind=RegionKind.TOWN).order_by("path").first()
    sweep = Sweep.objects.filter(region=town, rhythm=Rhythm.HALF_MONTHLY).order_by("-period_start").first()
    if sweep is None or sweep.tasks.filter(completed_at__isnull=False).exists():
        return
    village = (
        Region.objects.filter(path__startswith=town.path, kind=RegionKind.VILLAGE).order_by("path").first()
    )
    filed = 0
    for task in sweep.tasks.filter(grid_path__startswith=village.path).select_related("grid", "sweep")[:6]:
        worker = _worker(task.grid)
        if worker is None:
            continue
        rng = random.Random(f"{COUNTY_CODE}/sweep/{task.grid.code}")  # noqa: S311
        services.sweep_task_complete(
            task=task,
            by=worker,
            households_checked=rng.randint(40, task.grid.households),
            other_findings=rng.randint(0, 2),
            summary="逐户排查矛盾纠纷和安全隐患，重点检查出租房、沿街门店和独居老人",
        )
        filed += 1
    ctx.note("排查填报", filed)


def seed(ctx: SeedContext) -> None:
    """The grids step of seed_demo (after the centers step, which sets ctx.county)."""
    county = ctx.county
    if county is None:
        return
    grids = _grids(county)
    ensure_teams(ctx, grids)
    ensure_profiles(ctx, grids)
    ensure_visits(ctx, grids)
    ensure_reports(ctx, county)
    ensure_sweeps(ctx, county)
