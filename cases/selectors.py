"""Reads on cases. Every list takes the user and goes through the jurisdiction gate."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from centers.jurisdiction import get_for_user_or_404, restrict
from centers.models import Center

from .models import (
    OPEN_STATES,
    Case,
    CaseAssignment,
    CaseParty,
    MeetingTask,
    Notification,
    SweepRun,
    WarningLevel,
)


def case_get_for_user(user: Any, pk: int) -> Case:
    """The case, or 404 for "not there" and "not yours" alike."""
    qs = Case.objects.select_related("region", "owning_center__region", "owning_unit", "registered_by", "town")
    return get_for_user_or_404(qs, user, pk=pk)


def case_list_for_user(user: Any) -> QuerySet[Case]:
    return restrict(Case.objects.all(), user)


COLOUR_ORDER = SqlCase(
    When(warning_level=WarningLevel.RED, then=Value(0)),
    When(warning_level=WarningLevel.YELLOW, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def my_queue(user: Any) -> QuerySet[Case]:
    """What this user must act on: cases assigned to them, and open cases owned by their center/unit.

    Sorted red first, then by due time.
    """
    from centers.models import Membership

    from .lifecycle import OWNER_ROLES

    memberships = Membership.objects.filter(user=user, is_active=True)
    centers = list(memberships.filter(role__in=OWNER_ROLES, center__isnull=False).values_list("center_id", flat=True))
    units = list(memberships.filter(unit__isnull=False).values_list("unit_id", flat=True))
    # The user's open assignments as a list of ids (a handful), not a subquery: with literals the
    # planner can OR an index scan on the primary key with one on (owning_center, status) instead
    # of filtering every open case of the county through a hashed subplan.
    assigned = list(
        CaseAssignment.objects.filter(user=user, is_active=True, case__status__in=OPEN_STATES).values_list(
            "case_id", flat=True
        )
    )
    q = Q(pk__in=assigned)
    if centers:
        q |= Q(owning_center_id__in=centers, owning_unit__isnull=True)
    if units:
        q |= Q(owning_unit_id__in=units)
    return (
        Case.objects.filter(q, status__in=OPEN_STATES)
        .select_related("owning_center", "region", "registered_by")
        .annotate(colour_order=COLOUR_ORDER)
        .order_by("colour_order", "due_at", "pk")
    )


def last_sweep_at() -> dt.datetime | None:
    run = SweepRun.objects.order_by("-started_at").only("started_at", "finished_at").first()
    if run is None:
        return None
    return run.finished_at or run.started_at


def unread_count(user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --------------------------------------------------------------------------------------------
# The case list (county/town staff): filters, export, the people a case may be handed to
# --------------------------------------------------------------------------------------------

# A full tracking number typed into the search box (县代码-年-序号): one indexed prefix lookup.
TRACKING_NO_RE = re.compile(r"^\d{6}-\d{4}(-\d{1,6})?$")


@dataclass(frozen=True)
class CaseFilters:
    """The list's filters, already validated (by cases.forms.CaseFilterForm)."""

    status: str = ""
    warning_level: str = ""
    level: str = ""
    category: str = ""
    channel: str = ""
    kind: str = ""
    region_path: str = ""  # a place in the user's scope: everything under it
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    q: str = ""


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def case_search(user: Any, filters: CaseFilters) -> QuerySet[Case]:
    """The cases `user` may read that match `filters`, newest first.

    The one query behind the list page and its export, so the export holds exactly the rows the
    list shows. Everything is an indexed column or prefix (`region_path`, `created_at`, the
    status/colour indexes); text search falls back to a scan only for free text.
    """
    qs = case_list_for_user(user)
    exact = {
        "status": filters.status,
        "warning_level": filters.warning_level,
        "level": filters.level,
        "category": filters.category,
        "channel": filters.channel,
        "kind": filters.kind,
    }
    qs = qs.filter(**{k: v for k, v in exact.items() if v})
    if filters.region_path:
        qs = qs.filter(region_path__startswith=filters.region_path)
    if filters.created_from:
        qs = qs.filter(created_at__gte=_day_start(filters.created_from))
    if filters.created_to:
        qs = qs.filter(created_at__lt=_day_start(filters.created_to + dt.timedelta(days=1)))
    text = filters.q.strip()
    if text:
        if TRACKING_NO_RE.match(text):
            qs = qs.filter(tracking_no__startswith=text)
        else:
            qs = qs.filter(
                Q(tracking_no__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
            )
    return qs.order_by("-created_at", "-pk")


def case_list_rows(qs: QuerySet[Case]) -> QuerySet[Case]:
    """What a list row shows, in one query (no N+1): the place, the owner, the unit."""
    return qs.select_related("region", "town", "owning_center", "owning_unit", "registered_by").defer(
        "description", "due_explanation"
    )


EXPORT_COLUMNS = (
    "pk", "tracking_no", "kind", "channel", "category", "title", "status", "warning_level", "warning_reasons",
    "level", "owning_center__name", "owning_unit__name", "town__name", "region__name", "address", "occurred_at",
    "amount", "people_count", "created_at", "due_at", "closed_at", "satisfaction", "closed_on_time",
)


def case_export_rows(qs: QuerySet[Case]) -> QuerySet:
    """What an export row needs, as plain tuples (no model instances: an export may be 100k rows)."""
    return qs.values_list(*EXPORT_COLUMNS)


def case_parties_masked(case_ids: list[int]) -> dict[int, list[tuple[str, str, str, str]]]:
    """(role, name, masked ID, masked phone) of each case's parties, for a chunk of cases in one query."""
    out: dict[int, list[tuple[str, str, str, str]]] = {}
    rows = (
        CaseParty.objects.filter(case_id__in=case_ids)
        .order_by("case_id", "pk")
        .values_list("case_id", "role", "person__name", "person__id_number_masked", "person__phone_masked")
    )
    for case_id, role, name, id_masked, phone_masked in rows:
        out.setdefault(case_id, []).append((role, name, id_masked, phone_masked))
    return out


def case_detail_parts(case: Case) -> dict[str, Any]:
    """Everything the case page shows besides the case itself, each in one query."""
    return {
        "parties": list(case.parties.select_related("person").order_by("pk")),
        "assignments": list(
            case.assignments.filter(is_active=True).select_related("user", "assigned_by").order_by("assigned_at")
        ),
        "timeline": list(
            case.timeline.select_related("actor", "from_center", "to_center").order_by("-at", "-pk")
        ),
        "attachments": list(case.attachments.select_related("uploaded_by").order_by("uploaded_at")),
        "packages": list(
            case.leader_packages.select_related("leader", "created_by")
            .prefetch_related("task_force", "task_force_units")
            .order_by("-created_at")
        ),
        "meetings": list(
            case.joint_meetings.select_related("center", "created_by")
            .prefetch_related("participant_units", Prefetch("tasks", queryset=MeetingTask.objects.select_related("unit", "assignee")))
            .order_by("-held_at")
        ),
    }


def assignable_users(case: Case) -> QuerySet:
    """Whom a case may be handed to: staff of its owning center or unit, and the mediators whose
    post lies on the case's line upward (its village, town or county, or a unit there)."""
    from centers.models import Membership, Role, User
    from centers.selectors import ancestor_paths

    line = ancestor_paths(case.region_path)
    owners = Q(center=case.owning_center_id)
    if case.owning_unit_id:
        owners |= Q(unit=case.owning_unit_id)
    mediators = Q(role=Role.MEDIATOR) & (Q(center__region__path__in=line) | Q(unit__region__path__in=line))
    posts = Membership.objects.filter(owners | mediators, is_active=True).values("user_id")
    active_posts = Membership.objects.filter(is_active=True).select_related("center", "unit").order_by("pk")
    return (
        User.objects.filter(pk__in=posts, is_active=True)
        .prefetch_related(Prefetch("memberships", queryset=active_posts))
        .order_by("full_name", "username")
    )


def transfer_units(case: Case, user: Any) -> QuerySet:
    """Departments a case may be transferred to: those on the owning center's line upward (its
    town's police station, the county bureaus) and those inside the user's own jurisdiction."""
    from centers.models import Unit
    from centers.selectors import ancestor_paths

    line = ancestor_paths(case.owning_center.region.path)
    in_scope = restrict(Unit.objects.all(), user).values("pk")
    return (
        Unit.objects.filter(Q(region__path__in=line) | Q(pk__in=in_scope), is_active=True)
        .select_related("region")
        .order_by("region__depth", "name")
    )


def package_leaders(case: Case) -> QuerySet:
    """Leaders who may take a case (领导包案): leaders of its owning center and the centers above."""
    from centers.models import Membership, User
    from centers.selectors import ancestor_paths

    from .lifecycle import LEADER_ROLES

    line = ancestor_paths(case.owning_center.region.path)
    posts = Membership.objects.filter(
        is_active=True, role__in=LEADER_ROLES, center__region__path__in=line
    ).values("user_id")
    return User.objects.filter(pk__in=posts, is_active=True).order_by("full_name", "username")


def meeting_center_for(user: Any, case: Case) -> Center | None:
    """The center in whose name `user` calls a joint meeting on `case`: their own center on the
    case's line upward, the nearest one first."""
    from centers.models import Membership

    owner_path = case.owning_center.region.path
    posts = (
        Membership.objects.filter(user=user, is_active=True, center__isnull=False)
        .select_related("center__region")
        .order_by("-center__region__depth")
    )
    for m in posts:
        if owner_path.startswith(m.center.region.path):
            return m.center
    return None


def inbox_for(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=user).select_related("case")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-pk")


def line_units(case: Case) -> QuerySet:
    """Departments on the case's line upward (village, town, county): a task force's members."""
    from centers.models import Unit
    from centers.selectors import ancestor_paths

    line = ancestor_paths(case.region_path)
    return Unit.objects.filter(region__path__in=line, is_active=True).order_by("region__depth", "name")


def line_staff(case: Case) -> QuerySet:
    """Staff of the centers and departments on the case's line upward, and of its owner."""
    from centers.models import Membership, User
    from centers.selectors import ancestor_paths

    line = ancestor_paths(case.region_path)
    posts = Membership.objects.filter(
        Q(center__region__path__in=line) | Q(unit__region__path__in=line) | Q(center=case.owning_center_id),
        is_active=True,
    ).values("user_id")
    return User.objects.filter(pk__in=posts, is_active=True).order_by("full_name", "username")
