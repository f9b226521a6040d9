"""Writes on mediation: one function per write or transition, each through the case engine.

No function here sets a Case's status: each calls `cases.services.case_transition` (or one of the
engine's own writes, e.g. `case_record_failed_mediation`) with a `mutate` for the case's facts,
inside one transaction that also writes the mediation's own rows and notices. The transitions are
registered in the engine's table from MediationConfig.ready().
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from cases import lifecycle
from cases.clocks import end_of_day, fmt, local_date
from cases.models import (
    AssignmentRole,
    Case,
    CaseAssignment,
    CaseKind,
    CaseSequence,
    Category,
    Channel,
    Satisfaction,
    Status,
)
from cases.services import (
    Context,
    DomainError,
    NotAllowed,
    PartyInput,
    case_record_failed_mediation,
    case_register_with_parties,
    case_transition,
    center_staff,
    notify,
)
from centers.jurisdiction import scope_for
from centers.models import Center, DepartmentKind, Membership, Region, RegionKind, Role, Unit, User
from centers.selectors import ancestor_of_kind, center_of_region, county_of

from .models import (
    PHASE_PERFORMANCE,
    Agreement,
    AgreementStatus,
    CommitteeKind,
    Confirmation,
    ConsentWay,
    Mediation,
    MediationCommittee,
    Mediator,
    MediatorGrade,
    MediatorKind,
    Outcome,
    Performance,
    Referral,
    ReferralKind,
    RouteOn,
    Session,
    SessionResult,
)

__all__ = ["DomainError", "NotAllowed"]

# Kinds of case a mediation committee takes.
MEDIABLE_KINDS = (CaseKind.DISPUTE, CaseKind.REFERRAL)

# Who referred a matter, by referral kind (the unit kinds accepted as the referring body).
REFERRING_UNIT_KINDS = {
    ReferralKind.COURT: (DepartmentKind.COURT, DepartmentKind.TRIBUNAL),
    ReferralKind.POLICE: (DepartmentKind.POLICE_STATION, DepartmentKind.PUBLIC_SECURITY),
    ReferralKind.PETITION: (DepartmentKind.PETITION,),
}
REFERRAL_CHANNEL = {
    ReferralKind.COURT: Channel.COURT,
    ReferralKind.POLICE: Channel.POLICE_110,
    ReferralKind.PETITION: Channel.OTHER,
}
# Where a failed mediation may be routed on, by route (the unit kinds that take it).
ROUTE_UNIT_KINDS = {
    RouteOn.LITIGATION: (DepartmentKind.COURT, DepartmentKind.TRIBUNAL),
    # 劳动人事争议仲裁委员会 sits with 人社局; 农村土地承包仲裁委员会 with 农业农村局.
    RouteOn.ARBITRATION: (DepartmentKind.HRSS, DepartmentKind.AGRICULTURE, DepartmentKind.OTHER),
    RouteOn.ADMINISTRATIVE: tuple(
        k
        for k in DepartmentKind.values
        if k not in (DepartmentKind.COURT, DepartmentKind.TRIBUNAL, DepartmentKind.PROCURATORATE)
    ),
}
# 人民调解法 第三十三条: the parties may apply for judicial confirmation within 30 days.
CONFIRMATION_WINDOW_DAYS = 30

_S = Status
_OWN = [lifecycle.OWNER, lifecycle.ABOVE]
_WORK = [lifecycle.OWNER, lifecycle.ASSIGNEE]
TRANSITIONS = [
    lifecycle.transition(
        "mediation_assign", "交人民调解", [_S.REGISTERED, _S.ACCEPTED, _S.ASSIGNED], _S.ASSIGNED, _OWN,
        style="primary",
    ),
    lifecycle.transition(
        "mediation_reassign", "更换调解员", [_S.ASSIGNED, _S.IN_PROGRESS, _S.WAITING], None, _OWN, needs_comment=True
    ),
    lifecycle.transition("mediation_consent", "当事人同意调解", [_S.ASSIGNED], _S.IN_PROGRESS, _WORK, style="primary"),
    lifecycle.transition("mediation_session", "记录调解", [_S.IN_PROGRESS], None, _WORK),
    lifecycle.transition("mediation_draft", "起草调解协议", [_S.IN_PROGRESS], None, _WORK),
    lifecycle.transition(
        "mediation_sign", "签署调解协议", [_S.IN_PROGRESS], _S.RESOLVED, _WORK, style="primary"
    ),
    lifecycle.transition(
        "mediation_fail", "调解不成", [_S.ASSIGNED, _S.IN_PROGRESS], _S.UNRESOLVED, _WORK, needs_comment=True,
        style="danger",
    ),
    lifecycle.transition(
        "mediation_route", "调解不成分流", [_S.UNRESOLVED], _S.ASSIGNED, [*_WORK, lifecycle.ABOVE], needs_comment=True
    ),
    lifecycle.transition(
        "mediation_route_close", "调解不成终结", [_S.UNRESOLVED], _S.CLOSED, [*_WORK, lifecycle.ABOVE],
        needs_comment=True,
    ),
    lifecycle.transition("mediation_follow_up", "履行回访", [_S.RESOLVED], _S.CLOSED, _WORK, style="primary"),
    lifecycle.transition(
        "mediation_confirmation",
        "司法确认",
        [s for s in Status.values if s != _S.MERGED],
        None,
        [*_WORK, lifecycle.ABOVE],
    ),
    lifecycle.transition(
        "referral_deadline", "委派方期限", [_S.ACCEPTED, _S.ASSIGNED, _S.IN_PROGRESS], None, [*_WORK, lifecycle.ABOVE]
    ),
    lifecycle.transition(
        "referral_report", "反馈调解结果", [_S.RESOLVED, _S.UNRESOLVED], _S.CLOSED, _WORK, needs_comment=True,
        style="primary",
    ),
    lifecycle.transition(
        "mediation_handed_over", "移交人民调解", [s for s in Status.values if s != _S.MERGED], None, _OWN
    ),
]


# ============================================================================================
# Committees and mediators
# ============================================================================================


def _clean_domains(domains: Sequence[str]) -> list[str]:
    unknown = [d for d in domains if d not in Category.values]
    if unknown:
        raise DomainError(f"未知的领域：{'、'.join(unknown)}")
    return list(dict.fromkeys(domains))


@transaction.atomic
def committee_create(
    *,
    name: str,
    region: Region,
    kind: str = CommitteeKind.PEOPLES,
    domains: Sequence[str] = (),
    host_unit: Unit | None = None,
    phone: str = "",
    address: str = "",
) -> MediationCommittee:
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写调解组织名称。")
    if region.kind == RegionKind.GRID:
        raise DomainError("调解组织设在县、乡镇（街道）或村（社区），不设在网格。")
    if kind == CommitteeKind.PROFESSIONAL and not domains:
        raise DomainError("行业性专业性调解委员会须至少选择一个专业领域。")
    if MediationCommittee.objects.filter(region=region, name=name).exists():
        raise DomainError(f"{region.name} 已有名为「{name}」的调解组织。")
    return MediationCommittee.objects.create(
        name=name, region=region, kind=kind, domains=_clean_domains(domains), host_unit=host_unit, phone=phone,
        address=address,
    )


@transaction.atomic
def mediator_create(
    *,
    user: User,
    committee: MediationCommittee,
    grade: str = MediatorGrade.JUNIOR,
    kind: str = MediatorKind.PART_TIME,
    domains: Sequence[str] = (),
    region: Region | None = None,
    max_load: int = 10,
    note: str = "",
) -> Mediator:
    """Put a user on the roll of mediators (their account then opens their queue)."""
    if Mediator.objects.filter(user=user).exists():
        raise DomainError(f"{user.display_name} 已在调解员名册中。")
    if not committee.is_active:
        raise DomainError("该调解组织已停用。")
    if max_load < 1:
        raise DomainError("在办上限至少为 1 件。")
    return Mediator.objects.create(
        user=user, committee=committee, grade=grade, kind=kind, domains=_clean_domains(domains),
        region=region or committee.region, max_load=max_load, note=note,
    )


def _post_region(user: User) -> Region | None:
    post = (
        Membership.objects.filter(user=user, is_active=True, role=Role.MEDIATOR)
        .select_related("center__region", "unit__region")
        .order_by("pk")
        .first()
    )
    if post is None:
        return None
    return post.center.region if post.center_id else post.unit.region


@transaction.atomic
def mediator_profile(*, user: User) -> Mediator:
    """The user's entry in the roll; a user who holds a mediator post (Role.MEDIATOR) but was never
    entered is entered now, in the people's mediation committee of their post's place (set up
    there if it has none: every county, town and village has one, 人民调解法 第八条)."""
    existing = Mediator.objects.filter(user=user).select_related("committee").first()
    if existing is not None:
        return existing
    region = _post_region(user)
    if region is None:
        raise DomainError(f"{user.display_name} 不是在册的调解员。")
    if region.kind == RegionKind.GRID:
        region = ancestor_of_kind(region, RegionKind.VILLAGE) or region
    committee = (
        MediationCommittee.objects.filter(region=region, kind=CommitteeKind.PEOPLES, is_active=True)
        .order_by("pk")
        .first()
    )
    if committee is None:
        committee, _ = MediationCommittee.objects.get_or_create(
            region=region, name=f"{region.name}人民调解委员会", defaults={"kind": CommitteeKind.PEOPLES}
        )
    return Mediator.objects.create(user=user, committee=committee, region=region)


# ============================================================================================
# Assignment
# ============================================================================================


def _lock_mediation(pk: int) -> Mediation:
    return Mediation.objects.select_for_update().select_related("committee", "mediator__user").get(pk=pk)


def _in_county(case: Case, region: Region) -> bool:
    return region.path.startswith(county_of(case.region).path)


def _grant(user: User, case: Case) -> None:
    assign_perm("cases.view_case", user, case)
    assign_perm("cases.change_case", user, case)


def _revoke(user: User, case: Case) -> None:
    remove_perm("cases.view_case", user, case)
    remove_perm("cases.change_case", user, case)


@transaction.atomic
def mediation_assign(
    *,
    case: Case,
    by: User | None,
    mediator: Mediator,
    committee: MediationCommittee | None = None,
    note: str = "",
    comment: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Mediation:
    """Hand a dispute (or a referred matter) to a committee and a mediator, who gains an object
    permission on this one case (so they see it even when it lies outside their own area).

    Before mediation starts it is an assignment (the case goes to "assigned"); later it replaces
    the mediator (更换调解员, with a reason) and the step's clock runs on.
    """
    committee = committee or mediator.committee
    if case.kind not in MEDIABLE_KINDS:
        raise DomainError(f"「{case.get_kind_display()}」不交人民调解；信访件请走访调对接（移交人民调解）。")
    if not mediator.is_active or not mediator.user.is_active:
        raise DomainError(f"{mediator.name} 已不在调解员名册中。")
    if not committee.is_active:
        raise DomainError(f"{committee.name} 已停用。")
    if not (_in_county(case, mediator.region) or _in_county(case, committee.region)):
        raise DomainError(f"{mediator.name} 不是本县在册的调解员。")
    if mediator.committee_id != committee.pk and committee.kind != CommitteeKind.INVITED:
        raise DomainError(f"{mediator.name} 不是 {committee.name} 的调解员。")
    existing = Mediation.objects.filter(pk=case.pk).select_related("mediator__user").first()
    if existing is not None and existing.outcome != Outcome.PENDING:
        raise DomainError("该事项的调解已终结，不能再分派调解员。")
    reassign = existing is not None and case.status in (Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING)
    if reassign and existing.mediator_id == mediator.pk and existing.committee_id == committee.pk:
        raise DomainError(f"该事项已由 {mediator.name} 调解。")
    if reassign and not (comment or "").strip():
        raise DomainError("更换调解员须说明理由。")
    old_user = existing.mediator.user if existing is not None else None

    def mutate(c: Case, ctx: Context):
        c.accepted_at = c.accepted_at or ctx.now
        CaseAssignment.objects.filter(case=c, role=AssignmentRole.MEDIATOR, is_active=True).exclude(
            user=mediator.user
        ).update(is_active=False)
        if old_user is not None and old_user.pk != mediator.user_id:
            _revoke(old_user, c)
        CaseAssignment.objects.get_or_create(
            case=c, user=mediator.user, role=AssignmentRole.MEDIATOR, is_active=True, defaults={"assigned_by": by}
        )
        _grant(mediator.user, c)
        verb = "更换调解员为" if reassign else "交"
        return {"summary": f"{verb} {committee.name} {mediator.name} 调解"}

    result = case_transition(
        case=case, action="mediation_reassign" if reassign else "mediation_assign", by=by,
        expected_version=expected_version, comment=comment or note, mutate=mutate, restart_clock=not reassign,
        now=now,
    )
    if existing is None:
        mediation = Mediation.objects.create(
            case=result, committee=committee, mediator=mediator, assigned_at=result.updated_at, assigned_by=by,
            assignment_note=note[:300],
        )
    else:
        mediation = _lock_mediation(existing.pk)
        mediation.committee, mediation.mediator, mediation.assigned_by = committee, mediator, by
        mediation.assignment_note = note[:300]
        if not reassign:
            mediation.assigned_at = result.updated_at
        mediation.save()
    notify(
        users=[mediator.user], case=result, kind="mediation_assigned",
        title=f"新调解案件：{result.tracking_no}", body=result.title,
        dedupe_key=f"mediation-assigned:{result.pk}:{result.version}", sms=True, url=_url(result),
    )
    mediation.case = result
    return mediation


def _url(case: Case) -> str:
    from django.urls import reverse

    return reverse("mediation:detail", kwargs={"pk": case.pk})


# ============================================================================================
# The mediation
# ============================================================================================


def _fix_referral_deadline(case: Case, referral: Referral, by: User | None) -> Case:
    """The referring body's own deadline replaces the rule's for the mediation step."""
    due = end_of_day(referral.deadline)

    def mutate(c: Case, ctx: Context):
        rule = c.clock_rule
        ratio = float(rule.yellow_ratio) if rule is not None else 0.7
        c.due_at = due
        start = c.step_started_at or ctx.now
        c.yellow_at = start + (due - start) * ratio if due > start else due
        c.due_explanation = (
            f"按{referral.referring_unit.name}确定的期限：{referral.deadline:%Y-%m-%d} 前调结（{referral.external_no}），"
            f"期限至 {fmt(due)}。"
        )
        c.overdue_fired = due <= ctx.now and c.overdue_fired
        return {"summary": f"按{referral.referring_unit.name}要求，调解期限至 {fmt(due)}"}

    return case_transition(case=case, action="referral_deadline", by=by, mutate=mutate, restart_clock=False)


@transaction.atomic
def mediation_consent(
    *, mediation: Mediation, by: User, way: str, note: str = "", expected_version: int | None = None
) -> Mediation:
    """The parties agree to mediate (人民调解法 第十七条: mediation is voluntary): mediation starts.

    A referred matter's mediation clock runs from the receipt (or to the referring body's deadline).
    """
    if way not in ConsentWay.values:
        raise DomainError("请选择调解启动方式。")
    referral = Referral.objects.filter(pk=mediation.pk).select_related("referring_unit").first()

    def mutate(c: Case, ctx: Context):
        return {"summary": f"当事人同意调解（{ConsentWay(way).label}），开始调解"}

    case = case_transition(
        case=mediation.case, action="mediation_consent", by=by, comment=note, mutate=mutate,
        expected_version=expected_version, clock_from=referral.received_at if referral else None,
    )
    if referral is not None and referral.deadline:
        case = _fix_referral_deadline(case, referral, by)
    m = _lock_mediation(mediation.pk)
    m.consent_at, m.consent_way, m.consent_note = case.updated_at, way, note[:300]
    m.save()
    m.case = case
    return m


@transaction.atomic
def session_record(
    *,
    mediation: Mediation,
    by: User,
    held_at: dt.datetime,
    place: str,
    participants: str,
    record: str,
    result: str = SessionResult.CONTINUE,
    expected_version: int | None = None,
) -> Session:
    """One mediation session with its written record (调解笔录); the case's clock keeps running."""
    now = timezone.now()
    place, participants, record = (place or "").strip(), (participants or "").strip(), (record or "").strip()
    if not place or not participants or not record:
        raise DomainError("请填写调解地点、参加人员和调解笔录。")
    if result not in SessionResult.values:
        raise DomainError("请选择本次调解结果。")
    if held_at > now + dt.timedelta(hours=1):
        raise DomainError("调解时间不能晚于现在：请在调解后记录。")
    if held_at < mediation.case.created_at - dt.timedelta(days=1):
        raise DomainError("调解时间不能早于事项登记时间。")
    holder: dict[str, int] = {}

    def mutate(c: Case, ctx: Context):
        number = (Session.objects.filter(mediation_id=c.pk).order_by("-number").values_list("number", flat=True).first() or 0) + 1
        holder["number"] = number
        return {"summary": f"第 {number} 次调解（{place}）：{SessionResult(result).label}"}

    case = case_transition(
        case=mediation.case, action="mediation_session", by=by, comment=record[:2000], mutate=mutate,
        restart_clock=False, expected_version=expected_version,
    )
    session = Session.objects.create(
        mediation_id=case.pk, number=holder["number"], held_at=held_at, place=place[:200],
        participants=participants, record=record, result=result, recorded_by=by, recorded_at=now,
    )
    return session


