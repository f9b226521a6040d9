"""Writes of grid work: one function per write, keyword-only, in one transaction.

Disputes and hazards become cases through `cases.services` (case_register, case_transition); this
module never sets a case's status itself.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Length, Substr
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from cases.bulk import history_snapshot
from cases.clocks import LOCAL
from cases.models import (
    AssignmentRole,
    Attachment,
    Case,
    CaseAssignment,
    CaseKind,
    Category,
    Channel,
    PartyRole,
)
from cases.services import (
    NotAllowed,
    case_register,
    case_transition,
    center_staff,
    notification_rows,
    notifications_insert,
    notify,
    person_upsert,
)
from centers.models import Center, Membership, Region, RegionKind, Role, Unit, User
from centers.selectors import ancestor_paths
from centers.services import DomainError, membership_create, membership_end

from . import lifecycle, uploads
from .models import (
    SINGLE_POSTS,
    GridProfile,
    GridTeamMember,
    Hazard,
    HazardType,
    HouseholdVisit,
    Rhythm,
    Severity,
    Sweep,
    SweepTask,
    TeamRole,
    VisitFinding,
)

logger = logging.getLogger(__name__)

# Staff of a center above a grid (its village station, town or county) who manage grid work.
MANAGER_ROLES = (Role.DISPATCHER, Role.CENTER_LEADER)
# How far back a visit may be entered after the fact (a worker without signal enters it later).
VISIT_BACKFILL_DAYS = 7


# ============================================================================================
# Who may act
# ============================================================================================


def manages_region(user: User, region: Region) -> bool:
    """A dispatcher or leader of the center of `region` or of a center above it."""
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user,
        is_active=True,
        role__in=MANAGER_ROLES,
        center__region__path__in=ancestor_paths(region.path),
    ).exists()


def serves_grid(user: User, grid: Region) -> bool:
    """An active member of the grid's team with a login (its grid worker, instructor …)."""
    return GridTeamMember.objects.filter(grid=grid, user=user, is_active=True).exists()


def _require_grid(grid: Region) -> None:
    if grid.kind != RegionKind.GRID:
        raise DomainError("请选择一个网格。")


def _require_serves(user: User, grid: Region, what: str) -> None:
    _require_grid(grid)
    if not serves_grid(user, grid):
        raise NotAllowed(f"您不是「{grid.name}」的网格团队成员，不能{what}。")


def _require_manages(user: User, region: Region, what: str) -> None:
    if not manages_region(user, region):
        raise NotAllowed(f"您无权{what}。")


def _attach(case: Case, upload: Any, by: User, label: str, *, allow_pdf: bool = False) -> Attachment:
    """A checked upload stored as the case's attachment (shown on the case page too)."""
    stored_name, content_type = uploads.checked(upload, allow_pdf=allow_pdf)
    attachment = Attachment(
        case=case,
        name=f"{label}.{stored_name.rsplit('.', 1)[-1]}",
        content_type=content_type,
        size=upload.size,
        uploaded_by=by,
    )
    attachment.file.save(stored_name, upload, save=False)
    attachment.save()
    return attachment


# ============================================================================================
# Teams and the grid's card
# ============================================================================================


@transaction.atomic
def grid_team_member_add(
    *,
    grid: Region,
    by: User,
    role: str,
    user: User | None = None,
    name: str = "",
    phone: str = "",
    title: str = "",
    since: dt.date | None = None,
) -> GridTeamMember:
    """Put someone in a grid's 3+N team. A grid worker needs a login and gets a post at the village station."""
    _require_grid(grid)
    _require_manages(by, grid, "调整该网格的团队")
    if role not in TeamRole.values:
        raise DomainError("请选择岗位。")
    if role == TeamRole.GRID_WORKER and user is None:
        raise DomainError("网格员须选择登录账号。")
    name = (name or (user.display_name if user else "")).strip()
    phone = (phone or (user.phone if user else "")).strip()
    if not name:
        raise DomainError("请填写姓名。")
    if role in SINGLE_POSTS and GridTeamMember.objects.filter(grid=grid, role=role, is_active=True).exists():
        raise DomainError(f"该网格已有{TeamRole(role).label}，请先让原人员离岗。")
    if (
        user is not None
        and GridTeamMember.objects.filter(grid=grid, user=user, role=role, is_active=True).exists()
    ):
        raise DomainError(f"{name} 已是该网格的{TeamRole(role).label}。")
    member = GridTeamMember.objects.create(
        grid=grid,
        grid_path=grid.path,
        role=role,
        user=user,
        name=name[:50],
        phone=phone[:30],
        title=title[:50],
        since=since or timezone.localdate(),
    )
    if role == TeamRole.GRID_WORKER:
        # The worker reads what is found in the grid through the village station's jurisdiction.
        station = _station_of(grid)
        if station is not None:
            membership_create(user=user, role=Role.GRID_WORKER, center=station, title=f"{grid.name}网格员")
    return member


