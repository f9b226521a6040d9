"""Writes on petitions: one function per write or transition, each through the case engine.

No function here sets a Case's status: each calls `cases.services.case_transition` (or one of
the engine's own transitions) with a `mutate` for the petition's facts, inside one transaction
that also writes the Petition row, flags, supervision records and notices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases import lifecycle
from cases.assessment import points_record_repeat_petition, points_record_repeat_petitions
from cases.bulk import bulk_insert_objects, history_snapshot
from cases.clocks import compute_deadline, end_of_day, fmt, local_date
from cases.models import Case, CaseKind, Category, Channel, PartyRole, Satisfaction, Status, TimelineEntry
from cases.services import (
    Context,
    DomainError,
    NewCase,
    NotAllowed,
    PersonData,
    case_close,
    case_register,
    case_register_bulk,
    case_transition,
    center_staff,
    notify,
    person_upsert,
    person_upsert_bulk,
)
from centers.jurisdiction import scope_for
from centers.models import Center, Membership, Region, RegionKind, Role, Unit, User
from centers.selectors import ancestor_of_kind, ancestor_paths, primary_center

from . import documents, fusion, imports
from .models import (
    PHASE_RE_REVIEW,
    PHASE_REVIEW,
    Acceptance,
    AnswerOutcome,
    DocumentKind,
    FlagKind,
    FusionMatch,
    ImportBatch,
    ImportSource,
    ImportStatus,
    MatchStatus,
    Petition,
    PetitionDocument,
    PetitionFlag,
    PetitionPolicy,
    SkipLevelTarget,
    Supervision,
    SupervisionKind,
)

LEADER_ROLES = (Role.CENTER_LEADER, Role.LEADERSHIP)
CENTER_ROLES = (Role.DISPATCHER, Role.CENTER_LEADER)

# The petition's own transitions, registered from PetitionsConfig.ready(). The engine's accept,
# transfer (转送交办), start (签收 / 自行办理), pause/resume, close (评价结案) and reopen serve too.
_S = Status
TRANSITIONS = [
    lifecycle.transition(
        "petition_decline",
        "不予受理",
        [_S.REGISTERED],
        _S.CLOSED,
        [lifecycle.OWNER],
        needs_comment=True,
        style="danger",
    ),
    lifecycle.transition(
        "petition_to_litigation",
        "诉访分离：导入诉讼程序",
        [_S.REGISTERED, _S.ACCEPTED, _S.ASSIGNED, _S.IN_PROGRESS],
        _S.CLOSED,
        [lifecycle.OWNER],
        needs_comment=True,
        style="danger",
    ),
    lifecycle.transition(
        "petition_supervise",
        "督办",
        [_S.ASSIGNED, _S.IN_PROGRESS, _S.WAITING, _S.RESOLVED],
        None,
        [lifecycle.OWNER, lifecycle.ABOVE],
        needs_comment=True,
    ),
    lifecycle.transition(
        "petition_feedback",
        "督办反馈",
        [_S.ASSIGNED, _S.IN_PROGRESS, _S.WAITING],
        None,
        [lifecycle.OWNER, lifecycle.ASSIGNEE],
        needs_comment=True,
    ),
    lifecycle.transition(
        "petition_extend",
        "延期",
        [_S.IN_PROGRESS],
        None,
        [lifecycle.OWNER, lifecycle.ABOVE],
        needs_comment=True,
    ),
    lifecycle.transition(
        "petition_answer",
        "出具处理意见",
        [_S.IN_PROGRESS],
        _S.RESOLVED,
        [lifecycle.OWNER, lifecycle.ASSIGNEE],
        needs_comment=True,
        style="primary",
    ),
    lifecycle.transition(
        "petition_request_review",
        "申请复查",
        [_S.RESOLVED, _S.CLOSED],
        _S.IN_PROGRESS,
        [lifecycle.OWNER, lifecycle.ABOVE],
        needs_comment=True,
    ),
    lifecycle.transition(
        "petition_request_re_review",
        "申请复核",
        [_S.RESOLVED, _S.CLOSED],
        _S.IN_PROGRESS,
        [lifecycle.OWNER, lifecycle.ABOVE],
        needs_comment=True,
    ),
    lifecycle.transition(
        "petition_merge",
        "合并",
        [_S.REGISTERED, _S.ACCEPTED, _S.ASSIGNED],
        _S.MERGED,
        [lifecycle.OWNER, lifecycle.ABOVE],
    ),
    lifecycle.transition(
        "petition_link",
        "关联",
        [*Status.values],
        None,
        [lifecycle.OWNER, lifecycle.ABOVE, lifecycle.ASSIGNEE],
    ),
    lifecycle.transition(
        "petition_skip_level",
        "越级访通报",
        [*Status.values],
        None,
        [lifecycle.OWNER, lifecycle.ABOVE],
        needs_comment=True,
    ),
    lifecycle.transition(
        "petition_mark_key",
        "列为重点件",
        [s for s in Status.values if s not in (_S.CLOSED, _S.MERGED)],
        None,
        [lifecycle.OWNER, lifecycle.ABOVE],
        needs_comment=True,
    ),
]


# ============================================================================================
# Helpers
# ============================================================================================


class _Places:
    """Village and town of each region, looked up once per region (bulk imports reuse it)."""

    def __init__(self) -> None:
        self.cache: dict[int, tuple[Region | None, Region | None]] = {}

    def prime(self, regions: Iterable[Region]) -> None:
        """Look up the places of many regions with one query (their ancestors by path)."""
        todo = {r.pk: r for r in regions if r.pk not in self.cache}
        if not todo:
            return
        paths = {p for r in todo.values() for p in ancestor_paths(r.path, include_self=False)}
        by_path = {a.path: a for a in Region.objects.filter(path__in=paths).only("pk", "path", "kind", "name")}
        for r in todo.values():
            chain = [by_path[p] for p in ancestor_paths(r.path, include_self=False) if p in by_path] + [r]
            village = (
                r
                if r.kind != RegionKind.GRID
                else next((a for a in reversed(chain) if a.kind == RegionKind.VILLAGE), None)
            )
            town = next((a for a in reversed(chain) if a.kind == RegionKind.TOWN), None)
            self.cache[r.pk] = (village or r, town)

    def of(self, region: Region) -> tuple[Region | None, Region | None]:
        if region.pk not in self.cache:
            village = (
                region if region.kind != RegionKind.GRID else ancestor_of_kind(region, RegionKind.VILLAGE)
            )
            town = ancestor_of_kind(region, RegionKind.TOWN)
            self.cache[region.pk] = (village or region, town)
        return self.cache[region.pk]


def petition_build(
    *, case: Case, petitioner: Any, request: str, places: _Places, reported_at: dt.datetime | None = None
) -> Petition:
    """The unsaved Petition of a new petition case, with its fusion keys."""
    place, town = places.of(case.region)
    text = fusion.normalize_text(case.title, case.description, request)
    phone_hash = getattr(petitioner, "phone_hash", "") if petitioner is not None else ""
    id_hash = getattr(petitioner, "id_number_hash", "") if petitioner is not None else ""
    return Petition(
        case=case,
        request=request,
        petitioner=petitioner,
        channel=case.channel,
        phone_hash=phone_hash,
        person_key=id_hash or phone_hash,
        place=place,
        town=town,
        reported_at=reported_at or case.occurred_at or case.created_at,
        fusion_text=fusion.shingles(text),
        fusion_numbers=fusion.numbers_of(text)[:200],
        category=case.category,
    )


def _owning_center_for(by: User, region: Region) -> Center:
    """The registering user's own center whose area holds the place (the deepest such)."""
    posts = (
        Membership.objects.filter(user=by, is_active=True, center__isnull=False)
        .select_related("center__region")
        .order_by("-center__region__depth")
    )
    for m in posts:
        if region.path.startswith(m.center.region.path):
            return m.center
    raise NotAllowed("只有发生地所属中心（或上级中心）的工作人员可以登记信访件。")


