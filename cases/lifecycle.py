"""The workflow as data: (from states, action, to state, who may do it).

"Who" is a relation between the user and the case, computed once per request:
- OWNER: staff of the owning center (dispatcher, leader, clerk) or of the owning unit;
- ASSIGNEE: assigned to the case (handler, mediator);
- ABOVE: dispatcher or leader of a center whose place is an ancestor of the owning center's —
  they may supervise, escalate, take over, reopen.
Tianque and FFCS grew a class per region for this; one table serves every kind here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from centers.jurisdiction import scope_for
from centers.models import Membership, Role

from .models import Case, CaseAssignment, Status

OWNER = "owner"
ASSIGNEE = "assignee"
ABOVE = "above"

# A center's API client account (its town system, through /api/v1/) acts for the center like its
# dispatcher on the center's own cases; it is never ABOVE (no take-over or supervision by machine).
OWNER_ROLES = frozenset(
    {
        Role.DISPATCHER, Role.CENTER_LEADER, Role.WINDOW_CLERK, Role.HALL_SUPERVISOR, Role.MEDIATOR,
        Role.COUNSELLOR, Role.API_CLIENT,
    }
)
ABOVE_ROLES = frozenset({Role.DISPATCHER, Role.CENTER_LEADER, Role.LEADERSHIP})
LEADER_ROLES = frozenset({Role.CENTER_LEADER, Role.LEADERSHIP})


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change (e.g. extend)
    who: frozenset[str]
    needs_comment: bool = False
    style: str = ""


def _t(action, label, sources, target, who, needs_comment=False, style=""):
    return Transition(action, label, frozenset(sources), target, frozenset(who), needs_comment, style)


_ACTIVE = (Status.REGISTERED, Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS)
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("accept", "受理", [Status.REGISTERED], Status.ACCEPTED, [OWNER], style="primary"),
        _t("assign", "交办", [Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS], Status.ASSIGNED, [OWNER, ABOVE]),
        _t("start", "开始办理", [Status.ACCEPTED, Status.ASSIGNED], Status.IN_PROGRESS, [OWNER, ASSIGNEE], style="primary"),
        _t("pause", "暂停计时", [Status.IN_PROGRESS], Status.WAITING, [OWNER, ASSIGNEE], needs_comment=True),
        _t("resume", "恢复计时", [Status.WAITING], Status.IN_PROGRESS, [OWNER, ASSIGNEE]),
        _t("resolve", "化解", [Status.IN_PROGRESS], Status.RESOLVED, [OWNER, ASSIGNEE], needs_comment=True, style="primary"),
        _t("fail", "未能化解", [Status.IN_PROGRESS], Status.UNRESOLVED, [OWNER, ASSIGNEE], needs_comment=True),
        _t("close", "回访办结", [Status.RESOLVED, Status.UNRESOLVED], Status.CLOSED, [OWNER], style="primary"),
        _t("escalate", "上报上级", _ACTIVE, Status.REGISTERED, [OWNER, ABOVE], needs_comment=True, style="danger"),
        _t("transfer", "转交部门", _ACTIVE, Status.ASSIGNED, [OWNER, ABOVE], needs_comment=True),
        _t("take_over", "上级提级办理", _ACTIVE + (Status.WAITING,), Status.ACCEPTED, [ABOVE], needs_comment=True),
        _t(
            "reopen", "重新办理", [Status.RESOLVED, Status.UNRESOLVED, Status.CLOSED], Status.IN_PROGRESS,
            [OWNER, ABOVE], needs_comment=True,
        ),
        _t("extend", "批准延期", _ACTIVE + (Status.RESOLVED, Status.UNRESOLVED), None, [ABOVE], needs_comment=True),
    ]
}


def register(transition: Transition) -> None:
    """Add a kind's own transition (called from an app's AppConfig.ready())."""
    existing = TRANSITIONS.get(transition.action)
    if existing is not None and existing != transition:
        raise ValueError(f"transition {transition.action!r} is already registered differently")
    TRANSITIONS[transition.action] = transition


def transition(action, label, sources, target, who, needs_comment=False, style="") -> Transition:
    return _t(action, label, sources, target, who, needs_comment, style)


# Kinds whose overdue step is supervised where it stands instead of escalating to the parent
# center: the sweep turns the case red, keeps its owner and calls the kind's hook, which sends the
# supervision (督办) notices up the hierarchy. Petitions need this: the regulation fixes the
# handling organ (有权处理机关), and lateness brings supervision from above, not a new owner.
# A hook is called inside the sweep's transaction, after the case row is saved, as
# hook(case=case, step_no=..., due_at=..., now=...); it must not transition the case.
OVERDUE_HOOKS: dict[str, Callable[..., None]] = {}


def register_overdue_hook(kind: str, hook: Callable[..., None]) -> None:
    """Supervise rather than escalate overdue cases of `kind` (called from an AppConfig.ready())."""
    existing = OVERDUE_HOOKS.get(kind)
    if existing is not None and existing is not hook:
        raise ValueError(f"an overdue hook for {kind!r} is already registered")
    OVERDUE_HOOKS[kind] = hook


def relations(user: Any, case: Case) -> frozenset[str]:
    """How `user` stands to `case`: any of OWNER, ASSIGNEE, ABOVE (cached per user and case)."""
    cache = getattr(user, "_zongzhi_case_rel", None)
    if cache is None:
        cache = {}
        try:
            user._zongzhi_case_rel = cache
        except AttributeError:
            pass
    key = (case.pk, case.owning_center_id, case.owning_unit_id, case.version)
    if key in cache:
        return cache[key]
    out: set[str] = set()
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.is_superuser:
        out.update({OWNER, ABOVE})
    memberships = list(
        Membership.objects.filter(user=user, is_active=True).select_related("center__region")
    )
    owner_path = case.owning_center.region.path
    for m in memberships:
        if m.center_id == case.owning_center_id and m.role in OWNER_ROLES:
            out.add(OWNER)
        if case.owning_unit_id and m.unit_id == case.owning_unit_id:
            out.add(OWNER)
        if (
            m.center_id
            and m.role in ABOVE_ROLES
            and owner_path.startswith(m.center.region.path)
            and len(owner_path) > len(m.center.region.path)
        ):
            out.add(ABOVE)
    if CaseAssignment.objects.filter(case=case, user=user, is_active=True).exists():
        out.add(ASSIGNEE)
    result = frozenset(out)
    cache[key] = result
    return result


def can_read(user: Any, case: Case) -> bool:
    scope = scope_for(user)
    return (
        scope.covers_path(case.region_path)
        or case.owning_center_id in scope.center_ids
        or (case.owning_unit_id in scope.unit_ids if case.owning_unit_id else False)
        or ASSIGNEE in relations(user, case)
    )


def allowed(user: Any, case: Case, action: str) -> bool:
    t = TRANSITIONS[action]
    if case.status not in t.sources:
        return False
    return bool(t.who & relations(user, case))


def allowed_actions(user: Any, case: Case) -> list[Transition]:
    rel = relations(user, case)
    return [t for t in TRANSITIONS.values() if case.status in t.sources and t.who & rel]


def is_leader_above_or_owner(user: Any, case: Case) -> bool:
    """Leaders of the owning center or above: may package the case (领导包案) and call meetings."""
    rel = relations(user, case)
    if user.is_superuser:
        return True
    if not rel & {OWNER, ABOVE}:
        return False
    return Membership.objects.filter(user=user, is_active=True, role__in=LEADER_ROLES).exists()