def _station_of(grid: Region) -> Center | None:
    return (
        Center.objects.filter(region__path__in=ancestor_paths(grid.path), region__kind=RegionKind.VILLAGE)
        .select_related("region")
        .first()
    )


@transaction.atomic
def grid_team_member_end(*, member: GridTeamMember, by: User) -> GridTeamMember:
    """Off the team. A grid worker who works no other grid of the village also loses the post at
    the village station that `grid_team_member_add` gave, and with it the station's jurisdiction."""
    _require_manages(by, member.grid, "调整该网格的团队")
    member = GridTeamMember.objects.select_for_update().get(pk=member.pk)
    if not member.is_active:
        raise DomainError("该人员已离岗。")
    member.is_active = False
    member.save(update_fields=["is_active"])
    if member.role == TeamRole.GRID_WORKER and member.user_id is not None:
        station = _station_of(member.grid)
        still_there = GridTeamMember.objects.filter(
            user_id=member.user_id, role=TeamRole.GRID_WORKER, is_active=True,
            grid_path__startswith=station.region.path if station else member.grid_path,
        ).exists()
        if station is not None and not still_there:
            for post in Membership.objects.filter(
                user_id=member.user_id, role=Role.GRID_WORKER, center=station, is_active=True
            ):
                membership_end(membership=post)
    return member


@transaction.atomic
def grid_profile_update(
    *,
    grid: Region,
    by: User,
    households: int,
    population: int,
    houses: int,
    floating_population: int = 0,
    boundary: str = "",
    service_phone: str = "",
    note: str = "",
) -> GridProfile:
    """The grid's contact card and counts (实有人口、实有户数、实有房屋).

    The grid's households and population live on its Region, whose village, town and county
    totals are sums of their cells; they move by the same difference here.
    """
    _require_grid(grid)
    _require_manages(by, grid, "修改该网格的概况")
    if min(households, population, houses, floating_population) < 0:
        raise DomainError("人口、户数和房屋数不能为负数。")
    if floating_population > population:
        raise DomainError("流动人口不能多于实有人口。")
    locked = Region.objects.select_for_update().get(pk=grid.pk)
    d_households, d_population = households - locked.households, population - locked.population
    if d_households or d_population:
        Region.objects.filter(pk=grid.pk).update(households=households, population=population)
        Region.objects.filter(path__in=ancestor_paths(grid.path, include_self=False)).update(
            households=F("households") + d_households, population=F("population") + d_population
        )
        grid.households, grid.population = households, population
    profile, _ = GridProfile.objects.get_or_create(grid=grid)
    profile.houses = houses
    profile.floating_population = floating_population
    profile.boundary = boundary.strip()[:200]
    profile.service_phone = service_phone.strip()[:30]
    profile.note = note.strip()[:200]
    profile.save()
    return profile


# ============================================================================================
# Household visits
# ============================================================================================