def _check_amount(amount: Decimal | None, what: str) -> None:
    if amount is not None and amount < 0:
        raise DomainError(f"{what}不能为负数。")


@transaction.atomic
def agreement_draft(
    *,
    mediation: Mediation,
    by: User,
    facts: str,
    terms: str,
    amount: Decimal | None = None,
    beneficiaries: int = 0,
    performance_way: str = "",
    performance_due: dt.date | None = None,
    copies: int = 3,
    expected_version: int | None = None,
) -> Agreement:
    """Draft (or redraft) the agreement: parties' facts, the agreed terms (one per line), the amount
    and the performance deadline. A signed agreement is final."""
    facts, terms = (facts or "").strip(), (terms or "").strip()
    if not facts:
        raise DomainError("请填写纠纷主要事实和争议事项。")
    if not [t for t in terms.splitlines() if t.strip()]:
        raise DomainError("请填写协议内容（每行一项）。")
    _check_amount(amount, "协议金额")
    if beneficiaries < 0:
        raise DomainError("受益人数不能为负数。")
    if performance_due is not None and performance_due < timezone.localdate():
        raise DomainError("履行期限不能早于今天。")
    if not 2 <= copies <= 10:
        raise DomainError("协议书份数须在 2 到 10 份之间。")
    existing = Agreement.objects.filter(pk=mediation.pk).first()
    if existing is not None and existing.is_signed:
        raise DomainError("调解协议已签署生效，不能修改。")

    def mutate(c: Case, ctx: Context):
        return {"summary": "修改调解协议草稿" if existing else "起草调解协议"}

    case = case_transition(
        case=mediation.case, action="mediation_draft", by=by, mutate=mutate, restart_clock=False,
        expected_version=expected_version,
    )
    agreement = existing or Agreement(mediation_id=case.pk, drafted_by=by, drafted_at=case.updated_at)
    agreement.facts, agreement.terms, agreement.amount = facts, terms, amount
    agreement.beneficiaries, agreement.performance_way = beneficiaries, (performance_way or "").strip()[:200]
    agreement.performance_due, agreement.copies = performance_due, copies
    agreement.drafted_by, agreement.drafted_at = by, case.updated_at
    agreement.save()
    return agreement