def _is_leader_over(user: User, case: Case) -> bool:
    """A leader of the owning center or of a center above it (本机关负责人)."""
    if user.is_superuser:
        return True
    owner_path = case.owning_center.region.path
    return Membership.objects.filter(
        user=user, is_active=True, role__in=LEADER_ROLES, center__region__path__in=ancestor_paths(owner_path)
    ).exists()


def _is_center_staff_over(user: User, case: Case) -> bool:
    """Staff of the owning center or of a center above it (who may supervise, 督办)."""
    if user.is_superuser:
        return True
    owner_path = case.owning_center.region.path
    return Membership.objects.filter(
        user=user,
        is_active=True,
        role__in=(*CENTER_ROLES, Role.LEADERSHIP, Role.WINDOW_CLERK),
        center__region__path__in=ancestor_paths(owner_path),
    ).exists()


def _unit_staff(unit: Unit | None) -> list[User]:
    if unit is None:
        return []
    return list(
        User.objects.filter(memberships__unit=unit, memberships__is_active=True, is_active=True).distinct()
    )


def _hierarchy_staff(case: Case) -> list[User]:
    """Dispatchers and leaders of the owning center and of every center above it."""
    from centers.models import Center as CenterModel

    centers = CenterModel.objects.filter(region__path__in=ancestor_paths(case.owning_center.region.path))
    return list(
        User.objects.filter(
            memberships__center__in=centers,
            memberships__is_active=True,
            memberships__role__in=(*CENTER_ROLES, Role.LEADERSHIP),
            is_active=True,
        ).distinct()
    )


def _lock_petition(pk: int) -> Petition:
    return Petition.objects.select_for_update().get(pk=pk)


def _days_after(moment: dt.datetime, days: int) -> dt.datetime:
    """24:00 of the `days`-th day after `moment` (the start day does not count)."""
    return end_of_day(local_date(moment) + dt.timedelta(days=days))


def review_deadline(petition: Petition, policy: PetitionPolicy | None = None) -> dt.datetime | None:
    """Until when the petitioner may ask for 复查 (or 复核, after a review opinion)."""
    policy = policy or PetitionPolicy.current()
    phase = petition.case.phase
    if phase == "" and petition.answered_at:
        return _days_after(petition.answered_at, policy.review_window_days)
    if phase == PHASE_REVIEW and petition.reviewed_at:
        return _days_after(petition.reviewed_at, policy.re_review_window_days)
    return None


# ============================================================================================
# Flags
# ============================================================================================


def _flag(
    petition: Petition, kind: str, reason: str, now: dt.datetime, related: Case | int | None = None
) -> PetitionFlag:
    related_id = related.pk if isinstance(related, Case) else related
    return PetitionFlag(
        petition=petition, kind=kind, reason=reason[:300], related_case_id=related_id, created_at=now
    )


def flags_for_new(
    petitions: Sequence[Petition],
    *,
    now: dt.datetime,
    policy: PetitionPolicy,
    same_matter_by_place: bool = True,
) -> list[PetitionFlag]:
    """Unsaved special-kind flags of freshly written petitions, each with the reason shown.

    - 集体访: `people_count` ≥ the policy's group size;
    - 重复信访: the same person (ID or phone hash) within `repeat_days` before; and, when
      `same_matter_by_place`, the same matter (same village, similar text) from anyone;
    - 已办结事项: the same person's closed petition about a similar matter within
      `closed_matter_days`, naming it and whether its re-review ended it.
    """
    using = fusion.method()
    t = fusion.thresholds(using)
    scale = 1.0 if using == "pg_trgm" else 100.0
    flags: list[PetitionFlag] = []
    if not petitions:
        return flags
    for p in petitions:
        if p.case.people_count >= policy.group_size:
            flags.append(
                _flag(
                    p,
                    FlagKind.GROUP,
                    f"信访人数 {p.case.people_count} 人，达到集体访标准（{policy.group_size} 人及以上）",
                    now,
                )
            )
    new_ids = {p.pk for p in petitions}
    keys = {p.person_key for p in petitions if p.person_key}
    phones = {p.phone_hash for p in petitions if p.phone_hash}
    earliest = min(p.reported_at for p in petitions)
    horizon = max(policy.repeat_days, policy.closed_matter_days)
    by_key: dict[str, list[dict]] = {}
    by_phone: dict[str, list[dict]] = {}
    if keys or phones:
        rows = (
            Petition.objects.filter(Q(person_key__in=keys) | Q(phone_hash__in=phones))
            .filter(reported_at__gte=earliest - dt.timedelta(days=horizon))
            .exclude(case__status=Status.MERGED)
            .values(
                "pk",
                "person_key",
                "phone_hash",
                "reported_at",
                "channel",
                "case__tracking_no",
                "case__status",
                "case__closed_at",
                "case__phase",
                "re_reviewed_at",
            )
            .order_by("reported_at", "pk")
        )
        for row in rows:
            if row["person_key"]:
                by_key.setdefault(row["person_key"], []).append(row)
            if row["phone_hash"]:
                by_phone.setdefault(row["phone_hash"], []).append(row)
    closed_pairs: list[tuple[Petition, dict]] = []
    for p in petitions:
        if not p.person_key and not p.phone_hash:
            continue
        mine = {r["pk"]: r for r in by_key.get(p.person_key, ()) if p.person_key}
        mine.update({r["pk"]: r for r in by_phone.get(p.phone_hash, ()) if p.phone_hash})
        before = sorted(
            (
                r
                for r in mine.values()
                if r["pk"] != p.pk and (r["reported_at"], r["pk"]) < (p.reported_at, p.pk)
            ),
            key=lambda r: (r["reported_at"], r["pk"]),
        )
        recent = [
            r for r in before if r["reported_at"] >= p.reported_at - dt.timedelta(days=policy.repeat_days)
        ]
        if recent:
            last = recent[-1]
            who = (
                p.petitioner.phone_masked
                if p.petitioner is not None and p.petitioner.phone_masked
                else "同一证件号"
            )
            flags.append(
                _flag(
                    p,
                    FlagKind.REPEATED,
                    f"同一信访人（{who}）{policy.repeat_days} 天内已反映 {len(recent)} 次，最近一次 "
                    f"{last['case__tracking_no']}（{fmt(last['reported_at'])[:10]}，{Channel(last['channel']).label}）",
                    now,
                    last["pk"],
                )
            )
        cutoff = now - dt.timedelta(days=policy.closed_matter_days)
        for r in before:
            if (
                r["case__status"] == Status.CLOSED
                and r["pk"] not in new_ids
                and (r["case__closed_at"] or now) >= cutoff
            ):
                closed_pairs.append((p, r))
    if closed_pairs:
        sims = fusion.pair_similarity([(p.pk, r["pk"]) for p, r in closed_pairs], using=using)
        done: set[int] = set()
        for p, r in reversed(closed_pairs):  # the most recent closed matter first
            sim = sims.get((p.pk, r["pk"]), 0.0)
            if p.pk in done or sim < t.same_matter:
                continue
            done.add(p.pk)
            final = "，已复核终结" if r["re_reviewed_at"] else ""
            flags.append(
                _flag(
                    p,
                    FlagKind.CLOSED_MATTER,
                    f"与已办结的 {r['case__tracking_no']}（{fmt(r['case__closed_at'])[:10]} 办结{final}）为同一信访人"
                    f"反映的同一事项（文本相似度 {sim / scale:.2f}）",
                    now,
                    r["pk"],
                )
            )
    if same_matter_by_place:
        flagged_repeat = {f.petition.pk for f in flags if f.kind == FlagKind.REPEATED}
        for p in petitions:
            if p.pk in flagged_repeat or not p.place_id or not p.fusion_text:
                continue
            since = p.reported_at - dt.timedelta(days=policy.repeat_days)
            ids = list(
                Petition.objects.filter(
                    place_id=p.place_id, reported_at__gte=since, reported_at__lte=p.reported_at
                )
                .exclude(pk=p.pk)
                .exclude(case__status=Status.MERGED)
                .order_by("-reported_at")
                .values_list("pk", flat=True)[:500]
            )
            sims = fusion.text_similarity(p.fusion_text, ids, using=using)
            best = max(sims.items(), key=lambda kv: kv[1], default=None)
            if best and best[1] >= t.same_matter:
                other = Case.objects.only("tracking_no", "created_at", "channel").get(pk=best[0])
                flags.append(
                    _flag(
                        p,
                        FlagKind.REPEATED,
                        f"与 {other.tracking_no}（{fmt(other.created_at)[:10]}，{other.get_channel_display()}）"
                        f"反映同一地点的同一事项（文本相似度 {best[1] / scale:.2f}）",
                        now,
                        best[0],
                    )
                )
    return flags


