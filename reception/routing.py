"""分类受理、归口办理: each route the clerk can choose, as one function that opens the right case.

Every case opened here is owned by the hall's center (the clerk stays first-responsible) and is
placed where the matter happened (`region`), so the town and village of that place see it and a
sibling town does not. Then the route hands it on:

- on the spot (即接即办): an `on_the_spot` case, accepted, handled, resolved and closed at once;
- petition (信访): the petitions module's `petition_register` (its flags, fusion and the regulation's
  clocks), owned by the hall's center;
- mediation: a `dispute` case handed to a committee and mediator through the mediation module's
  `mediation_assign`;
- law/litigation (涉法涉诉): a `law_litigation` case transferred (`case_transfer`) to the chosen
  political-legal unit (公安, 检察, 法院, 司法);
- legal consultation / legal aid: `consultation` (closed at once when answered at the window) or
  `legal_aid`, transferred to the legal-services unit (司法局 / 司法所);
- counselling (心理咨询): restricted. The case is placed at the COUNTY (region = the county,
  owner = the county center) whatever the matter's place, so the jurisdiction gate shows it only
  to county staff and the county's counsellors (Role.COUNSELLOR, who are owners of county cases);
  no town or village sees it. Its title is just "心理咨询" (the story is in the description only),
  the owner's dispatchers are not notified, the counsellors are; the hall's own lists mask it;
- joint handling (联调联处): a `joint` case; the center summons two or more units, each with its
  own acknowledgement due time (`Summons`), swept by reception.tasks.sweep_summons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cases.clocks import fmt
from cases.models import Case, CaseKind, CaseParty, Channel, PartyRole, Person, Status
from cases.services import (
    PersonData,
    case_accept,
    case_close,
    case_register,
    case_resolve,
    case_start,
    case_transfer,
    notify,
)
from centers.models import Center, DepartmentKind, Region, Role, Unit, User
from centers.selectors import center_of_region, county_of, staff_of
from centers.services import DomainError

if TYPE_CHECKING:
    from .models import Visit
    from .services import RouteOptions

POLITICAL_LEGAL = (
    DepartmentKind.PUBLIC_SECURITY,
    DepartmentKind.POLICE_STATION,
    DepartmentKind.PROCURATORATE,
    DepartmentKind.COURT,
    DepartmentKind.TRIBUNAL,
    DepartmentKind.JUSTICE,
    DepartmentKind.JUSTICE_OFFICE,
)
LEGAL_SERVICES = (DepartmentKind.JUSTICE, DepartmentKind.JUSTICE_OFFICE)
COUNSELLING_TITLE = "心理咨询"

NEXT_BY_STATUS = {
    Status.REGISTERED: "等待受理",
    Status.ACCEPTED: "已受理，等待交办承办单位",
    Status.ASSIGNED: "已交承办单位，等待开始办理",
    Status.IN_PROGRESS: "正在办理",
    Status.WAITING: "暂停计时，等待有关方面",
    Status.RESOLVED: "已化解，等待回访",
    Status.UNRESOLVED: "办理完毕，等待回访并依法分流",
    Status.CLOSED: "已办结",
    Status.MERGED: "已合并至其他事项办理",
}


def next_step_of(case: Case) -> str:
    """What happens next for any case, from its state (also the public page's wording)."""
    text = NEXT_BY_STATUS.get(case.status, case.get_status_display())
    if case.due_at and case.status in (s for s in NEXT_BY_STATUS if s not in (Status.CLOSED, Status.MERGED)):
        text += f"，本环节期限 {fmt(case.due_at)}"
    return text


@dataclass(frozen=True)
class RouteRequest:
    by: User
    center: Center
    visit: Visit
    person: Person
    parties: Sequence[tuple[Person, str]]
    region: Region
    category: str
    matter: str
    description: str
    address: str
    people_count: int
    options: RouteOptions
    now: dt.datetime
    id_number: str = ""  # the visitor's cleaned numbers (for modules that upsert the person themselves)
    phone: str = ""


@dataclass(frozen=True)
class Opened:
    case: Case
    next_step: str


def _register(r: RouteRequest, kind: str, **overrides: Any) -> Case:
    fields: dict[str, Any] = {
        "by": r.by,
        "kind": kind,
        "channel": Channel.VISIT,
        "category": r.category,
        "title": r.matter,
        "description": r.description,
        "region": r.region,
        "address": r.address,
        "people_count": r.people_count,
        "owning_center": r.center,
        "parties": [(r.person, PartyRole.APPLICANT), *r.parties],
        "now": r.now,
    }
    fields.update(overrides)
    return case_register(**fields)


def _in_county(r: RouteRequest, unit: Unit | None, kinds: Sequence[str], what: str) -> Unit:
    if unit is None:
        raise DomainError(f"请选择{what}。")
    county = county_of(r.center.region)
    if unit.kind not in kinds or not unit.is_active or not unit.region.path.startswith(county.path):
        raise DomainError(f"{unit.name} 不是本县在用的{what}。")
    return unit


def _settle_now(r: RouteRequest, kind: str, result: str) -> Opened:
    """Register, handle and close at the window, with the result the clerk typed."""
    result = (result or "").strip()
    if not result:
        raise DomainError("当场办结须填写办理结果（答复内容）。")
    case = _register(r, kind, notify_owner=False)
    case = case_accept(case=case, by=r.by, comment="窗口受理")
    case = case_start(case=case, by=r.by)
    case = case_resolve(case=case, by=r.by, comment=result)
    case = case_close(
        case=case, by=r.by, satisfaction=r.options.satisfaction, comment="当场办结，来访人当面评价"
    )
    return Opened(case, f"已当场办结：{result}")


def _transfer(r: RouteRequest, kind: str, unit: Unit, comment: str) -> Opened:
    case = _register(r, kind)
    case = case_accept(case=case, by=r.by, comment="窗口受理")
    case = case_transfer(case=case, by=r.by, unit=unit, comment=comment)
    return Opened(
        case,
        f"已转 {unit.name} 办理，{unit.name} 将于 {fmt(case.due_at)} 前开始办理"
        if case.due_at
        else f"已转 {unit.name} 办理",
    )


def route_on_the_spot(r: RouteRequest) -> Opened:
    return _settle_now(r, CaseKind.ON_THE_SPOT, r.options.result)


def route_petition(r: RouteRequest) -> Opened:
    """A petition (信访事项), registered through the petitions module (its flags, fusion and clocks)."""
    from petitions.services import petition_register

    petition = petition_register(
        by=r.by,
        channel=Channel.VISIT,
        category=r.category,
        title=r.matter,
        description=r.description,
        request=r.description or r.matter,
        region=r.region,
        address=r.address,
        petitioners=[PersonData(name=r.person.name, id_number=r.id_number, phone=r.phone, address=r.address)],
        people_count=r.people_count,
        owning_center=r.center,
        now=r.now,
    )
    case = petition.case
    for party, role in r.parties:
        CaseParty.objects.get_or_create(case=case, person=party, role=role)
    due = f"，将于 {fmt(case.due_at)} 前决定是否受理" if case.due_at else ""
    return Opened(case, f"信访事项已登记{due}（《信访工作条例》：15 日内告知是否受理）")


def route_mediation(r: RouteRequest) -> Opened:
    """A dispute for mediation: accepted at the window and handed to a committee and mediator
    through the mediation module's `mediation_assign` (the mediator gains an object permission on
    the case). The clerk picks a user holding a mediator post; their entry in the mediators' roll
    (`mediator_profile`) gives the committee unless the clerk chose one."""
    from mediation.services import mediation_assign, mediator_profile

    mediator: User | None = r.options.mediator
    if mediator is None:
        raise DomainError("请选择调解员。")
    from .selectors import mediators_in_county

    if not mediators_in_county(r.center).filter(pk=mediator.pk).exists():
        raise DomainError(f"{mediator.display_name} 不是本县在册的调解员。")
    case = _register(r, CaseKind.DISPUTE)
    case = case_accept(case=case, by=r.by, comment="窗口受理，交人民调解")
    mediation = mediation_assign(
        case=case,
        by=r.by,
        mediator=mediator_profile(user=mediator),
        committee=r.options.committee,
        note="窗口受理，交人民调解",
    )
    case = mediation.case
    return Opened(
        case,
        f"已交 {mediation.committee.name} 调解员 {mediator.display_name} 调解，"
        f"将于 {fmt(case.due_at)} 前开始调解",
    )


def route_law_litigation(r: RouteRequest) -> Opened:
    unit = _in_county(r, r.options.unit, POLITICAL_LEGAL, "政法单位")
    return _transfer(r, CaseKind.LAW_LITIGATION, unit, "涉法涉诉事项，依法导入法律程序")


def route_consultation(r: RouteRequest) -> Opened:
    if (r.options.result or "").strip():
        return _settle_now(r, CaseKind.CONSULTATION, r.options.result)
    unit = _in_county(r, r.options.unit, LEGAL_SERVICES, "法律服务部门")
    return _transfer(r, CaseKind.CONSULTATION, unit, "法律咨询，转法律服务窗口解答")


def route_legal_aid(r: RouteRequest) -> Opened:
    unit = _in_county(r, r.options.unit, LEGAL_SERVICES, "法律援助机构（司法局/司法所）")
    return _transfer(r, CaseKind.LEGAL_AID, unit, "法律援助申请，转法律援助机构审查")


def route_counselling(r: RouteRequest) -> Opened:
    county = county_of(r.center.region)
    county_center = center_of_region(county)
    counsellors = list(staff_of(county_center, Role.COUNSELLOR)) if county_center else []
    if not counsellors:
        raise DomainError("本县尚未设置心理咨询师岗位，暂不能转心理咨询室。")
    story = "\n".join(s for s in (r.matter, r.description) if s)
    case = _register(
        r,
        CaseKind.COUNSELLING,
        title=COUNSELLING_TITLE,
        description=story,
        region=county,
        address="",
        owning_center=county_center,
        notify_owner=False,
    )
    notify(
        users=counsellors,
        case=case,
        kind="counselling",
        title=f"心理咨询预约：{case.tracking_no}",
        body="请尽快与来访人联系。",
        dedupe_key=f"counselling:{case.pk}",
        sms=True,
    )
    due = f"，将于 {fmt(case.due_at)} 前与您联系" if case.due_at else "，将尽快与您联系"
    return Opened(case, f"已转心理咨询室{due}")


def route_joint(r: RouteRequest) -> Opened:
    from .services import summons_create

    units = list(r.options.units)
    for unit in units:
        _in_county(r, unit, [k for k in DepartmentKind.values], "部门")
    if len(units) < 2:
        raise DomainError("联调联处须召集至少两个部门。")
    case = _register(r, CaseKind.JOINT)
    case = case_accept(case=case, by=r.by, comment="窗口受理，启动联调联处")
    summonses = summons_create(by=r.by, case=case, units=units, hours=r.options.summons_hours, now=r.now)
    names = "、".join(u.name for u in units)
    return Opened(case, f"中心已召集 {names} 联合处理，各部门须于 {fmt(summonses[0].due_at)} 前报到")


ROUTES: dict[str, Callable[[RouteRequest], Opened]] = {
    "on_the_spot": route_on_the_spot,
    "petition": route_petition,
    "mediation": route_mediation,
    "law_litigation": route_law_litigation,
    "consultation": route_consultation,
    "legal_aid": route_legal_aid,
    "counselling": route_counselling,
    "joint": route_joint,
}


def route(name: str, request: RouteRequest) -> Opened:
    try:
        handler = ROUTES[name]
    except KeyError as exc:
        raise DomainError("请选择分类（办理方式）。") from exc
    return handler(request)