def _next_agreement_number(committee: MediationCommittee, year: int) -> str:
    """调字〔2026〕0007号 within the committee: gap-free per committee and year (a row-locked counter)."""
    prefix = f"agreement:{committee.pk}"
    updated = CaseSequence.objects.filter(prefix=prefix, year=year).update(last=F("last") + 1)
    if not updated:
        try:
            with transaction.atomic():
                CaseSequence.objects.create(prefix=prefix, year=year, last=1)
        except IntegrityError:
            CaseSequence.objects.filter(prefix=prefix, year=year).update(last=F("last") + 1)
    last = CaseSequence.objects.get(prefix=prefix, year=year).last
    return f"{committee.name}调字〔{year}〕{last:04d}号"


@transaction.atomic
def mediation_sign(*, mediation: Mediation, by: User, expected_version: int | None = None) -> Mediation:
    """The parties and the mediator sign the agreement: it takes effect (人民调解法 第二十九、三十一条)
    and the dispute is resolved. With a performance deadline the case waits for the follow-up
    visit (履行回访), whose clock starts at that deadline."""
    m = _lock_mediation(mediation.pk)
    agreement = Agreement.objects.filter(pk=m.pk).first()
    if agreement is None:
        raise DomainError("请先起草调解协议。")
    if agreement.is_signed:
        raise DomainError("调解协议已签署。")
    if m.consent_at is None:
        raise DomainError("尚未记录当事人同意调解。")
    if not Session.objects.filter(mediation=m).exists():
        raise DomainError("尚无调解记录：请先记录调解过程（调解笔录）。")
    is_referral = m.case.kind == CaseKind.REFERRAL
    waits = agreement.performance_due is not None and not is_referral

    def mutate(c: Case, ctx: Context):
        c.resolved_at = ctx.now
        c.result = f"达成调解协议：{'；'.join(agreement.term_lines)}"[:2000]
        if waits:
            c.phase = PHASE_PERFORMANCE
        return {"summary": "签署调解协议，调解成功"}

    case = case_transition(
        case=m.case, action="mediation_sign", by=by, mutate=mutate, expected_version=expected_version,
        clock_from=end_of_day(agreement.performance_due) if waits else None,
    )
    agreement.number = _next_agreement_number(m.committee, timezone.localtime(case.updated_at).year)
    agreement.status, agreement.signed_at = AgreementStatus.SIGNED, case.updated_at
    if agreement.performance_due is None and not agreement.performance_way:
        agreement.performance_way = "当场履行"
    agreement.save()
    m.outcome, m.ended_at = Outcome.SUCCESS, case.updated_at
    m.save()
    m.case = case
    return m