@transaction.atomic
def visit_log(
    *,
    by: User,
    grid: Region,
    household: str,
    address: str,
    finding: str = VisitFinding.NORMAL,
    notes: str = "",
    visited_at: dt.datetime | None = None,
    photo: Any = None,
) -> HouseholdVisit:
    """入户走访: one household visited by a member of the grid's team."""
    _require_serves(by, grid, "在该网格记录走访")
    household, address, notes = household.strip(), address.strip(), (notes or "").strip()
    if not household:
        raise DomainError("请填写户主或住户姓名。")
    if not address:
        raise DomainError("请填写门牌地址。")
    if finding not in VisitFinding.values:
        raise DomainError("请选择走访结果。")
    if finding != VisitFinding.NORMAL and not notes:
        raise DomainError("发现问题的，请填写走访情况。")
    now = timezone.now()
    visited_at = visited_at or now
    if visited_at > now + dt.timedelta(minutes=5):
        raise DomainError("走访时间不能晚于现在。")
    if visited_at < now - dt.timedelta(days=VISIT_BACKFILL_DAYS):
        raise DomainError(f"只能补录 {VISIT_BACKFILL_DAYS} 天内的走访。")
    visit = HouseholdVisit(
        grid=grid,
        grid_path=grid.path,
        worker=by,
        visited_at=visited_at,
        household=household[:50],
        address=address[:200],
        finding=finding,
        notes=notes,
    )
    if photo:
        stored_name, _ = uploads.checked(photo)
        visit.photo.save(stored_name, photo, save=False)
    visit.save()
    return visit


def _link_visit(visit: HouseholdVisit | None, case: Case, by: User) -> None:
    if visit is None:
        return
    if visit.worker_id != by.pk or visit.grid_id != case.region_id:
        raise DomainError("只能关联本人在该网格的走访记录。")
    HouseholdVisit.objects.filter(pk=visit.pk).update(case=case)


# ============================================================================================
# Disputes reported from the grid
# ============================================================================================


@transaction.atomic
def dispute_report(
    *,
    by: User,
    grid: Region,
    category: str,
    title: str,
    description: str = "",
    address: str = "",
    people_count: int = 1,
    amount: Decimal | None = None,
    risk_note: str = "",
    party_name: str = "",
    party_phone: str = "",
    photo: Any = None,
    visit: HouseholdVisit | None = None,
) -> Case:
    """A dispute found in the grid: a case at the village station (channel 网格上报), grid and reporter filled in."""
    _require_serves(by, grid, "在该网格上报纠纷")
    if category not in Category.values or category == Category.SAFETY:
        raise DomainError("请选择纠纷类别。")
    parties = []
    if party_name.strip():
        person = person_upsert(name=party_name, phone=party_phone, region=grid)
        parties.append((person, PartyRole.APPLICANT))
    case = case_register(
        by=by,
        kind=CaseKind.DISPUTE,
        channel=Channel.GRID,
        category=category,
        title=title,
        description=description,
        region=grid,
        address=address,
        people_count=people_count,
        amount=amount,
        risk_note=risk_note.strip()[:200],
        parties=parties,
    )
    if photo:
        _attach(case, photo, by, "现场照片")
    _link_visit(visit, case, by)
    return case


# ============================================================================================
# Hazards
# ============================================================================================


@transaction.atomic
def hazard_report(
    *,
    by: User,
    grid: Region,
    hazard_type: str,
    severity: str,
    place: str,
    description: str = "",
    photo: Any = None,
    visit: HouseholdVisit | None = None,
) -> Hazard:
    """安全隐患 found in the grid: a hazard case at the village station, its clock set by severity.

    The reporter becomes the case's 协办人 (an assignee), which is what lets them verify the
    rectification later and keeps the hazard in their own queue.
    """
    _require_serves(by, grid, "在该网格上报隐患")
    if hazard_type not in HazardType.values:
        raise DomainError("请选择隐患类型。")
    if severity not in Severity.values:
        raise DomainError("请选择严重程度。")
    place = place.strip()
    if not place:
        raise DomainError("请填写隐患位置。")
    label = HazardType(hazard_type).label
    case = case_register(
        by=by,
        kind=CaseKind.HAZARD,
        channel=Channel.GRID,
        category=Category.SAFETY,
        title=f"{label}隐患：{place}"[:200],
        description=description,
        region=grid,
        address=place[:200],
        phase=lifecycle.phase_for(severity),
        risk_note="重大安全隐患" if severity == Severity.SERIOUS else "",
    )
    CaseAssignment.objects.create(case=case, user=by, role=AssignmentRole.ASSISTANT, assigned_by=by)
    assign_perm("cases.view_case", by, case)
    hazard = Hazard.objects.create(case=case, hazard_type=hazard_type, severity=severity)
    if photo:
        hazard.photo = _attach(case, photo, by, "隐患照片")
        hazard.save(update_fields=["photo"])
    _link_visit(visit, case, by)
    return hazard


