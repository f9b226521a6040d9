"""The audit log, read-only: reveals of full numbers and exports (RevealLog) and every recorded
change to a matter (django-simple-history), for center leaders, leadership and administrators:
the county's see the whole county, a town's its own town.

Scoped like everything else: a change is shown when the matter's place lies under the viewer's
centers; an access entry when the person who acted holds (or held) a post there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from centers.models import Center, Membership, Role

from .models import Case, RevealLog

AUDIT_ROLES = (Role.CENTER_LEADER, Role.SYSADMIN, Role.LEADERSHIP)


def can_audit(user) -> bool:
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, is_active=True, role__in=AUDIT_ROLES, center__isnull=False).exists()


def audit_paths(user) -> tuple[str, ...] | None:
    """The region paths the viewer audits (None: everything, for a superuser)."""
    if user.is_superuser:
        return None
    centers = Center.objects.filter(
        memberships__user=user, memberships__is_active=True, memberships__role__in=AUDIT_ROLES
    ).values_list("region__path", flat=True)
    return tuple(sorted(set(centers)))


@dataclass(frozen=True)
class AuditFilters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    who: str = ""  # username or name, contains
    tracking_no: str = ""


def _dates(qs: QuerySet, field: str, f: AuditFilters) -> QuerySet:
    if f.date_from:
        qs = qs.filter(**{f"{field}__date__gte": f.date_from})
    if f.date_to:
        qs = qs.filter(**{f"{field}__date__lte": f.date_to})
    return qs


def access_entries(user, f: AuditFilters) -> QuerySet[RevealLog]:
    qs = RevealLog.objects.select_related("user", "person")
    paths = audit_paths(user)
    if paths is not None:
        q = Q(pk__in=[])
        for p in paths:
            q |= Q(user__memberships__center__region__path__startswith=p)
            q |= Q(user__memberships__unit__region__path__startswith=p)
        qs = qs.filter(pk__in=RevealLog.objects.filter(q).values("pk"))
    if f.who:
        qs = qs.filter(Q(user__username__icontains=f.who) | Q(user__full_name__icontains=f.who))
    return _dates(qs, "at", f).order_by("-at", "-pk")


def change_entries(user, f: AuditFilters) -> QuerySet:
    qs = Case.history.select_related("history_user")
    paths = audit_paths(user)
    if paths is not None:
        q = Q(pk__in=[])
        for p in paths:
            q |= Q(region_path__startswith=p)
        qs = qs.filter(q)
    if f.who:
        qs = qs.filter(Q(history_user__username__icontains=f.who) | Q(history_user__full_name__icontains=f.who))
    if f.tracking_no:
        qs = qs.filter(tracking_no=f.tracking_no.strip())
    return _dates(qs, "history_date", f).order_by("-history_date", "-history_id")


def changed_fields(record) -> list[str]:
    """Labels of the fields this history row changed against the one before it."""
    if record.history_type == "+":
        return ["新建"]
    prev = record.prev_record
    if prev is None:
        return []
    delta = record.diff_against(prev)
    return [str(Case._meta.get_field(c.field).verbose_name) for c in delta.changes]