def _route_unit(case: Case, route_on: str, unit: Unit | None) -> Unit | None:
    if unit is None:
        return None
    kinds = ROUTE_UNIT_KINDS.get(route_on, ())
    if not kinds:
        raise DomainError("「终止调解」不移送单位。")
    if unit.kind not in kinds or not unit.is_active or not _in_county(case, unit.region):
        raise DomainError(f"{unit.name} 不是本县可受理「{RouteOn(route_on).label}」的单位。")
    return unit


@transaction.atomic
def mediation_fail(
    *,
    mediation: Mediation,
    by: User,
    reason: str,
    route_on: str,
    unit: Unit | None = None,
    expected_version: int | None = None,
) -> Mediation:
    """Mediation failed (调解不成, 人民调解法 第二十六条): the reason is recorded, the failure counts
    toward the case's red trigger, and the matter is routed on — transferred to the court,
    arbitration or administrative unit chosen (which then owns its handling), or closed with the
    parties told how to pursue their rights. A referred matter goes back to its referring body
    through the outcome report instead."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写调解不成的原因。")
    if route_on not in RouteOn.values:
        raise DomainError("请选择分流去向。")
    referral = Referral.objects.filter(pk=mediation.pk).select_related("referring_unit").first()
    is_referral = referral is not None
    if is_referral:
        # A referred matter goes back to the body that referred it (the court then files the suit).
        route_on = RouteOn.LITIGATION if referral.kind == ReferralKind.COURT else RouteOn.NONE
    else:
        unit = _route_unit(mediation.case, route_on, unit)
        if route_on != RouteOn.NONE and unit is None:
            raise DomainError(f"请选择「{RouteOn(route_on).label}」的受理单位。")

    def mutate(c: Case, ctx: Context):
        c.result = f"调解不成：{reason}"[:2000]
        return {"summary": f"调解不成（{RouteOn(route_on).label}）"}

    case = case_transition(
        case=mediation.case, action="mediation_fail", by=by, comment=reason, mutate=mutate,
        expected_version=expected_version,
    )
    case = case_record_failed_mediation(case=case, by=by, reason=reason)
    m = _lock_mediation(mediation.pk)
    m.outcome, m.ended_at, m.failure_reason, m.route_on = Outcome.FAILED, case.updated_at, reason, route_on
    if is_referral:
        m.route_unit = referral.referring_unit  # returned with the outcome report (referral_report)
    else:
        if unit is not None:
            case = _route_to_unit(case, by=by, unit=unit, route_on=route_on, reason=reason)
            m.route_unit, m.routed_at = unit, case.updated_at
        else:
            case = _route_close(case, by=by, reason=reason)
            m.routed_at = case.updated_at
    m.save()
    m.case = case
    return m


def _route_to_unit(case: Case, *, by: User, unit: Unit, route_on: str, reason: str) -> Case:
    label = RouteOn(route_on).label

    def mutate(c: Case, ctx: Context):
        c.owning_unit = unit
        # The mediator's part is done: the matter leaves their queue (their view of it stays).
        CaseAssignment.objects.filter(case=c, role=AssignmentRole.MEDIATOR, is_active=True).update(is_active=False)
        return {"summary": f"调解不成，{label}：移送 {unit.name}"}

    case = case_transition(case=case, action="mediation_route", by=by, comment=reason, mutate=mutate)
    notify(
        users=User.objects.filter(memberships__unit=unit, memberships__is_active=True, is_active=True).distinct(),
        case=case, kind="mediation_routed", title=f"调解不成移送（{label}）：{case.tracking_no}",
        body=f"{case.title}。调解不成原因：{reason}", dedupe_key=f"mediation-routed:{case.pk}:{case.version}",
        sms=True,
    )
    return case


def _closed_on_time(c: Case, now: dt.datetime) -> bool:
    return c.overdue_count == 0 and (c.due_at is None or now <= c.due_at)


def _route_close(case: Case, *, by: User, reason: str) -> Case:
    def mutate(c: Case, ctx: Context):
        c.closed_at = ctx.now
        c.closed_on_time = _closed_on_time(c, ctx.now)
        CaseAssignment.objects.filter(case=c, role=AssignmentRole.MEDIATOR, is_active=True).update(is_active=False)
        return {"summary": "调解不成，终止调解，已告知当事人依法维权途径"}

    return case_transition(case=case, action="mediation_route_close", by=by, comment=reason, mutate=mutate)


@transaction.atomic
def mediation_follow_up(
    *,
    mediation: Mediation,
    by: User,
    performance: str,
    satisfaction: str,
    note: str = "",
    performed_amount: Decimal | None = None,
    expected_version: int | None = None,
) -> Mediation:
    """履行回访: how the agreement was performed and whether the parties are satisfied; closes the case.

    Before the performance deadline only a completed performance can be recorded.
    """
    if performance not in (Performance.FULL, Performance.PARTIAL, Performance.NONE):
        raise DomainError("请选择履行情况。")
    if satisfaction not in Satisfaction.values:
        raise DomainError("请选择回访满意度。")
    _check_amount(performed_amount, "已履行金额")
    agreement = Agreement.objects.filter(pk=mediation.pk, status=AgreementStatus.SIGNED).first()
    if agreement is None:
        raise DomainError("没有已签署的调解协议。")
    if mediation.case.kind == CaseKind.REFERRAL:
        raise DomainError("委派/移送调解的事项须向委派单位反馈结果，由其跟进履行。")
    today = timezone.localdate()
    if agreement.performance_due and today <= agreement.performance_due and performance != Performance.FULL:
        raise DomainError(f"履行期限（{agreement.performance_due:%Y-%m-%d}）尚未届满，届满后再回访。")
    if agreement.amount is not None and performed_amount is not None and performed_amount > agreement.amount:
        raise DomainError("已履行金额不能超过协议金额。")
    if performed_amount is None and performance == Performance.FULL:
        performed_amount = agreement.amount

    def mutate(c: Case, ctx: Context):
        c.satisfaction = satisfaction
        c.closed_at = ctx.now
        c.closed_on_time = _closed_on_time(c, ctx.now)
        return {"summary": f"履行回访：{Performance(performance).label}，{Satisfaction(satisfaction).label}"}

    case = case_transition(
        case=mediation.case, action="mediation_follow_up", by=by, comment=note, mutate=mutate,
        expected_version=expected_version,
    )
    agreement.performance, agreement.performed_amount = performance, performed_amount
    agreement.followed_up_at, agreement.follow_up_note = case.updated_at, note
    agreement.save()
    m = _lock_mediation(mediation.pk)
    m.case = case
    return m


# ============================================================================================
# Judicial confirmation (司法确认)
# ============================================================================================


def _court_in_county(case: Case, court: Unit) -> None:
    if court.kind not in (DepartmentKind.COURT, DepartmentKind.TRIBUNAL) or not court.is_active:
        raise DomainError(f"{court.name} 不是人民法院或人民法庭。")
    if not _in_county(case, court.region):
        raise DomainError(f"{court.name} 不在本县。")


@transaction.atomic
def confirmation_apply(*, agreement: Agreement, by: User, court: Unit, applied_on: dt.date) -> Agreement:
    """The parties apply together to the court for judicial confirmation, within 30 days of the
    agreement taking effect (人民调解法 第三十三条)."""
    agreement = Agreement.objects.select_for_update().select_related("mediation__case").get(pk=agreement.pk)
    case = agreement.mediation.case
    if not agreement.is_signed:
        raise DomainError("调解协议签署生效后才能申请司法确认。")
    if agreement.confirmation in (Confirmation.APPLIED, Confirmation.CONFIRMED):
        raise DomainError("已申请司法确认。")
    _court_in_county(case, court)
    signed_on = local_date(agreement.signed_at)
    if applied_on < signed_on:
        raise DomainError("申请日期不能早于协议生效日期。")
    if applied_on > timezone.localdate():
        raise DomainError("申请日期不能晚于今天。")
    if applied_on > signed_on + dt.timedelta(days=CONFIRMATION_WINDOW_DAYS):
        raise DomainError(
            f"已超过申请期限：应自协议生效之日（{signed_on:%Y-%m-%d}）起 {CONFIRMATION_WINDOW_DAYS} 日内申请司法确认。"
        )

    def mutate(c: Case, ctx: Context):
        return {"summary": f"当事人向{court.name}申请司法确认（{applied_on:%Y-%m-%d}）"}

    case_transition(case=case, action="mediation_confirmation", by=by, mutate=mutate, restart_clock=False)
    agreement.confirmation, agreement.confirmation_court, agreement.confirmation_applied_on = (
        Confirmation.APPLIED, court, applied_on,
    )
    agreement.confirmation_decided_on, agreement.confirmation_ref, agreement.confirmation_note = None, "", ""
    agreement.save()
    return agreement


@transaction.atomic
def confirmation_record(
    *, agreement: Agreement, by: User, confirmed: bool, decided_on: dt.date, court_ref: str, note: str = ""
) -> Agreement:
    """The court's ruling on the application: confirmed valid (enforceable) or rejected."""
    agreement = Agreement.objects.select_for_update().select_related("mediation__case").get(pk=agreement.pk)
    if agreement.confirmation != Confirmation.APPLIED:
        raise DomainError("尚未申请司法确认，或法院已作出裁定。")
    court_ref = (court_ref or "").strip()
    if not court_ref:
        raise DomainError("请填写法院案号。")
    if decided_on < agreement.confirmation_applied_on:
        raise DomainError("裁定日期不能早于申请日期。")
    if decided_on > timezone.localdate():
        raise DomainError("裁定日期不能晚于今天。")
    result = Confirmation.CONFIRMED if confirmed else Confirmation.REJECTED

    def mutate(c: Case, ctx: Context):
        return {"summary": f"司法确认：{result.label}（{court_ref}，{decided_on:%Y-%m-%d}）"}

    case_transition(
        case=agreement.mediation.case, action="mediation_confirmation", by=by, comment=note, mutate=mutate,
        restart_clock=False,
    )
    agreement.confirmation, agreement.confirmation_decided_on = result, decided_on
    agreement.confirmation_ref, agreement.confirmation_note = court_ref[:60], (note or "")[:300]
    agreement.save()
    return agreement