# ============================================================================================
# Registration
# ============================================================================================


@transaction.atomic
def petition_register(
    *,
    by: User | None,
    channel: str,
    category: str,
    title: str,
    region: Region,
    petitioners: Sequence[PersonData],
    description: str = "",
    request: str = "",
    address: str = "",
    occurred_at: dt.datetime | None = None,
    people_count: int = 1,
    owning_center: Center | None = None,
    source_ref: str = "",
    now: dt.datetime | None = None,
) -> Petition:
    """受理登记: open a petition case, its petitioners, its flags and its fusion suggestions."""
    now = now or timezone.now()
    if by is not None and not by.is_superuser and not scope_for(by).covers_path(region.path):
        raise NotAllowed("该地点不在您的辖区内。")
    petitioners = [p for p in petitioners if (p.name or "").strip()]
    if not petitioners:
        raise DomainError("请至少登记一名信访人。")
    if owning_center is None:
        if by is None:
            raise DomainError("请指定受理中心。")
        owning_center = _owning_center_for(by, region)
    persons = [
        person_upsert(name=p.name, id_number=p.id_number, phone=p.phone, address=p.address)
        for p in petitioners
    ]
    people_count = max(people_count or 1, len(persons))
    case = case_register(
        by=by,
        kind=CaseKind.PETITION,
        channel=channel,
        category=category,
        title=title,
        description=description,
        region=region,
        address=address,
        occurred_at=occurred_at,
        people_count=people_count,
        owning_center=owning_center,
        parties=[(p, PartyRole.APPLICANT) for p in persons],
        source_ref=source_ref,
        now=now,
    )
    petition = petition_build(
        case=case, petitioner=persons[0], request=request, places=_Places(), reported_at=now
    )
    petition.save()
    policy = PetitionPolicy.current()
    flags = flags_for_new([petition], now=now, policy=policy)
    PetitionFlag.objects.bulk_create(flags, ignore_conflicts=True)
    repeated = [f for f in flags if f.kind == FlagKind.REPEATED]
    if repeated:  # 季考评: a repeat petition costs the town where the matter is (cases.assessment)
        points_record_repeat_petition(case=case, reason=f"{case.tracking_no} 重复信访：{repeated[0].reason}"[:300], at=now)
    fusion.store_matches(
        fusion.find_matches([fusion.row_of(petition)], window_hours=policy.fusion_window_hours, now=now)
    )
    return petition


# ============================================================================================
# The flow
# ============================================================================================