def _reporters(case: Case) -> list[User]:
    return [
        a.user
        for a in CaseAssignment.objects.filter(
            case=case, role=AssignmentRole.ASSISTANT, is_active=True
        ).select_related("user")
    ]


@transaction.atomic
def hazard_assign(
    *, hazard: Hazard, by: User, unit: Unit, requirement: str, expected_version: int | None = None
) -> Hazard:
    """Hand the hazard to a responsible unit (交办整改); the unit owns the rectification and its clock."""
    requirement = (requirement or "").strip()
    if not requirement:
        raise DomainError("请填写整改要求。")
    if not unit.is_active:
        raise DomainError("该部门已停用。")
    if not hazard.case.region_path.startswith(unit.region.path):
        raise DomainError("只能交办给本辖区的职能部门。")

    def mutate(case: Case, ctx: Any) -> dict:
        case.owning_unit = unit
        return {"summary": f"交办 {unit.name} 整改"}

    case = case_transition(
        case=hazard.case_id,
        action=lifecycle.HAZARD_ASSIGN.action,
        by=by,
        expected_version=expected_version,
        comment=requirement,
        mutate=mutate,
        data={"unit": unit.pk},
    )
    Hazard.objects.filter(pk=hazard.pk).update(responsible_unit=unit, requirement=requirement)
    staff = User.objects.filter(
        memberships__unit=unit, memberships__is_active=True, is_active=True
    ).distinct()
    notify(
        users=staff,
        case=case,
        kind="hazard_assigned",
        title=f"隐患整改任务：{case.tracking_no}",
        body=f"{case.title}。整改要求：{requirement}",
        dedupe_key=f"hazard_assigned:{case.pk}:{case.version}",
        url=reverse("grids:hazard", args=[hazard.pk]),
        sms=True,
    )
    hazard.refresh_from_db()
    return hazard


@transaction.atomic
def hazard_rectify(
    *, hazard: Hazard, by: User, rectification: str, evidence: Any, expected_version: int | None = None
) -> Hazard:
    """The unit (or the station) records the rectification with evidence; the grid worker verifies next."""
    rectification = (rectification or "").strip()
    if not rectification:
        raise DomainError("请填写整改情况。")
    if not evidence:
        raise DomainError("请上传整改佐证（照片或 PDF）。")
    problem = uploads.evidence_problem(evidence)
    if problem:
        raise DomainError(problem)

    def mutate(case: Case, ctx: Any) -> dict:
        case.resolved_at = ctx.now
        case.result = rectification
        return {"summary": "整改完成，待网格员核查销号"}

    case = case_transition(
        case=hazard.case_id,
        action=lifecycle.HAZARD_RECTIFY.action,
        by=by,
        expected_version=expected_version,
        comment=rectification,
        mutate=mutate,
    )
    attachment = _attach(case, evidence, by, "整改佐证", allow_pdf=True)
    Hazard.objects.filter(pk=hazard.pk).update(
        rectification=rectification, evidence=attachment, rectified_at=case.updated_at, rectified_by=by
    )
    notify(
        users=_reporters(case),
        case=case,
        kind="hazard_rectified",
        title=f"隐患已整改，请核查：{case.tracking_no}",
        body=case.title,
        dedupe_key=f"hazard_rectified:{case.pk}:{case.version}",
        url=reverse("grids:hazard", args=[hazard.pk]),
        sms=True,
    )
    hazard.refresh_from_db()
    return hazard


@transaction.atomic
def hazard_verify(
    *, hazard: Hazard, by: User, comment: str = "", expected_version: int | None = None
) -> Hazard:
    """The grid worker checks the rectification on the spot and closes the hazard (销号)."""
    if hazard.rectified_by_id == by.pk:
        raise NotAllowed("登记整改的人不能核查自己登记的整改。")

    def mutate(case: Case, ctx: Any) -> dict:
        case.closed_at = ctx.now
        case.closed_on_time = case.overdue_count == 0 and (case.due_at is None or ctx.now <= case.due_at)
        return {"summary": "网格员现场核查通过，隐患销号"}

    case = case_transition(
        case=hazard.case_id,
        action=lifecycle.HAZARD_VERIFY.action,
        by=by,
        expected_version=expected_version,
        comment=comment,
        mutate=mutate,
    )
    Hazard.objects.filter(pk=hazard.pk).update(verified_at=case.closed_at, verified_by=by)
    hazard.refresh_from_db()
    return hazard