# ============================================================================================
# Referrals (诉调 / 警调 / 访调对接)
# ============================================================================================


def _may_register_referral(by: User, unit: Unit, region: Region, center: Center) -> bool:
    if by.is_superuser:
        return True
    posts = Membership.objects.filter(user=by, is_active=True)
    if posts.filter(unit=unit).exists():
        return True
    return scope_for(by).covers_path(region.path) and posts.filter(
        center__isnull=False, center__region__path__in=[center.region.path, *_above(center)]
    ).exists()


def _above(center: Center) -> list[str]:
    from centers.selectors import ancestor_paths

    return ancestor_paths(center.region.path, include_self=False)


@transaction.atomic
def referral_receive(
    *,
    by: User,
    kind: str,
    referring_unit: Unit,
    external_no: str,
    region: Region,
    title: str,
    category: str,
    parties: Sequence[PartyInput],
    description: str = "",
    deadline: dt.date | None = None,
    contact: str = "",
    owning_center: Center | None = None,
    source_case: Case | None = None,
    amount: Decimal | None = None,
    people_count: int = 1,
    now: dt.datetime | None = None,
) -> Referral:
    """A court, police station or petition bureau refers a matter to mediation: a case of kind
    "referral" opens (accepted by the receiving center), with the referral's number and deadline."""
    now = now or timezone.now()
    if kind not in ReferralKind.values:
        raise DomainError("请选择对接类型。")
    if referring_unit.kind not in REFERRING_UNIT_KINDS[kind] or not referring_unit.is_active:
        raise DomainError(f"{referring_unit.name} 不能发起「{ReferralKind(kind).label}」。")
    if not region.path.startswith(county_of(referring_unit.region).path):
        raise DomainError("纠纷发生地不在委派单位所在县。")
    external_no = (external_no or "").strip()
    if not external_no:
        raise DomainError("请填写委派/移送编号（法院案号、警情编号或信访件编号）。")
    if Referral.objects.filter(referring_unit=referring_unit, external_no=external_no).exists():
        raise DomainError(f"{referring_unit.name} 的 {external_no} 已经登记过。")
    if deadline is not None and deadline < timezone.localdate(now):
        raise DomainError("委派方要求的期限不能早于今天。")
    if not [p for p in parties if (p.name or "").strip()]:
        raise DomainError("请至少填写一方当事人。")
    if kind == ReferralKind.PETITION and source_case is not None and source_case.kind != CaseKind.PETITION:
        raise DomainError("访调对接须关联原信访件。")
    owning_center = owning_center or center_of_region(region)
    if owning_center is None:
        raise DomainError("该地点没有对应的综治中心。")
    if not region.path.startswith(owning_center.region.path):
        raise DomainError(f"纠纷发生地不在 {owning_center.name} 的辖区内。")
    if not _may_register_referral(by, referring_unit, region, owning_center):
        raise NotAllowed("只有委派/移送单位或接收中心的工作人员可以登记。")
    if source_case is not None and not lifecycle.can_read(by, source_case):
        raise NotAllowed("您无权查看所关联的原事项。")
    channel = source_case.channel if (kind == ReferralKind.PETITION and source_case) else REFERRAL_CHANNEL[kind]
    case = case_register_with_parties(
        by=by, parties=[p for p in parties if (p.name or "").strip()], kind=CaseKind.REFERRAL, channel=channel,
        category=category, title=title, description=description, region=region, owning_center=owning_center,
        amount=amount, people_count=people_count, status=Status.ACCEPTED, phase=kind,
        source_ref="", now=now,
    )
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                case=case, kind=kind, referring_unit=referring_unit, external_no=external_no[:64],
                contact=(contact or "").strip()[:100], source_case=source_case, received_at=case.created_at,
                deadline=deadline,
            )
    except IntegrityError as exc:
        raise DomainError(f"{referring_unit.name} 的 {external_no} 已经登记过。") from exc
    if source_case is not None:
        case.related.add(source_case)

        def mutate(c: Case, ctx: Context):
            return {"summary": f"移交人民调解：{case.tracking_no}（{owning_center.name}）"}

        case_transition(case=source_case, action="mediation_handed_over", by=None, mutate=mutate, restart_clock=False)
    return referral


