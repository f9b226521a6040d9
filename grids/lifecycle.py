"""A hazard's own steps, as rows of the engine's transition table (registered in GridsConfig.ready).

    reported (registered) ──hazard_assign──► rectifying (in_progress, owned by the responsible unit)
    rectifying ──hazard_rectify (with evidence)──► rectified (resolved), waiting for verification
    rectified ──hazard_verify──► verified (closed, 销号)
    rectified ──hazard_reject──► rectifying again, with a new clock

The case's `phase` holds the hazard's severity for its whole life, so clock rules (grids.defaults)
can give a serious hazard hours where an ordinary one has days. The engine's own transitions
still apply (escalate, take over, extend, pause): an overdue hazard escalates like any matter.

Who may act, in the engine's terms: the owning center (the village station) or a center above
hands it to a unit; the unit (now an owner of the case) or the station records the rectification;
the grid worker who reported it — an assignee of the case as 协办人 from the start — verifies it.
"""

from __future__ import annotations

from cases.lifecycle import ABOVE, ASSIGNEE, OWNER, transition
from cases.models import Status

from .models import Severity

HAZARD_ASSIGN = transition(
    "hazard_assign",
    "交办整改",
    [Status.REGISTERED, Status.ACCEPTED],
    Status.IN_PROGRESS,
    [OWNER, ABOVE],
    style="primary",
)
HAZARD_RECTIFY = transition(
    "hazard_rectify",
    "登记整改完成",
    [Status.IN_PROGRESS],
    Status.RESOLVED,
    [OWNER],
    needs_comment=True,
    style="primary",
)
HAZARD_VERIFY = transition(
    "hazard_verify", "核查销号", [Status.RESOLVED], Status.CLOSED, [ASSIGNEE], style="primary"
)
HAZARD_REJECT = transition(
    "hazard_reject",
    "核查未通过，退回整改",
    [Status.RESOLVED],
    Status.IN_PROGRESS,
    [ASSIGNEE],
    needs_comment=True,
    style="danger",
)
TRANSITIONS = (HAZARD_ASSIGN, HAZARD_RECTIFY, HAZARD_VERIFY, HAZARD_REJECT)

# What a hazard's case status means to the people who handle it.
STEP_LABELS = {
    Status.REGISTERED: "待交办",
    Status.ACCEPTED: "待交办",
    Status.ASSIGNED: "待交办",
    Status.IN_PROGRESS: "整改中",
    Status.WAITING: "整改中（暂停计时）",
    Status.RESOLVED: "待核查",
    Status.UNRESOLVED: "待核查",
    Status.CLOSED: "已销号",
    Status.MERGED: "已合并",
}


def phase_for(severity: str) -> str:
    """The case phase that carries a hazard's severity to the clock rules."""
    return Severity(severity).value


def step_label(status: str) -> str:
    return STEP_LABELS.get(status, status)