@transaction.atomic
def hazard_reject(*, hazard: Hazard, by: User, comment: str, expected_version: int | None = None) -> Hazard:
    """Verification failed: back to the unit for rectification, with a new clock."""
    if hazard.rectified_by_id == by.pk:
        raise NotAllowed("登记整改的人不能核查自己登记的整改。")
    n = hazard.rejections + 1

    def mutate(case: Case, ctx: Any) -> dict:
        case.resolved_at = None
        case.result = ""
        unit = case.owning_unit.name if case.owning_unit_id else "责任单位"
        return {"summary": f"核查未通过（第 {n} 次），退回 {unit} 重新整改"}

    case = case_transition(
        case=hazard.case_id,
        action=lifecycle.HAZARD_REJECT.action,
        by=by,
        expected_version=expected_version,
        comment=comment,
        mutate=mutate,
    )
    Hazard.objects.filter(pk=hazard.pk).update(rejections=F("rejections") + 1, rectified_at=None)
    if case.owning_unit_id:
        staff = User.objects.filter(
            memberships__unit_id=case.owning_unit_id, memberships__is_active=True, is_active=True
        ).distinct()
        notify(
            users=staff,
            case=case,
            kind="hazard_rejected",
            title=f"隐患整改核查未通过：{case.tracking_no}",
            body=f"{case.title}。{comment}",
            dedupe_key=f"hazard_rejected:{case.pk}:{case.version}",
            url=reverse("grids:hazard", args=[hazard.pk]),
            sms=True,
        )
    hazard.refresh_from_db()
    return hazard


# ============================================================================================
# Patrol sweeps (排查)
# ============================================================================================


RHYTHM_KIND = {Rhythm.MONTHLY: RegionKind.COUNTY, Rhythm.HALF_MONTHLY: RegionKind.TOWN}
SWEEP_KINDS = (RegionKind.COUNTY, RegionKind.TOWN, RegionKind.VILLAGE)


def _grid_workers_of(region: Region) -> list[User]:
    return list(
        User.objects.filter(
            grid_posts__grid_path__startswith=region.path, grid_posts__is_active=True, is_active=True
        ).distinct()
    )


@transaction.atomic
def sweep_create(
    *,
    by: User | None,
    region: Region,
    rhythm: str,
    period_start: dt.date,
    due_on: dt.date,
    title: str = "",
    focus: str = "",
) -> Sweep:
    """A sweep of every grid cell under `region`, one task per cell, and a notice to their teams.

    `by=None` is the periodic task (县一月一排查、乡镇半月一排查).
    """
    if by is not None:
        _require_manages(by, region, "在该辖区发起排查")
    if region.kind not in SWEEP_KINDS:
        raise DomainError("排查范围须为县、乡镇或村（社区）。")
    if rhythm not in Rhythm.values:
        raise DomainError("请选择排查类型。")
    expected_kind = RHYTHM_KIND.get(rhythm)
    if expected_kind and region.kind != expected_kind:
        raise DomainError(f"「{Rhythm(rhythm).label}」的范围须为{RegionKind(expected_kind).label}。")
    if due_on < period_start:
        raise DomainError("完成时限不能早于开始日期。")
    grids = list(Region.objects.filter(path__startswith=region.path, kind=RegionKind.GRID).only("pk", "path"))
    if not grids:
        raise DomainError("该范围内没有网格。")
    title = (title or "").strip() or default_sweep_title(region, rhythm, period_start)
    try:
        with transaction.atomic():
            sweep = Sweep.objects.create(
                region=region,
                rhythm=rhythm,
                title=title[:100],
                focus=(focus or "").strip(),
                period_start=period_start,
                due_on=due_on,
                created_by=by,
            )
    except IntegrityError as exc:
        raise DomainError("本期排查已经发起，不能重复发起。") from exc
    tasks = SweepTask.objects.bulk_create(
        [SweepTask(sweep=sweep, grid_id=g.pk, grid_path=g.path) for g in grids], batch_size=500
    )
    # One INSERT … SELECT for the history of a county's ~2,000 tasks (simple-history's own bulk
    # path builds a model instance per row).
    history_snapshot(
        SweepTask,
        tasks,
        reason="发起排查",
        date=timezone.now(),
        history_type="+",
        user_id=by.pk if by else None,
    )
    notify(
        users=_grid_workers_of(region),
        case=None,
        kind="sweep",
        title=f"新的排查任务：{sweep.title}",
        body=f"请于 {due_on:%Y-%m-%d} 前完成本网格排查并填报。{sweep.focus}",
        dedupe_key=f"sweep:{sweep.pk}",
        url=reverse("grids:today"),
    )
    return sweep


