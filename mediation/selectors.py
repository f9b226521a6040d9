"""Reads on mediation. Every list takes the user and goes through the jurisdiction gate; figures
come from cases.metrics (the one definition of every figure), computed by the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cases import metrics
from cases.models import OPEN_STATES, Case, CaseKind, Category, Status
from centers.jurisdiction import get_for_user_or_404, restrict
from centers.models import Region, RegionKind
from centers.selectors import ancestor_of_kind, ancestor_paths, county_of

from .models import (
    PHASE_PERFORMANCE,
    Agreement,
    AgreementStatus,
    CommitteeKind,
    Mediation,
    MediationCommittee,
    Mediator,
    MediatorGrade,
    Outcome,
    Referral,
)

MEDIATION_RELATED = (
    "case",
    "case__region",
    "case__owning_center__region",
    "case__owning_unit",
    "committee",
    "mediator__user",
)


def mediation_get_for_user(user: Any, pk: int) -> Mediation:
    """The mediation, or 404 for "not there" and "not yours" alike."""
    return get_for_user_or_404(Mediation.objects.select_related(*MEDIATION_RELATED), user, pk=pk)


def mediation_list_for_user(user: Any, *, filters: dict[str, Any] | None = None) -> QuerySet[Mediation]:
    qs = restrict(Mediation.objects.select_related(*MEDIATION_RELATED), user)
    f = filters or {}
    if f.get("outcome"):
        qs = qs.filter(outcome=f["outcome"])
    if f.get("status"):
        qs = qs.filter(case__status=f["status"])
    if f.get("committee"):
        qs = qs.filter(committee_id=f["committee"])
    if f.get("mediator"):
        qs = qs.filter(mediator_id=f["mediator"])
    if f.get("category"):
        qs = qs.filter(case__category=f["category"])
    if f.get("q"):
        q = f["q"].strip()
        qs = qs.filter(Q(case__tracking_no__icontains=q) | Q(case__title__icontains=q))
    return qs.order_by("-assigned_at", "-pk")


def awaiting_assignment(user: Any) -> QuerySet[Case]:
    """Open disputes and referrals in the user's jurisdiction that no mediator has yet."""
    return (
        restrict(Case.objects.all(), user)
        .filter(
            kind__in=(CaseKind.DISPUTE, CaseKind.REFERRAL),
            status__in=(Status.REGISTERED, Status.ACCEPTED),
            mediation__isnull=True,
        )
        .select_related("region", "owning_center")
        .order_by("due_at", "pk")
    )


def mediator_of(user: Any) -> Mediator | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Mediator.objects.filter(user=user).select_related("committee", "region").first()


def mediator_queue(mediator: Mediator) -> QuerySet[Mediation]:
    """What the mediator still has to do, most urgent first: mediations in progress, and concluded
    ones waiting for their follow-up visit or their report to the referring body. A failed dispute
    routed on to a court or an arbitration body has left their hands."""
    todo = Q(outcome=Outcome.PENDING, case__status__in=OPEN_STATES) | Q(
        case__status__in=(Status.RESOLVED, Status.UNRESOLVED)
    )
    return (
        Mediation.objects.filter(todo, mediator=mediator)
        .select_related(*MEDIATION_RELATED)
        .annotate(session_count=Count("sessions"))
        .order_by("case__due_at", "pk")
    )


def follow_ups_due(user: Any, *, within_days: int = 7) -> QuerySet[Agreement]:
    """Signed agreements awaiting their performance follow-up, due within `within_days`."""
    horizon = timezone.localdate() + dt.timedelta(days=within_days)
    return (
        restrict(Agreement.objects.all(), user)
        .filter(
            status=AgreementStatus.SIGNED,
            mediation__case__status=Status.RESOLVED,
            mediation__case__phase=PHASE_PERFORMANCE,
            performance_due__lte=horizon,
        )
        .select_related("mediation__case", "mediation__mediator__user")
        .order_by("performance_due")
    )


