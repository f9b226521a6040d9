"""The demo county's people's mediation: committees, mediators, and mediations at every stage.

Everything goes through mediation.services (the same transitions a mediator makes on the pages), so
the timelines, clocks and figures are real. Keyed on the county committee's name and on each demo
matter's source reference: a second run creates nothing.

Stages shown: a dispute waiting for a mediator (with the ranked suggestions), one assigned, one in
mediation with a session, a wage dispute whose agreement waits for its performance follow-up, one
closed with a court-confirmed agreement, one failed and referred to the court for litigation, a
court referral whose deadline is today (its clock visibly runs out), a police diversion waiting
for a mediator, and a court referral mediated and reported back.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from cases.models import Case, Category, Channel, PartyRole
from cases.services import PartyInput, case_accept, case_register_with_parties
from centers.models import Center, DepartmentKind, Region, RegionKind, Unit, User
from mediation.models import (
    CommitteeKind,
    ConsentWay,
    MediationCommittee,
    Mediator,
    MediatorGrade,
    MediatorKind,
    Performance,
    ReferralKind,
    RouteOn,
    SessionResult,
)
from mediation.services import (
    agreement_draft,
    committee_create,
    confirmation_apply,
    confirmation_record,
    mediation_assign,
    mediation_consent,
    mediation_fail,
    mediation_follow_up,
    mediation_sign,
    mediator_create,
    referral_receive,
    referral_report,
    session_record,
)

from . import names
from .context import SeedContext

SOURCE = "demo-mediation-"

# (name suffix, kind, domains, host unit suffix)
COUNTY_COMMITTEES = [
    ("人民调解委员会", CommitteeKind.PEOPLES, [], "司法局"),
    ("劳动争议人民调解委员会", CommitteeKind.PROFESSIONAL, [Category.LABOUR], "人力资源和社会保障局"),
    ("交通事故纠纷人民调解委员会", CommitteeKind.PROFESSIONAL, [Category.TRAFFIC], "公安局"),
    ("医疗纠纷人民调解委员会", CommitteeKind.PROFESSIONAL, [Category.MEDICAL], "卫生健康局"),
    ("婚姻家庭纠纷人民调解委员会", CommitteeKind.PROFESSIONAL, [Category.FAMILY], "妇女联合会"),
    ("物业纠纷人民调解委员会", CommitteeKind.PROFESSIONAL, [Category.PROPERTY], "住房和城乡建设局"),
    ("人民法院特邀调解工作室", CommitteeKind.INVITED, [Category.LENDING, Category.CONSUMER], "人民法院"),
]


def seed(ctx: SeedContext) -> None:
    county = ctx.county
    if county is None:
        return
    name = f"{county.name}人民调解委员会"
    if MediationCommittee.objects.filter(region=county, name=name).exists():
        return
    committees = _committees(ctx, county)
    mediators = _mediators(ctx, county, committees)
    if mediators:
        _matters(ctx, county, mediators)


def _unit(county: Region, suffix: str) -> Unit | None:
    return Unit.objects.filter(region=county, name=f"{county.name}{suffix}").first()


def _committees(ctx: SeedContext, county: Region) -> dict[str, MediationCommittee]:
    out: dict[str, MediationCommittee] = {}
    for suffix, kind, domains, host in COUNTY_COMMITTEES:
        out[suffix] = committee_create(
            name=f"{county.name}{suffix}", region=county, kind=kind, domains=domains, host_unit=_unit(county, host)
        )
    towns = list(Region.objects.filter(path__startswith=county.path, kind=RegionKind.TOWN).order_by("path"))
    for town in towns:
        out[town.code] = committee_create(name=f"{town.name}人民调解委员会", region=town)
    if towns:
        # The first village's committee (its mediator and the demo matters are there too).
        village = Region.objects.filter(path__startswith=towns[0].path, kind=RegionKind.VILLAGE).order_by("path").first()
        if village is not None:
            out[village.code] = committee_create(name=f"{village.name}人民调解委员会", region=village)
    ctx.note("调解组织", len(out))
    return out


def _mediators(ctx: SeedContext, county: Region, committees: dict[str, MediationCommittee]) -> dict[str, Mediator]:
    towns = list(Region.objects.filter(path__startswith=county.path, kind=RegionKind.TOWN).order_by("path"))
    if not towns:
        return {}
    village = Region.objects.filter(path__startswith=towns[0].path, kind=RegionKind.VILLAGE).order_by("path").first()
    plan = [
        ("mediator_county", "人民调解委员会", county, MediatorGrade.CHIEF, MediatorKind.FULL_TIME,
         [Category.FAMILY, Category.NEIGHBOUR, Category.LAND]),
        ("mediator_labour", "劳动争议人民调解委员会", county, MediatorGrade.SENIOR, MediatorKind.FULL_TIME,
         [Category.LABOUR]),
        ("mediator_a", towns[0].code, towns[0], MediatorGrade.INTERMEDIATE, MediatorKind.PART_TIME,
         [Category.NEIGHBOUR, Category.PROPERTY, Category.CONSUMER]),
        ("mediator_village_a", village.code if village else towns[0].code, village or towns[0], MediatorGrade.JUNIOR,
         MediatorKind.PART_TIME, [Category.NEIGHBOUR, Category.LAND]),
    ]
    out: dict[str, Mediator] = {}
    for username, committee_key, region, grade, kind, domains in plan:
        user = User.objects.filter(username=username).first()
        if user is None or Mediator.objects.filter(user=user).exists():
            continue
        out[username] = mediator_create(
            user=user, committee=committees[committee_key], region=region, grade=grade, kind=kind, domains=domains
        )
    ctx.note("调解员", len(out))
    return out


def _people(rng: random.Random) -> list[PartyInput]:
    return [
        PartyInput(name=names.person_name(rng), role=PartyRole.APPLICANT, phone=names.mobile(rng)),
        PartyInput(name=names.person_name(rng), role=PartyRole.RESPONDENT, phone=names.mobile(rng)),
    ]


def _matters(ctx: SeedContext, county: Region, mediators: dict[str, Mediator]) -> None:
    towns = list(Region.objects.filter(path__startswith=county.path, kind=RegionKind.TOWN).order_by("path"))
    town = towns[0]
    town_center = Center.objects.get(region=town)
    grid = Region.objects.filter(path__startswith=town.path, kind=RegionKind.GRID).order_by("path").first()
    dispatcher = User.objects.filter(username="town_a_dispatcher").first()
    court = _unit(county, "人民法院")
    court_user = User.objects.filter(username="court_liaison").first()
    police = Unit.objects.filter(region=town, kind=DepartmentKind.POLICE_STATION).first()
    if grid is None or dispatcher is None:
        return
    rng = random.Random(f"{county.code}/mediation")  # noqa: S311
    now = timezone.now()
    created = 0

    def dispute(n: int, category: str, title: str, description: str, **kw) -> Case | None:
        nonlocal created
        ref = f"{SOURCE}{n}"
        if Case.objects.filter(channel=Channel.VISIT, source_ref=ref).exists():
            return None
        case = case_register_with_parties(
            by=dispatcher, parties=_people(rng), channel=Channel.VISIT, category=category, title=title,
            description=description, region=grid, owning_center=town_center, source_ref=ref, **kw,
        )
        created += 1
        return case_accept(case=case, by=dispatcher, comment="受理，交人民调解")

    def mediate(case: Case, mediator: Mediator, sessions: list[str]):
        m = mediation_assign(case=case, by=dispatcher, mediator=mediator, note="演示：按推荐分派")
        m = mediation_consent(mediation=m, by=mediator.user, way=ConsentWay.APPLICATION, note="双方书面申请调解")
        for i, text in enumerate(sessions, start=1):
            session_record(
                mediation=m, by=mediator.user, held_at=now - dt.timedelta(hours=len(sessions) - i + 1),
                place=f"{m.committee.name}调解室", participants="双方当事人、调解员", record=text,
                result=SessionResult.AGREED if i == len(sessions) else SessionResult.CONTINUE,
            )
        return m

    village = mediators.get("mediator_village_a") or next(iter(mediators.values()))
    town_m = mediators.get("mediator_a") or village
    labour = mediators.get("mediator_labour") or town_m
    chief = mediators.get("mediator_county") or town_m

    dispute(1, Category.NEIGHBOUR, "相邻通道堆放杂物引发纠纷", "两户村民因公共通道堆放柴草、杂物发生争吵，要求调解。")
    case = dispute(2, Category.PROPERTY, "小区电梯停运，业主与物业公司纠纷", "电梯停运两周，业主拒交物业费。", people_count=3)
    if case:
        mediation_assign(case=case, by=dispatcher, mediator=town_m, note="演示：同乡镇，擅长物业纠纷")
    case = dispute(3, Category.NEIGHBOUR, "楼上渗水致楼下墙面受损", "5 楼卫生间渗水，4 楼住户墙面霉变，双方就赔偿数额有分歧。",
                   amount=Decimal("6000"))
    if case:
        mediate(case, village, ["双方陈述事实，4 楼要求赔偿 6000 元，5 楼只同意 3000 元。"])
    case = dispute(4, Category.LABOUR, "装修工程拖欠 12 名工人工资", "某装修队完工后拖欠 12 名工人工资共 86,000 元。",
                   amount=Decimal("86000"), people_count=12)
    if case:
        m = mediate(case, labour, ["核对工资清单，包工头认可欠薪数额。", "约定分两次付清，工人同意。"])
        agreement_draft(
            mediation=m, by=labour.user, facts="某装修队拖欠 12 名工人工资 86,000 元。",
            terms="包工头于十日内分两次向 12 名工人付清工资 86,000 元\n工人不再就此事向有关部门反映",
            amount=Decimal("86000"), beneficiaries=12, performance_way="银行转账至工人本人账户",
            performance_due=timezone.localdate() + dt.timedelta(days=10),
        )
        mediation_sign(mediation=m, by=labour.user)
    case = dispute(5, Category.FAMILY, "离婚后子女抚养费纠纷", "双方离婚后就子女抚养费数额发生纠纷。", amount=Decimal("36000"))
    if case:
        m = mediate(case, chief, ["双方同意由男方每月支付抚养费 1,500 元，至子女年满十八周岁。"])
        agreement_draft(
            mediation=m, by=chief.user, facts="双方离婚后就子女抚养费发生争议。",
            terms="男方每月 10 日前支付抚养费 1,500 元\n首两年抚养费 36,000 元于协议签订时一次付清",
            amount=Decimal("36000"), performance_way="当场转账",
        )
        m = mediation_sign(mediation=m, by=chief.user)
        mediation_follow_up(
            mediation=m, by=chief.user, performance=Performance.FULL, satisfaction="satisfied", note="已当场付清"
        )
        if court is not None:
            a = confirmation_apply(agreement=m.agreement, by=chief.user, court=court, applied_on=timezone.localdate())
            confirmation_record(
                agreement=a, by=chief.user, confirmed=True, decided_on=timezone.localdate(),
                court_ref=f"（{timezone.localdate().year}）湘0124民特{rng.randrange(10, 99)}号",
            )
    case = dispute(6, Category.LAND, "宅基地边界纠纷", "两户因宅基地边界争执多年，调解未果。")
    if case and court is not None:
        m = mediate(case, village, ["双方各执一词，均不接受对方测量结果。"])
        mediation_fail(
            mediation=m, by=village.user, reason="双方对边界各执一词，不接受调解方案", route_on=RouteOn.LITIGATION, unit=court
        )

    if court is not None and court_user is not None:
        year = timezone.localdate().year
        if not Case.objects.filter(referral__referring_unit=court, referral__external_no=f"（{year}）湘0124民诉前调101号").exists():
            r = referral_receive(
                by=court_user, kind=ReferralKind.COURT, referring_unit=court,
                external_no=f"（{year}）湘0124民诉前调101号", region=grid, title="网购商品退货款纠纷",
                category=Category.CONSUMER, parties=_people(rng), amount=Decimal("4800"),
                deadline=timezone.localdate(), contact="立案庭 诉调对接窗口", owning_center=town_center,
            )
            created += 1
            mediate(r.case, town_m, ["电话联系双方，约定次日面谈。"])
        if not Case.objects.filter(referral__referring_unit=court, referral__external_no=f"（{year}）湘0124民诉前调88号").exists():
            r = referral_receive(
                by=court_user, kind=ReferralKind.COURT, referring_unit=court,
                external_no=f"（{year}）湘0124民诉前调88号", region=grid, title="民间借贷纠纷",
                category=Category.LENDING, parties=_people(rng), amount=Decimal("50000"), owning_center=town_center,
            )
            created += 1
            m = mediate(r.case, town_m, ["被告认可借款，约定三个月内分期归还。"])
            agreement_draft(
                mediation=m, by=town_m.user, facts="被告向原告借款 50,000 元逾期未还。",
                terms="被告于三个月内分三期归还借款 50,000 元", amount=Decimal("50000"),
                performance_way="银行转账", performance_due=timezone.localdate() + dt.timedelta(days=90),
            )
            m = mediation_sign(mediation=m, by=town_m.user)
            referral_report(
                referral=r, by=town_m.user,
                text="经调解，双方达成分期还款协议，协议书随附；当事人可申请司法确认。",
            )
    if police is not None and not Case.objects.filter(referral__referring_unit=police).exists():
        referral_receive(
            by=dispatcher, kind=ReferralKind.POLICE, referring_unit=police,
            external_no=f"JQ{timezone.localdate():%Y%m%d}0007", region=grid, title="停车位争执（110 非警务警情）",
            category=Category.NEIGHBOUR, parties=_people(rng), owning_center=town_center,
        )
        created += 1
    ctx.note("调解事项", created)