def default_sweep_title(region: Region, rhythm: str, period_start: dt.date) -> str:
    if rhythm == Rhythm.MONTHLY:
        return f"{region.name}{period_start.year}年{period_start.month}月矛盾纠纷和安全隐患排查"
    if rhythm == Rhythm.HALF_MONTHLY:
        half = "上" if period_start.day <= 15 else "下"
        return f"{region.name}{period_start.year}年{period_start.month}月{half}半月排查"
    return f"{region.name}{period_start:%Y-%m-%d}专项排查"


def period_of(rhythm: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """(first day, last day) of the monthly or half-monthly period containing `day`."""
    last = calendar.monthrange(day.year, day.month)[1]
    if rhythm == Rhythm.MONTHLY:
        return day.replace(day=1), day.replace(day=last)
    if day.day <= 15:
        return day.replace(day=1), day.replace(day=15)
    return day.replace(day=16), day.replace(day=last)


def sweeps_create_periodic(*, today: dt.date) -> list[Sweep]:
    """The county's monthly and every town's half-monthly sweep for the period containing `today`.

    Idempotent: a period that already has its sweep is skipped (and the unique constraint stops a
    concurrent run), so the beat task may run daily and catch up after a missed day.
    """
    created: list[Sweep] = []
    for rhythm, kind in RHYTHM_KIND.items():
        start, end = period_of(rhythm, today)
        have = set(
            Sweep.objects.filter(rhythm=rhythm, period_start=start).values_list("region_id", flat=True)
        )
        regions = Region.objects.filter(kind=kind, center__isnull=False).exclude(pk__in=have).order_by("path")
        for region in regions:
            try:
                created.append(
                    sweep_create(by=None, region=region, rhythm=rhythm, period_start=start, due_on=end)
                )
            except DomainError as exc:
                logger.info("sweep for %s not created: %s", region, exc)
    return created


def sweep_task_candidates(task: SweepTask) -> Any:
    """Disputes and hazards registered in the task's grid since the sweep began: what it may link."""
    since = dt.datetime.combine(task.sweep.period_start, dt.time.min, tzinfo=LOCAL)
    return Case.objects.filter(
        region_path__startswith=task.grid_path,
        kind__in=(CaseKind.DISPUTE, CaseKind.HAZARD),
        created_at__gte=since,
    ).order_by("created_at")


@transaction.atomic
def sweep_task_complete(
    *,
    task: SweepTask,
    by: User,
    households_checked: int,
    summary: str,
    other_findings: int = 0,
    case_ids: Sequence[int] | None = None,
) -> SweepTask:
    """The grid's completion report: who, when, households checked, findings and the cases they became.

    `case_ids=None` links every dispute and hazard registered in the grid since the sweep began.
    A report may be corrected (filed again); history keeps the earlier one.
    """
    task = SweepTask.objects.select_for_update().select_related("sweep", "grid").get(pk=task.pk)
    if not (serves_grid(by, task.grid) or manages_region(by, task.grid)):
        raise NotAllowed("您不是该网格的团队成员，不能填报排查情况。")
    if task.sweep.period_start > timezone.localdate():
        raise DomainError("本次排查尚未开始。")
    summary = (summary or "").strip()
    if not summary:
        raise DomainError("请填写排查情况。")
    if households_checked < 0 or other_findings < 0:
        raise DomainError("户数和发现数不能为负数。")
    candidates = sweep_task_candidates(task)
    if case_ids is None:
        linked = list(candidates)
    else:
        wanted = set(case_ids)
        linked = list(candidates.filter(pk__in=wanted))
        if len(linked) != len(wanted):
            raise DomainError("只能关联本网格在本次排查期间登记的事项。")
    task.households_checked = households_checked
    task.other_findings = other_findings
    task.findings_count = len(linked) + other_findings
    task.summary = summary
    task.completed_at = timezone.now()
    task.completed_by = by
    task.save()
    task.cases.set(linked)
    return task


# ============================================================================================
# Daily warnings: grids nobody visited, sweep reports due
# ============================================================================================

# Grids with no household visit for this many days are reported to their town every morning.
IDLE_WARNING_DAYS = 7


def idle_grids_warn(*, now: dt.datetime, days: int = IDLE_WARNING_DAYS) -> int:
    """Tell each town center which of its grids had no visit in `days` days (once a day per town).

    The counts are one GROUP BY over the grids (the town is the grid's path minus two levels);
    the message names the first few. Returns the number of towns warned.
    """
    from cases import metrics

    town_prefix = Substr("path", 1, Length("path") - 2 * Region.steplen)
    idle = (
        Region.objects.filter(kind=RegionKind.GRID)
        .annotate(
            last_visit_at=metrics.last_activity_at(
                HouseholdVisit.objects.all(), at="visited_at", link="grid_id"
            )
        )
        .filter(metrics.idle_q(last="last_visit_at", now=now, days=days))
        .annotate(town_path=town_prefix)
    )
    counts = dict(idle.order_by().values("town_path").annotate(n=Count("pk")).values_list("town_path", "n"))
    if not counts:
        return 0
    day = timezone.localdate(now)
    warned = 0
    for center in Center.objects.filter(region__path__in=list(counts)).select_related("region"):
        n = counts[center.region.path]
        names = list(
            idle.filter(path__startswith=center.region.path)
            .annotate(village_name=_parent_name())
            .order_by("path")
            .values_list("village_name", "name")[:5]
        )
        names = [f"{village}{grid}" for village, grid in names]
        notify(
            users=center_staff(center, MANAGER_ROLES),
            case=None,
            kind="idle_grids",
            title=f"{n} 个网格超过 {days} 天未入户走访",
            body=f"{center.region.name}：{'、'.join(names)}{' 等' if n > len(names) else ''}。请督促网格员走访。",
            dedupe_key=f"idle_grids:{center.pk}:{day.isoformat()}",
            url=f"{reverse('grids:figures')}?region={center.region.pk}&idle_days={days}",
            now=now,
        )
        warned += 1
    return warned


def sweep_reminders(*, today: dt.date) -> int:
    """Remind the teams of grids whose sweep report is due today or tomorrow and not yet filed (once per task)."""
    tasks = (
        SweepTask.objects.filter(
            completed_at__isnull=True,
            sweep__due_on__in=(today, today + dt.timedelta(days=1)),
            sweep__period_start__lte=today,
        )
        .select_related("sweep", "grid")
        .order_by("pk")
    )
    tasks = list(tasks)
    members: dict[int, list[User]] = {}
    for grid_id, user_id in GridTeamMember.objects.filter(
        grid_id__in={t.grid_id for t in tasks}, is_active=True, user__isnull=False, user__is_active=True
    ).values_list("grid_id", "user_id"):
        members.setdefault(grid_id, []).append(User(pk=user_id))
    rows = []
    for task in tasks:
        rows += notification_rows(
            users=members.get(task.grid_id, []),
            case=None,
            kind="sweep_due",
            title=f"排查即将到期：{task.sweep.title}",
            body=f"{task.grid.name}的排查情况请于 {task.sweep.due_on:%Y-%m-%d} 前填报。",
            dedupe_key=f"sweep_due:{task.pk}",
            url=reverse("grids:sweep_task", args=[task.pk]),
        )
    notifications_insert(rows)
    return len(rows)


def _parent_name() -> Subquery:
    """The name of a region's parent, by the materialized path (for labels like 东门社区第1网格)."""
    parent_path = Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Region.steplen)
    return Subquery(Region.objects.filter(path=parent_path).values("name")[:1])
