"""Mediation's test world: the shared world plus committees, mediators, a court and a petition bureau.

    county 凤岭县 ── 凤岭县人民调解委员会 (county_chief: chief, family/neighbour; at the county)
                 ── 凤岭县劳动争议人民调解委员会 (professional, labour) ── labour_mediator (labour, county)
                 ── 特邀调解组织 at the court
    town A 城关街道 ── 城关街道人民调解委员会 ── mediator_a (neighbour, property; town A)
       village A 东门社区 ── 东门社区人民调解委员会 ── mediator_village_a (neighbour; village A)
    town B 白沙镇 ── 白沙镇人民调解委员会 ── mediator_b (labour; town B), mediator_b2 (neighbour; town B)
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from cases.models import Category, Channel, PartyRole
from cases.services import PartyInput, case_accept, case_register_with_parties
from centers.models import DepartmentKind, Role
from mediation.models import CommitteeKind, MediatorGrade, MediatorKind
from mediation.services import committee_create, mediator_create
from tests.factories import UnitFactory, staff


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def mw(world):
    w = SimpleNamespace(**vars(world))
    w.court = UnitFactory(region=world.county, kind=DepartmentKind.COURT, name="凤岭县人民法院")
    w.tribunal_b = UnitFactory(region=world.town_b, kind=DepartmentKind.TRIBUNAL, name="白沙人民法庭")
    w.petition_bureau = UnitFactory(region=world.county, kind=DepartmentKind.PETITION, name="凤岭县信访局")
    w.court_staff = staff("court_staff", Role.UNIT_STAFF, unit=w.court, full_name="法院立案庭")
    w.police_staff = world.unit_staff  # 城关派出所
    w.petition_staff = staff("petition_staff", Role.UNIT_STAFF, unit=w.petition_bureau, full_name="信访局干部")
    w.town_a_leader = staff("town_a_leader", Role.CENTER_LEADER, center=world.town_a_center, full_name="刘主任")

    w.county_committee = committee_create(name="凤岭县人民调解委员会", region=world.county)
    w.labour_committee = committee_create(
        name="凤岭县劳动争议人民调解委员会", region=world.county, kind=CommitteeKind.PROFESSIONAL,
        domains=[Category.LABOUR], host_unit=world.hrss_bureau,
    )
    w.town_a_committee = committee_create(name="城关街道人民调解委员会", region=world.town_a)
    w.village_a_committee = committee_create(name="东门社区人民调解委员会", region=world.village_a)
    w.town_b_committee = committee_create(name="白沙镇人民调解委员会", region=world.town_b)

    def mediator(username, full_name, committee, region, domains=(), grade=MediatorGrade.JUNIOR, **kw):
        user = staff(username, Role.MEDIATOR, center=_center_of(world, region), full_name=full_name)
        return mediator_create(
            user=user, committee=committee, region=region, domains=list(domains), grade=grade, **kw
        )

    w.county_chief = mediator(
        "county_chief", "钱首席", w.county_committee, world.county, [Category.FAMILY, Category.NEIGHBOUR],
        grade=MediatorGrade.CHIEF, kind=MediatorKind.FULL_TIME,
    )
    w.labour_mediator = mediator(
        "labour_mediator", "孙劳动", w.labour_committee, world.county, [Category.LABOUR], grade=MediatorGrade.SENIOR
    )
    w.mediator_a = mediator(
        "mediator_a", "李调解", w.town_a_committee, world.town_a, [Category.NEIGHBOUR, Category.PROPERTY]
    )
    w.mediator_village_a = mediator(
        "mediator_village_a", "周村调", w.village_a_committee, world.village_a, [Category.NEIGHBOUR]
    )
    w.mediator_b = mediator("mediator_b", "吴调解", w.town_b_committee, world.town_b, [Category.LABOUR])
    w.mediator_b2 = mediator("mediator_b2", "郑调解", w.town_b_committee, world.town_b, [Category.NEIGHBOUR])
    return w


def _center_of(world, region):
    return {
        world.county.pk: world.county_center,
        world.town_a.pk: world.town_a_center,
        world.town_b.pk: world.town_b_center,
        world.village_a.pk: world.village_a_center,
    }[region.pk]


@pytest.fixture
def make_dispute(mw):
    """A dispute in village A (grid A), owned by town A's center and accepted there."""

    def make(*, category=Category.NEIGHBOUR, title="楼上漏水致楼下受损", region=None, accept=True, **kw):
        kw.setdefault("amount", Decimal("8000"))
        case = case_register_with_parties(
            by=mw.town_a_dispatcher,
            parties=[
                PartyInput(name="王秀兰", role=PartyRole.APPLICANT, id_number="430124198506124565", phone="13800138000"),
                PartyInput(name="陈建军", role=PartyRole.RESPONDENT, phone="13900139000"),
            ],
            channel=Channel.VISIT,
            category=category,
            title=title,
            description="东门社区幸福路8号 5 楼水管爆裂，4 楼天花板和家具受损",
            region=region or mw.grid_a,
            owning_center=mw.town_a_center,
            **kw,
        )
        if accept:
            case = case_accept(case=case, by=mw.town_a_dispatcher)
        return case

    return make