def committees_for_user(user: Any) -> QuerySet[MediationCommittee]:
    """Committees the user may see: those in their area and those above it that serve it (a town's
    staff see the county's professional committees too)."""
    from centers.jurisdiction import scope_for

    scope = scope_for(user)
    qs = MediationCommittee.objects.select_related("region", "host_unit")
    if scope.unrestricted:
        return qs.order_by("region__path", "kind", "name")
    q = Q(pk__in=[])
    for p in scope.paths:
        q |= Q(region__path__startswith=p) | Q(region__path__in=ancestor_paths(p))
    if scope.unit_ids:
        from centers.models import Unit

        for path in Unit.objects.filter(pk__in=scope.unit_ids).values_list("region__path", flat=True):
            q |= Q(region__path__startswith=path) | Q(region__path__in=ancestor_paths(path))
    return qs.filter(q).order_by("region__path", "kind", "name")


def referral_get_for_user(user: Any, pk: int) -> Referral:
    return get_for_user_or_404(
        Referral.objects.select_related("case", "case__region", "case__owning_center", "referring_unit", "source_case"),
        user,
        pk=pk,
    )


def referral_list_for_user(user: Any, *, filters: dict[str, Any] | None = None) -> QuerySet[Referral]:
    qs = restrict(
        Referral.objects.select_related(
            "case", "case__region", "case__owning_center", "referring_unit", "case__mediation__mediator__user"
        ),
        user,
    )
    f = filters or {}
    if f.get("kind"):
        qs = qs.filter(kind=f["kind"])
    if f.get("open") == "1":
        qs = qs.filter(case__status__in=OPEN_STATES)
    if f.get("unit"):
        qs = qs.filter(referring_unit_id=f["unit"])
    return qs.order_by("-received_at", "-pk")


# ============================================================================================
# Suggestions: which mediator for this case, and why
# ============================================================================================

# Points of each reason (documented on the assignment page). Domain first, then place, then load.
DOMAIN_POINTS = 40  # the mediator's own speciality is the case's category
COMMITTEE_DOMAIN_POINTS = 20  # a member of a professional committee for the category
SAME_VILLAGE_POINTS = 30
SAME_TOWN_POINTS = 20
COUNTY_POINTS = 10  # a county-level mediator serves every town
GRADE_POINTS = {MediatorGrade.CHIEF: 6, MediatorGrade.SENIOR: 4, MediatorGrade.INTERMEDIATE: 2}
LOAD_PENALTY = 4  # per open mediation in hand
FULL_PENALTY = 100  # at or above the mediator's own limit


@dataclass
class Suggestion:
    mediator: Mediator
    committee: MediationCommittee
    score: int
    load: int
    reasons: list[str] = field(default_factory=list)
    full: bool = False

    @property
    def why(self) -> str:
        return "；".join(self.reasons)


def mediators_with_load(qs: QuerySet[Mediator]) -> QuerySet[Mediator]:
    """Each mediator with `load`: the mediations in their hands that are still open."""
    return qs.select_related("user", "committee__region", "region").annotate(
        load=Count(
            "mediations",
            filter=Q(mediations__outcome=Outcome.PENDING, mediations__case__status__in=OPEN_STATES),
        )
    ).order_by("committee__region__path", "committee__name", "user__full_name")


def mediators_in_county(region: Region) -> QuerySet[Mediator]:
    """Active mediators of the county of `region`, each with `load` (open mediations in hand)."""
    county = county_of(region)
    return mediators_with_load(
        Mediator.objects.filter(is_active=True, user__is_active=True, committee__is_active=True).filter(
            Q(region__path__startswith=county.path) | Q(committee__region__path__startswith=county.path)
        )
    )