@transaction.atomic
def referral_report(
    *, referral: Referral, by: User, text: str, expected_version: int | None = None
) -> Referral:
    """Report the outcome to the referring body (with the agreement, or the failure for it to take
    the matter on: the court files the suit, the police or petition bureau handle it), and close."""
    text = (text or "").strip()
    if not text:
        raise DomainError("请填写结果告知内容。")
    mediation = Mediation.objects.filter(pk=referral.pk).first()
    if mediation is None or mediation.outcome == Outcome.PENDING:
        raise DomainError("调解尚未终结，不能反馈结果。")
    facts: dict[str, Any] = {}

    def mutate(c: Case, ctx: Context):
        facts["due"] = c.due_at
        facts["on_time"] = c.due_at is None or ctx.now <= c.due_at
        c.closed_at = ctx.now
        c.closed_on_time = _closed_on_time(c, ctx.now)
        CaseAssignment.objects.filter(case=c, role=AssignmentRole.MEDIATOR, is_active=True).update(is_active=False)
        return {"summary": f"向{referral.referring_unit.name}反馈调解结果：{Outcome(mediation.outcome).label}"}

    case = case_transition(
        case=referral.case, action="referral_report", by=by, comment=text, mutate=mutate,
        expected_version=expected_version,
    )
    r = Referral.objects.select_for_update().select_related("referring_unit").get(pk=referral.pk)
    r.reported_at, r.reported_by, r.report_outcome, r.report_text = case.updated_at, by, mediation.outcome, text
    r.report_due_at, r.report_on_time = facts["due"], facts["on_time"]
    r.save()
    from django.urls import reverse

    notify(
        users=User.objects.filter(
            memberships__unit=r.referring_unit, memberships__is_active=True, is_active=True
        ).distinct(),
        case=case, kind="referral_report",
        title=f"{r.short}结果：{r.external_no} {Outcome(mediation.outcome).label}", body=text[:500],
        dedupe_key=f"referral-report:{r.pk}", sms=True, url=reverse("mediation:referral", kwargs={"pk": r.pk}),
    )
    r.case = case
    return r


def on_referral_overdue(*, case: Case, step_no: int, due_at: dt.datetime, now: dt.datetime) -> None:
    """A referral's step went overdue: it stays with its mediator (the referring body chose the
    mediation), red; the mediator, the center and the referring body are told once."""
    referral = Referral.objects.filter(pk=case.pk).select_related("referring_unit").first()
    users = list(center_staff(case.owning_center))
    users += [a.user for a in CaseAssignment.objects.filter(case=case, is_active=True).select_related("user")]
    if referral is not None:
        users += list(
            User.objects.filter(
                memberships__unit=referral.referring_unit, memberships__is_active=True, is_active=True
            ).distinct()
        )
    label = f"{referral.short}（{referral.external_no}）" if referral else ""
    notify(
        users=users, case=case, kind="referral_overdue",
        title=f"委派调解超期：{case.tracking_no} {label}", body=f"{case.title}。期限 {fmt(due_at)}",
        dedupe_key=f"referral-overdue:{case.pk}:{step_no}:{due_at.isoformat()}", sms=True, now=now,
    )