def petition_accept(
    *,
    petition: Petition,
    by: User,
    comment: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Petition:
    """受理: the acceptance decision (within 15 days of registration); the 60 days start here."""
    with transaction.atomic():

        def mutate(c: Case, ctx: Context):
            c.accepted_at = ctx.now
            return {"summary": "决定受理"}

        case = case_transition(
            case=petition.case,
            action="accept",
            by=by,
            comment=comment,
            mutate=mutate,
            expected_version=expected_version,
            now=now,
        )
        p = _lock_petition(petition.pk)
        p.acceptance, p.acceptance_note, p.decided_at = Acceptance.ACCEPTED, comment, case.accepted_at
        p.save()
        p.case = case
        return p


def _close_undecided(
    *,
    petition: Petition,
    by: User,
    reason: str,
    action: str,
    summary: str,
    acceptance: str,
    keep_decision_date: bool,
    expected_version: int | None,
    now: dt.datetime | None,
) -> Petition:
    """Close a petition without handling it (不予受理, 诉访分离): the case closes with the reason as
    its result, on time when its step's deadline was kept, and the petition records the decision
    (dated now, or, with `keep_decision_date`, at an acceptance decision already taken)."""
    with transaction.atomic():

        def mutate(c: Case, ctx: Context):
            c.closed_at = ctx.now
            c.result = reason
            c.closed_on_time = c.due_at is None or ctx.now <= c.due_at
            return {"summary": summary}

        case = case_transition(
            case=petition.case,
            action=action,
            by=by,
            comment=reason,
            mutate=mutate,
            expected_version=expected_version,
            now=now,
        )
        p = _lock_petition(petition.pk)
        p.acceptance, p.acceptance_note = acceptance, reason
        p.decided_at = (p.decided_at if keep_decision_date else None) or case.closed_at
        p.save()
        p.case = case
        return p


def petition_decline(
    *,
    petition: Petition,
    by: User,
    reason: str,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Petition:
    """不予受理, with the reason the notice to the petitioner states."""
    return _close_undecided(
        petition=petition, by=by, reason=reason, action="petition_decline", summary="不予受理",
        acceptance=Acceptance.DECLINED, keep_decision_date=False, expected_version=expected_version, now=now,
    )


def petition_to_litigation(
    *,
    petition: Petition,
    by: User,
    reason: str,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Petition:
    """诉访分离: a matter that belongs in court (信访工作条例 第三十一条: 已经或者依法应当通过诉讼途径
    解决的) is not handled as a petition: the petitioner is told to go to court and the petition is
    closed as routed to litigation, from registration or from any handling step."""
    return _close_undecided(
        petition=petition, by=by, reason=(reason or "").strip(), action="petition_to_litigation",
        summary="诉访分离：告知信访人依法通过诉讼程序解决，信访程序终结",
        acceptance=Acceptance.LITIGATION, keep_decision_date=True, expected_version=expected_version, now=now,
    )


def petition_hand_over(
    *,
    petition: Petition,
    by: User,
    unit: Unit,
    comment: str,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Petition:
    """转送交办 to the responsible unit, which must acknowledge (签收) it: the ack clock starts.

    Refused while the fusion page still holds suggested duplicates of this petition: a matter
    that came through several channels is merged first and handed over once.
    """
    if petition.case.status == Status.REGISTERED:
        raise DomainError("请先决定受理，再转送交办。")
    pending = fusion.open_suggestions(petition.case)
    if pending:
        raise DomainError(
            f"该件有 {pending} 条疑似多渠道重复记录待研判，请先在数据融合页合并或排除，再转送交办。"
        )
    if not unit.is_active:
        raise DomainError("该部门已停用。")
    with transaction.atomic():

        def mutate(c: Case, ctx: Context):
            c.owning_unit = unit
            return {"summary": f"转送交办 {unit.name}"}

        case = case_transition(
            case=petition.case,
            action="transfer",
            by=by,
            comment=comment,
            mutate=mutate,
            expected_version=expected_version,
            now=now,
        )
        p = _lock_petition(petition.pk)
        p.handling_unit, p.handed_over_at, p.acknowledged_at, p.acknowledged_by = (
            unit,
            case.updated_at,
            None,
            None,
        )
        p.save()
        notify(
            users=_unit_staff(unit),
            case=case,
            kind="petition_handed_over",
            title=f"交办信访件：{case.tracking_no}，请于 {fmt(case.due_at)} 前签收",
            body=case.title,
            dedupe_key=f"petition-hand-over:{case.pk}:{case.step_no}",
            sms=True,
        )
        p.case = case
        return p


def _stage_start(p: Petition) -> dt.datetime | None:
    """When the current stage's clock began: acceptance (办理), the review or re-review request."""
    phase = p.case.phase
    if phase == PHASE_REVIEW:
        return p.review_requested_at
    if phase == PHASE_RE_REVIEW:
        return p.re_review_requested_at
    return p.case.accepted_at


def petition_acknowledge(
    *, petition: Petition, by: User, comment: str = "", expected_version: int | None = None
) -> Petition:
    """签收 by the unit (or 自行办理 by the center): handling starts, on the clock of the stage.

    The 60 days run from acceptance (第三十二条), not from the receipt: the clock of the new step
    starts at the acceptance, and a previously approved extension is kept.
    """
    with transaction.atomic():
        p = _lock_petition(petition.pk)

        def mutate(c: Case, ctx: Context):
            return {"summary": f"签收（{c.owning_unit.name}）" if c.owning_unit else "自行办理"}

        case = case_transition(
            case=petition.case,
            action="start",
            by=by,
            comment=comment,
            mutate=mutate,
            clock_from=_stage_start(p),
            expected_version=expected_version,
        )
        if p.extension_days and case.phase == "":
            case = _apply_extension(
                case, p.extension_days, by=None, summary=f"已批准的延期 {p.extension_days} 日继续有效"
            )
        if case.owning_unit_id is not None:
            p.acknowledged_at, p.acknowledged_by = case.updated_at, by
            p.save()
        p.case = case
        return p


def _apply_extension(
    case: Case, days: int, *, by: User | None, summary: str, comment: str = "", data=None
) -> Case:
    def mutate(c: Case, ctx: Context):
        if c.clock_rule_id is None:
            raise DomainError("本环节未设时限，无需延期。")
        c.extension_hours += days * 24
        d = compute_deadline(c.clock_rule, c.step_started_at, ctx.calendar, extension_hours=c.extension_hours)
        c.due_at, c.yellow_at, c.due_explanation = d.due_at, d.yellow_at, d.explanation
        if c.due_at > ctx.now:
            c.overdue_fired = False
        return {"summary": f"{summary}，期限至 {fmt(c.due_at)}"}

    return case_transition(
        case=case,
        action="petition_extend",
        by=by,
        comment=comment,
        mutate=mutate,
        restart_clock=False,
        data=data,
    )


def petition_extend(
    *,
    petition: Petition,
    by: User,
    approver: User,
    days: int,
    reason: str,
    expected_version: int | None = None,
) -> Petition:
    """延期: once per petition, at most 30 days, with a reason and the head's approval (第三十二条)."""
    policy = PetitionPolicy.current()
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写延期理由。")
    if not 1 <= days <= policy.max_extension_days:
        raise DomainError(f"延期天数须在 1 到 {policy.max_extension_days} 日之间。")
    if not _is_leader_over(approver, petition.case):
        raise DomainError("延期须经本机关负责人批准：批准人须为责任中心或上级中心的领导。")
    with transaction.atomic():
        p = _lock_petition(petition.pk)
        if p.extension_days:
            raise DomainError(
                f"该信访件已于 {fmt(p.extended_at)} 延期 {p.extension_days} 日，依规定只能延期一次。"
            )
        case = Case.objects.get(pk=p.pk)
        if case.phase:
            raise DomainError("复查、复核期限不能延期。")
        if case.due_at is not None and case.due_at <= timezone.now():
            raise DomainError("办理期限已过，不能再延期；请说明超期原因并尽快办结。")
        case = _apply_extension(
            petition.case,
            days,
            by=by,
            summary=f"延期 {days} 日（批准人：{approver.display_name}）",
            comment=reason,
            data={"days": days, "approver": approver.pk},
        )
        p.extension_days, p.extension_reason, p.extension_approver, p.extended_at = (
            days,
            reason,
            approver,
            case.updated_at,
        )
        p.save()
        p.case = case
        return p


def petition_supervise(*, petition: Petition, by: User, note: str) -> Supervision:
    """督办 by the center or a level above: a supervision record and a notice to the unit."""
    if not _is_center_staff_over(by, petition.case):
        raise NotAllowed("只有责任中心或上级中心可以督办。")
    with transaction.atomic():
        case = case_transition(
            case=petition.case,
            action="petition_supervise",
            by=by,
            comment=note,
            restart_clock=False,
            summary="督办",
        )
        s = Supervision.objects.create(
            petition=petition,
            kind=SupervisionKind.MANUAL,
            by=by,
            note=note.strip(),
            created_at=case.updated_at,
            step_no=case.step_no,
        )
        handlers = [a.user for a in case.assignments.filter(is_active=True).select_related("user")]
        notify(
            users=_unit_staff(case.owning_unit) + handlers,
            case=case,
            kind="petition_supervision",
            title=f"督办：{case.tracking_no}",
            body=note.strip(),
            dedupe_key=f"petition-supervise:{s.pk}",
            sms=True,
        )
        return s


def petition_feedback(*, petition: Petition, by: User, text: str) -> Petition:
    """督办反馈: the unit reports progress; it answers the latest open supervision."""
    with transaction.atomic():
        case = case_transition(
            case=petition.case,
            action="petition_feedback",
            by=by,
            comment=text,
            restart_clock=False,
            summary="督办反馈",
        )
        s = (
            Supervision.objects.select_for_update()
            .filter(petition=petition, feedback_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if s is not None:
            s.feedback, s.feedback_by, s.feedback_at = text.strip(), by, case.updated_at
            s.save()
        recipients = [s.by] if s is not None and s.by is not None else center_staff(case.owning_center)
        notify(
            users=recipients,
            case=case,
            kind="petition_feedback",
            title=f"督办反馈：{case.tracking_no}",
            body=text.strip()[:200],
            dedupe_key=f"petition-feedback:{case.pk}:{case.version}",
        )
        petition.case = case
        return petition


_ANSWER_LABEL = {"": "处理意见", PHASE_REVIEW: "复查意见", PHASE_RE_REVIEW: "复核意见"}


def petition_answer(
    *,
    petition: Petition,
    by: User,
    outcome: str,
    text: str,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Petition:
    """出具处理意见 (or the 复查 / 复核 opinion): the petitioner's review window opens."""
    if outcome not in AnswerOutcome.values:
        raise DomainError("请选择处理意见。")
    text = (text or "").strip()
    with transaction.atomic():
        phase = petition.case.phase
        label = _ANSWER_LABEL.get(phase, "处理意见")

        def mutate(c: Case, ctx: Context):
            c.resolved_at = ctx.now
            c.result = text
            return {"summary": f"出具{label}：{AnswerOutcome(outcome).label}"}

        case = case_transition(
            case=petition.case,
            action="petition_answer",
            by=by,
            comment=text,
            mutate=mutate,
            expected_version=expected_version,
            now=now,
        )
        p = _lock_petition(petition.pk)
        at = case.resolved_at
        if phase == PHASE_REVIEW:
            p.review_outcome, p.review_text, p.reviewed_at = outcome, text, at
        elif phase == PHASE_RE_REVIEW:
            p.re_review_outcome, p.re_review_text, p.re_reviewed_at = outcome, text, at
            PetitionFlag.objects.bulk_create(
                [
                    _flag(
                        p,
                        FlagKind.FINAL,
                        "复核意见已出具，信访事项终结：信访人以同一事实和理由再次提出的，不再受理（信访工作条例第三十六条）",
                        at,
                    )
                ],
                ignore_conflicts=True,
            )
        else:
            p.answer_outcome, p.answer_text, p.answered_at = outcome, text, at
        p.save()
        p.case = case
        return p


def petition_evaluate(
    *,
    petition: Petition,
    by: User,
    satisfaction: str,
    comment: str = "",
    reopen: bool = False,
    expected_version: int | None = None,
) -> Petition:
    """评价结案: record the petitioner's satisfaction and close; 不满意 may instead reopen handling.

    A closed petition may still go to 复查 within the window (`petition_request_review`).
    """
    if satisfaction not in Satisfaction.values:
        raise DomainError("请选择信访人的满意度评价。")
    if reopen and satisfaction != Satisfaction.UNSATISFIED:
        raise DomainError("只有信访人不满意时才重新办理。")
    with transaction.atomic():
        if reopen:
            if not (comment or "").strip():
                raise DomainError("重新办理须填写说明。")

            def mutate(c: Case, ctx: Context):
                c.satisfaction = satisfaction
                c.resolved_at = None
                c.closed_at = None
                c.closed_on_time = None
                return {"summary": "信访人不满意，重新办理"}

            case = case_transition(
                case=petition.case,
                action="reopen",
                by=by,
                comment=comment,
                mutate=mutate,
                expected_version=expected_version,
            )
        else:
            case = case_close(
                case=petition.case,
                by=by,
                satisfaction=satisfaction,
                comment=comment,
                expected_version=expected_version,
            )
        petition.case = case
        return petition


def _request_stage(
    *, petition: Petition, by: User, reason: str, stage: str, unit: Unit | None, expected_version: int | None
) -> Petition:
    policy = PetitionPolicy.current()
    reason = (reason or "").strip()
    with transaction.atomic():
        p = _lock_petition(petition.pk)
        case = Case.objects.get(pk=p.pk)
        p.case = case
        now = timezone.now()
        if stage == PHASE_REVIEW:
            if case.phase != "":
                raise DomainError("该信访件已进入复查或复核程序。")
            if p.answered_at is None:
                raise DomainError("尚未出具处理意见，不能申请复查。")
            action, what, days = "petition_request_review", "复查", policy.review_window_days
            since_label = "处理意见出具"
        else:
            if case.phase != PHASE_REVIEW or p.reviewed_at is None:
                raise DomainError("只有出具复查意见后才能申请复核。")
            action, what, days = "petition_request_re_review", "复核", policy.re_review_window_days
            since_label = "复查意见出具"
        deadline = review_deadline(p, policy)
        if deadline is not None and now > deadline:
            raise DomainError(
                f"已超过申请{what}期限（{since_label}之日起 {days} 日内，即 {fmt(deadline)} 前）。"
            )

        def mutate(c: Case, ctx: Context):
            c.phase = stage
            c.closed_at = None
            c.closed_on_time = None
            c.resolved_at = None
            if unit is not None:
                c.owning_unit = unit
            return {"summary": f"信访人申请{what}" + (f"，由 {unit.name} {what}" if unit else "")}

        case = case_transition(
            case=case, action=action, by=by, comment=reason, mutate=mutate, expected_version=expected_version
        )
        if stage == PHASE_REVIEW:
            p.review_requested_at, p.review_reason = case.updated_at, reason
        else:
            p.re_review_requested_at, p.re_review_reason = case.updated_at, reason
        if unit is not None:
            p.handling_unit = unit
        p.save()
        p.case = case
        return p


def petition_request_review(
    *,
    petition: Petition,
    by: User,
    reason: str,
    unit: Unit | None = None,
    expected_version: int | None = None,
) -> Petition:
    """复查: asked within 30 days of the answer (第三十五条); decided within 30 days."""
    return _request_stage(
        petition=petition,
        by=by,
        reason=reason,
        stage=PHASE_REVIEW,
        unit=unit,
        expected_version=expected_version,
    )


def petition_request_re_review(
    *,
    petition: Petition,
    by: User,
    reason: str,
    unit: Unit | None = None,
    expected_version: int | None = None,
) -> Petition:
    """复核: asked within 30 days of the review opinion (第三十六条); decided within 30 days."""
    return _request_stage(
        petition=petition,
        by=by,
        reason=reason,
        stage=PHASE_RE_REVIEW,
        unit=unit,
        expected_version=expected_version,
    )


# ============================================================================================
# Special kinds, key records
# ============================================================================================


def petition_record_skip_level(
    *, petition: Petition, by: User, target: str, at: dt.datetime, reported_by: str, note: str
) -> Petition:
    """越级访, recorded when a higher level reports it back: a red trigger and a flag with the reason."""
    if target not in SkipLevelTarget.values:
        raise DomainError("请选择越级去向。")
    reported_by = (reported_by or "").strip()
    if not reported_by:
        raise DomainError("请填写通报机关。")
    if at > timezone.now():
        raise DomainError("越级时间不能晚于现在。")
    label = SkipLevelTarget(target).label
    with transaction.atomic():

        def mutate(c: Case, ctx: Context):
            c.petition_risk = True
            return {"summary": f"{reported_by}通报：信访人 {fmt(at)[:10]} {label}上访"}

        case = case_transition(
            case=petition.case,
            action="petition_skip_level",
            by=by,
            comment=note,
            mutate=mutate,
            restart_clock=False,
        )
        p = _lock_petition(petition.pk)
        p.skip_level_to, p.skip_level_at, p.skip_level_reported_by = target, at, reported_by
        p.save()
        PetitionFlag.objects.update_or_create(
            petition=p,
            kind=FlagKind.SKIP_LEVEL,
            defaults={
                "reason": f"{reported_by}通报：信访人于 {fmt(at)[:10]} {label}上访（越级访）",
                "created_at": case.updated_at,
            },
        )
        p.case = case
        return p


def petition_mark_key(*, petition: Petition, by: User, leader: User, reason: str) -> Petition:
    """重点件: to a leader for supervision (领导督办), with a notice to the leader."""
    if not Membership.objects.filter(user=leader, is_active=True, role__in=LEADER_ROLES).exists():
        raise DomainError("督办领导须为中心领导或县领导。")
    with transaction.atomic():
        case = case_transition(
            case=petition.case,
            action="petition_mark_key",
            by=by,
            comment=reason,
            restart_clock=False,
            summary=f"列为重点件，由 {leader.display_name} 督办",
        )
        p = _lock_petition(petition.pk)
        p.is_key, p.key_leader, p.key_reason = True, leader, reason.strip()[:300]
        p.save()
        Supervision.objects.create(
            petition=p,
            kind=SupervisionKind.KEY,
            by=by,
            note=reason.strip(),
            created_at=case.updated_at,
            step_no=case.step_no,
        )
        notify(
            users=[leader],
            case=case,
            kind="petition_key",
            title=f"重点信访件请您督办：{case.tracking_no}",
            body=f"{case.title}。{reason.strip()}",
            dedupe_key=f"petition-key:{case.pk}:{leader.pk}",
            sms=True,
        )
        p.case = case
        return p


# ============================================================================================
# The sweep's hook: an overdue petition is supervised where it stands (督办), not escalated
# ============================================================================================


def on_petition_overdue(*, case: Case, step_no: int, due_at: dt.datetime, now: dt.datetime) -> None:
    """Registered with `cases.lifecycle.register_overdue_hook`; runs inside the sweep's transaction.

    Silence of the unit after 转送交办 (assigned, not acknowledged) or a handling limit passed: a
    supervision record (once per step) and 督办 notices to the unit and to the dispatchers and
    leaders of the owning center and of every center above it.
    """
    petition = Petition.objects.filter(pk=case.pk).first()
    if petition is None:
        return
    if case.status == Status.ASSIGNED:
        kind, what = (
            SupervisionKind.ACK_OVERDUE,
            f"{case.owning_unit.name if case.owning_unit else '责任单位'}逾期未签收",
        )
    else:
        stage = {"": "办理", PHASE_REVIEW: "复查", PHASE_RE_REVIEW: "复核"}.get(case.phase, "办理")
        kind, what = SupervisionKind.OVERDUE, f"{case.get_status_display()}（{stage}）超期"
    note = f"{what}（期限 {fmt(due_at)}），请立即办理并反馈。"
    Supervision.objects.bulk_create(
        [Supervision(petition=petition, kind=kind, note=note, step_no=step_no, created_at=now)],
        ignore_conflicts=True,
    )
    notify(
        users=_unit_staff(case.owning_unit) + _hierarchy_staff(case),
        case=case,
        kind="petition_supervision",
        title=f"督办：{case.tracking_no} {what}",
        body=f"{case.title}。{note}",
        dedupe_key=f"petition-overdue:{case.pk}:{step_no}:{due_at.isoformat()}",
        sms=True,
        now=now,
    )


# ============================================================================================
# Fusion decisions: merge, link, dismiss
# ============================================================================================


def _channels_of(case: Case) -> list[str]:
    channels = {case.channel}
    channels.update(Case.objects.filter(merged_into=case).values_list("channel", flat=True))
    return sorted(channels)


def petition_merge(
    *, duplicate: Petition, primary: Petition, by: User, comment: str = "", match: FusionMatch | None = None
) -> Petition:
    """Merge a multi-channel duplicate into the primary record: one matter, handed over once.

    The duplicate ends as "已合并" pointing at the primary; the primary is linked to it, flagged
    多渠道重复反映 with its channels, and when three or more channels (or a group / skip-level
    petition) are involved its center's leaders are told it is a key record to supervise.
    """
    if duplicate.pk == primary.pk:
        raise DomainError("不能与自身合并。")
    with transaction.atomic():
        target = Case.objects.select_for_update().get(pk=primary.pk)
        if target.status == Status.MERGED:
            raise DomainError(
                f"目标记录已合并至 {target.merged_into.tracking_no if target.merged_into else '其他记录'}。"
            )

        def mutate(c: Case, ctx: Context):
            c.merged_into = target
            c.closed_at = ctx.now
            return {"summary": f"与 {target.tracking_no}（{target.get_channel_display()}）为同一事项，已合并"}

        dup_case = case_transition(
            case=duplicate.case, action="petition_merge", by=by, comment=comment, mutate=mutate
        )
        target.related.add(dup_case)
        target = case_transition(
            case=target,
            action="petition_link",
            by=by,
            restart_clock=False,
            comment=comment,
            summary=f"合并 {dup_case.tracking_no}（{dup_case.get_channel_display()}）：同一事项多渠道反映",
        )
        channels = _channels_of(target)
        now = target.updated_at
        if len(channels) > 1:
            labels = "、".join(Channel(c).label for c in channels)
            PetitionFlag.objects.update_or_create(
                petition_id=target.pk,
                kind=FlagKind.MULTI_CHANNEL,
                defaults={
                    "reason": f"同一事项经 {labels} {len(channels)} 个渠道反映，已合并为一件",
                    "created_at": now,
                    "related_case": dup_case,
                },
            )
        FusionMatch.objects.filter(Q(case=dup_case, other=target) | Q(case=target, other=dup_case)).update(
            status=MatchStatus.MERGED, decided_by=by, decided_at=now
        )
        # Other suggestions about the merged record now concern the primary's matter: re-point none,
        # but close them so the duplicate does not linger on the fusion page.
        FusionMatch.objects.filter(Q(case=dup_case) | Q(other=dup_case), status=MatchStatus.SUGGESTED).update(
            status=MatchStatus.MERGED, decided_by=by, decided_at=now
        )
        p = _lock_petition(target.pk)
        kinds = set(p.flags.values_list("kind", flat=True))
        if (len(channels) >= 3 or kinds & {FlagKind.GROUP, FlagKind.SKIP_LEVEL}) and not p.is_key:
            p.is_key = True
            p.key_reason = f"多渠道（{len(channels)} 个）反映" + (
                "，集体访/越级访" if kinds & {FlagKind.GROUP, FlagKind.SKIP_LEVEL} else ""
            )
            p.save()
            notify(
                users=center_staff(target.owning_center, LEADER_ROLES),
                case=target,
                kind="petition_key",
                title=f"重点信访件待领导督办：{target.tracking_no}",
                body=f"{target.title}。{p.key_reason}",
                dedupe_key=f"petition-key-suggest:{target.pk}",
                sms=True,
            )
        p.case = target
        return p


def petition_link(
    *, petition: Petition, other: Petition, by: User, comment: str = "", match: FusionMatch | None = None
) -> None:
    """Link two records as related (e.g. the same place's matter from different people), both kept."""
    if petition.pk == other.pk:
        raise DomainError("不能与自身关联。")
    with transaction.atomic():
        a = case_transition(
            case=petition.case,
            action="petition_link",
            by=by,
            restart_clock=False,
            comment=comment,
            summary=f"关联 {other.case.tracking_no}（{other.case.get_channel_display()}）",
        )
        b = case_transition(
            case=other.case,
            action="petition_link",
            by=by,
            restart_clock=False,
            comment=comment,
            summary=f"关联 {a.tracking_no}（{a.get_channel_display()}）",
        )
        a.related.add(b)
        FusionMatch.objects.filter(Q(case=a, other=b) | Q(case=b, other=a)).update(
            status=MatchStatus.LINKED, decided_by=by, decided_at=b.updated_at
        )


def fusion_dismiss(*, match: FusionMatch, by: User) -> FusionMatch:
    """Not the same matter: the suggestion leaves the list (and is never suggested again)."""
    if not lifecycle.relations(by, match.case) & {lifecycle.OWNER, lifecycle.ABOVE}:
        raise NotAllowed("您无权研判该记录。")
    with transaction.atomic():
        locked = FusionMatch.objects.select_for_update().get(pk=match.pk)
        if locked.status != MatchStatus.SUGGESTED:
            raise DomainError("该疑似重复已研判。")
        locked.status, locked.decided_by, locked.decided_at = MatchStatus.DISMISSED, by, timezone.now()
        locked.save()
        return locked


# ============================================================================================
# Channel imports (files and the API): validated rows in bulk, idempotent by record number
# ============================================================================================


@dataclass
class ImportResult:
    imported: int = 0
    existing: int = 0
    fused: int = 0
    flagged: int = 0
    case_ids: list[int] = field(default_factory=list)


def importer_center(by: User) -> Center:
    """The center an import is made for: the user's highest center (a county import by default)."""
    center = primary_center(by)
    if center is None or not Membership.objects.filter(user=by, center=center, is_active=True).exists():
        raise NotAllowed("只有综治中心的工作人员可以导入渠道数据。")
    return center


def import_rows(
    *,
    by: User | None,
    center: Center,
    source: str,
    rows: Sequence[imports.Row],
    now: dt.datetime | None = None,
    chunk_size: int = 2000,
    notify_center: bool = True,
) -> ImportResult:
    """Register validated rows as petitions in bulk: people, cases, petitions, flags, fusion.

    Rows whose (channel, record number) exists already are skipped, so a file imported twice
    adds nothing the second time. Rows are taken in time order and in chunks of `chunk_size`,
    each chunk in one transaction: an interrupted import keeps whole chunks and the rerun skips
    them. The fusion of each chunk runs in that chunk's transaction (see petitions.fusion).
    """
    now = now or timezone.now()
    channel = imports.CHANNEL_OF[source]
    policy = PetitionPolicy.current()
    places = _Places()
    result = ImportResult()
    ordered = sorted(rows, key=lambda r: (r.reported_at, r.number))
    for start in range(0, len(ordered), chunk_size):
        chunk = ordered[start : start + chunk_size]
        with transaction.atomic():
            known = set(
                Case.objects.filter(
                    channel=channel, source_ref__in=[r.source_ref for r in chunk]
                ).values_list("source_ref", flat=True)
            )
            fresh = [r for r in chunk if r.source_ref not in known]
            result.existing += len(chunk) - len(fresh)
            if not fresh:
                continue
            people = person_upsert_bulk(
                people=[PersonData(name=r.name, id_number=r.id_number, phone=r.phone) for r in fresh]
            )
            items = [
                NewCase(
                    kind=CaseKind.PETITION,
                    channel=channel,
                    category=r.category,
                    title=r.title,
                    description=r.description,
                    region=r.region,
                    address=r.address,
                    occurred_at=r.reported_at,
                    people_count=r.people_count,
                    owning_center=center,
                    parties=[(person, PartyRole.APPLICANT)],
                    source_ref=r.source_ref,
                )
                for r, person in zip(fresh, people, strict=True)
            ]
            cases = case_register_bulk(by=by, items=items, now=now)
            places.prime(r.region for r in fresh)
            petitions = [
                petition_build(
                    case=case, petitioner=person, request=r.request, places=places, reported_at=r.reported_at
                )
                for case, person, r in zip(cases, people, fresh, strict=True)
            ]
            # History copied from the inserted rows in one statement (cases.bulk.history_snapshot).
            petitions = bulk_insert_objects(Petition, petitions)
            history_snapshot(Petition, petitions, reason="批量导入", date=now, created=True, user=by)
            flags = flags_for_new(petitions, now=now, policy=policy, same_matter_by_place=False)
            PetitionFlag.objects.bulk_create(flags, ignore_conflicts=True)
            points_record_repeat_petitions(  # 季考评: each repeat costs its town (cases.assessment)
                items=[(f.petition.case, f"{f.petition.case.tracking_no} 重复信访：{f.reason}"[:300])
                       for f in flags if f.kind == FlagKind.REPEATED],
                at=now,
            )
            matches = fusion.find_matches(
                [fusion.row_of(p) for p in petitions], window_hours=policy.fusion_window_hours, now=now
            )
            result.fused += fusion.store_matches(matches)
            result.flagged += len({f.petition.pk for f in flags})
            result.imported += len(cases)
            result.case_ids.extend(c.pk for c in cases)
    if notify_center and result.imported:
        notify(
            users=center_staff(center),
            case=None,
            kind="petition_import",
            title=f"{ImportSource(source).label}导入 {result.imported} 件，疑似多渠道重复 {result.fused} 对",
            body="请在数据融合页研判疑似重复后再转送交办。",
            dedupe_key=f"petition-import:{source}:{now.isoformat()}",
            now=now,
        )
    return result


ERRORS_KEPT = 5000


def import_preview(*, by: User, source: str, file: Any, now: dt.datetime | None = None) -> ImportBatch:
    """Read and check an uploaded file: the batch records its rows, its errors and a preview."""
    if source not in ImportSource.values:
        raise DomainError("请选择数据来源。")
    center = importer_center(by)
    now = now or timezone.now()
    name = getattr(file, "name", "upload.csv").rsplit("/", 1)[-1][:200]
    file.seek(0)
    try:
        records = imports.records_from_file(source, name, file)
    except imports.Invalid as exc:
        raise DomainError(str(exc)) from exc
    good, bad = imports.validate(source, records, regions=imports.RegionIndex(center.region), now=now)
    existing = _existing_refs(source, [r.source_ref for r in good])
    file.seek(0)
    with transaction.atomic():
        batch = ImportBatch(
            source=source,
            file_name=name,
            center=center,
            uploaded_by=by,
            created_at=now,
            total_rows=len(records),
            good_rows=len(good),
            bad_rows=len(bad),
            existing_rows=len(existing),
            errors=[e.as_dict() for e in bad[:ERRORS_KEPT]],
            preview=[_preview_row(r) for r in good[:20]],
        )
        batch.file.save(name, file, save=False)
        batch.save()
    return batch


def _existing_refs(source: str, refs: Sequence[str]) -> set[str]:
    channel = imports.CHANNEL_OF[source]
    out: set[str] = set()
    for start in range(0, len(refs), 5000):
        out.update(
            Case.objects.filter(channel=channel, source_ref__in=refs[start : start + 5000]).values_list(
                "source_ref", flat=True
            )
        )
    return out


def _preview_row(r: imports.Row) -> dict[str, Any]:
    from cases.crypto import mask_id_number, mask_phone

    return {
        "row": r.number,
        "ref": r.source_ref,
        "at": fmt(r.reported_at),
        "name": r.name,
        "phone": mask_phone(r.phone),
        "id_number": mask_id_number(r.id_number),
        "place": r.region.name,
        "address": r.address,
        "category": Category(r.category).label,
        "title": r.title,
        "people": r.people_count,
    }


def import_run(*, batch: ImportBatch, by: User, now: dt.datetime | None = None) -> ImportBatch:
    """Import the good rows of a previewed file (again safe: known record numbers are skipped)."""
    claimed = ImportBatch.objects.filter(
        pk=batch.pk, status__in=[ImportStatus.PREVIEWED, ImportStatus.FAILED]
    ).update(status=ImportStatus.RUNNING)
    if not claimed:
        raise DomainError("该文件正在导入或已导入。")
    batch.refresh_from_db()
    now = now or timezone.now()
    try:
        with batch.file.open("rb") as f:
            records = imports.records_from_file(batch.source, batch.file_name, f)
        good, bad = imports.validate(
            batch.source, records, regions=imports.RegionIndex(batch.center.region), now=now
        )
        result = import_rows(by=by, center=batch.center, source=batch.source, rows=good, now=now)
    except Exception as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.FAILED, message=f"导入中断：{exc}"[:1000], finished_at=timezone.now()
        )
        raise
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.DONE,
        finished_at=timezone.now(),
        total_rows=len(records),
        good_rows=len(good),
        bad_rows=len(bad),
        imported_rows=result.imported,
        existing_rows=result.existing,
        fused_rows=result.fused,
        errors=[e.as_dict() for e in bad[:ERRORS_KEPT]],
        message=f"导入 {result.imported} 件，已导入过 {result.existing} 件，错误 {len(bad)} 行，"
        f"疑似多渠道重复 {result.fused} 对，标记特殊类型 {result.flagged} 件",
    )
    batch.refresh_from_db()
    return batch


# ============================================================================================
# Documents (信访文书): issuing one IS the transition it announces
# ============================================================================================

_ANSWER_KINDS = {
    DocumentKind.ANSWER: "",
    DocumentKind.REVIEW: PHASE_REVIEW,
    DocumentKind.RE_REVIEW: PHASE_RE_REVIEW,
}


def answer_document_kind(petition: Petition) -> str:
    """The opinion the current stage ends with: 处理意见书, 复查意见书 or 复核意见书."""
    return {phase: kind for kind, phase in _ANSWER_KINDS.items()}.get(petition.case.phase, DocumentKind.ANSWER)


def petition_document_issue(
    *,
    petition: Petition,
    by: User,
    kind: str,
    reason: str = "",
    remedy: str = "",
    outcome: str = "",
    unit: Unit | None = None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> PetitionDocument:
    """出具文书: perform the transition the document announces and store the document, at once.

    受理告知书 = the acceptance decision (the 60 days start); 不予受理告知书 = 不予受理 (the acceptance
    clock stops, the petition is closed); its 诉访分离 form closes the petition as routed to
    litigation; 转送交办单 = the hand-over (the unit's receipt clock starts); 处理/复查/复核意见书 =
    the answer of the current stage (its clock stops, the review window opens). One transaction:
    the transition, the document row and its PDF, generated from the record; the date on the PDF,
    the document's `issued_at` and the transition's time are one instant, so the clock the
    document starts or stops reads the document's date.
    """
    if kind not in DocumentKind.values:
        raise DomainError("未知的文书类型。")
    reason, remedy = (reason or "").strip(), (remedy or "").strip()
    now = now or timezone.now()
    if now > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError("出具日期不能晚于今天。")
    if kind in (DocumentKind.DECLINE, DocumentKind.LITIGATION):
        if not reason:
            raise DomainError("请填写不予受理的理由。")
        remedy = remedy or documents.DEFAULT_REMEDY[kind]
    if kind == DocumentKind.HAND_OVER and unit is None:
        raise DomainError("请选择责任单位。")
    if kind in _ANSWER_KINDS:
        if not reason:
            raise DomainError("请填写意见内容。")
        if petition.case.phase != _ANSWER_KINDS[kind] or petition.case.status != Status.IN_PROGRESS:
            raise DomainError(f"当前环节不能出具{DocumentKind(kind).label}。")
    common = {"petition": petition, "by": by, "expected_version": expected_version, "now": now}
    with transaction.atomic():
        if kind == DocumentKind.ACCEPTANCE:
            p = petition_accept(comment=reason, **common)
        elif kind == DocumentKind.DECLINE:
            p = petition_decline(reason=reason, **common)
        elif kind == DocumentKind.LITIGATION:
            p = petition_to_litigation(reason=reason, **common)
        elif kind == DocumentKind.HAND_OVER:
            p = petition_hand_over(unit=unit, comment=reason or f"转送 {unit.name} 办理", **common)
        else:
            p = petition_answer(outcome=outcome, text=reason, **common)
        case = p.case
        number = f"{case.tracking_no}-{documents.CODES[kind]}{case.step_no}"
        doc = PetitionDocument(
            petition=p,
            kind=kind,
            number=number,
            issued_at=now,
            issued_by=by,
            issuing_center=case.owning_center,
            unit=unit if kind == DocumentKind.HAND_OVER else p.handling_unit,
            reason=reason,
            remedy=remedy,
            outcome=outcome if kind in _ANSWER_KINDS else "",
            step_no=case.step_no,
        )
        doc.file.save(f"{number}.pdf", ContentFile(documents.render(doc, p)), save=False)
        doc.save()
        TimelineEntry.objects.create(
            case=case,
            at=now,
            actor=by,
            action="petition_document",
            summary=f"出具《{doc.get_kind_display()}》（{number}）",
            data={"document": doc.pk},
        )
        return doc