def _locality(case_region: Region, village: Region | None, town: Region | None, m: Mediator) -> tuple[int, str]:
    path = m.region.path
    if m.region.kind in (RegionKind.COUNTY, RegionKind.CITY, RegionKind.PROVINCE):
        return COUNTY_POINTS, f"县级调解员（{m.region.name}）"
    if village is not None and path.startswith(village.path):
        return SAME_VILLAGE_POINTS, f"同村（社区）：{village.name}"
    if town is not None and path.startswith(town.path):
        return SAME_TOWN_POINTS, f"同乡镇（街道）：{town.name}"
    return 0, f"其他乡镇：{m.region.name}"


def suggest_mediators(case: Case, *, limit: int = 10) -> list[Suggestion]:
    """Mediators ranked for `case` by domain match, locality and current load, each with its reasons.

    The score is the sum of the points above; ties go to the lighter load, then the name. The
    dispatcher decides: this only orders the list and says why.
    """
    region = case.region
    village = ancestor_of_kind(region, RegionKind.VILLAGE)
    town = ancestor_of_kind(region, RegionKind.TOWN)
    category = case.category
    label = Category(category).label if category in Category.values else category
    out: list[Suggestion] = []
    for m in mediators_in_county(region):
        score, reasons = 0, []
        if category in (m.domains or []):
            score += DOMAIN_POINTS
            reasons.append(f"擅长{label}")
        committee = m.committee
        if committee.kind == CommitteeKind.PROFESSIONAL and category in (committee.domains or []):
            score += COMMITTEE_DOMAIN_POINTS
            reasons.append(f"{committee.name}（专业调委会）")
        points, where = _locality(region, village, town, m)
        score += points
        reasons.append(where)
        grade_points = GRADE_POINTS.get(m.grade, 0)
        if grade_points:
            score += grade_points
            reasons.append(m.get_grade_display())
        full = m.load >= m.max_load
        score -= LOAD_PENALTY * m.load
        if full:
            score -= FULL_PENALTY
            reasons.append(f"已满负荷：在办 {m.load} 件（上限 {m.max_load} 件）")
        else:
            reasons.append(f"在办 {m.load} 件（上限 {m.max_load} 件）")
        out.append(Suggestion(mediator=m, committee=committee, score=score, load=m.load, reasons=reasons, full=full))
    out.sort(key=lambda s: (-s.score, s.load, s.mediator.user.display_name, s.mediator.pk))
    return out[:limit] if limit else out


# ============================================================================================
# Figures (cases.metrics is the one definition; these only choose the set and the grouping)
# ============================================================================================

GROUPS = {
    "committee": ("committee", "committee__name"),
    "mediator": ("mediator", "mediator__user__full_name"),
    "domain": ("case__category",),
    "month": ("month",),
}


def mediation_figures(qs: QuerySet[Mediation], *, period: metrics.Period = metrics.ALL_TIME) -> dict[str, Any]:
    return metrics.mediation_figures(qs, period=period)


def mediation_figures_by(
    qs: QuerySet[Mediation], by: str, *, period: metrics.Period = metrics.ALL_TIME
) -> list[dict[str, Any]]:
    """Figures per committee, mediator, domain (category) or month of conclusion."""
    if by not in GROUPS:
        raise ValueError(by)
    if by == "month":
        qs = qs.annotate(month=TruncMonth("ended_at", tzinfo=metrics.LOCAL))
    rows = metrics.mediation_figures_by(qs, list(GROUPS[by]), period=period)
    if by == "domain":
        for r in rows:
            r["label"] = Category(r["case__category"]).label if r["case__category"] in Category.values else "—"
    elif by == "committee":
        for r in rows:
            r["label"] = r["committee__name"]
    elif by == "mediator":
        for r in rows:
            r["label"] = r["mediator__user__full_name"]
    else:
        for r in rows:
            r["label"] = timezone.localtime(r["month"], metrics.LOCAL).strftime("%Y-%m") if r["month"] else "未终结"
    return rows


def referral_figures_by_kind(qs: QuerySet[Referral], *, period: metrics.Period = metrics.ALL_TIME) -> list[dict]:
    return metrics.referral_figures_by(qs, ["kind"], period=period)
