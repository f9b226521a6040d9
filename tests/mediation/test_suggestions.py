"""The dispatcher's ranked suggestions: domain match, then locality, then load — and the reasons shown."""

from __future__ import annotations

import pytest

from cases.models import Category
from mediation.selectors import (
    COMMITTEE_DOMAIN_POINTS,
    COUNTY_POINTS,
    DOMAIN_POINTS,
    FULL_PENALTY,
    LOAD_PENALTY,
    SAME_TOWN_POINTS,
    SAME_VILLAGE_POINTS,
    suggest_mediators,
)
from mediation.services import mediation_assign

pytestmark = pytest.mark.django_db


def ranking(case):
    return [(s.mediator.user.username, s.score) for s in suggest_mediators(case)]


def test_a_neighbour_dispute_in_village_a_ranks_the_village_mediator_first(mw, make_dispute):
    case = make_dispute(category=Category.NEIGHBOUR)
    assert ranking(case) == [
        ("mediator_village_a", DOMAIN_POINTS + SAME_VILLAGE_POINTS),  # 70
        ("mediator_a", DOMAIN_POINTS + SAME_TOWN_POINTS),  # 60
        ("county_chief", DOMAIN_POINTS + COUNTY_POINTS + 6),  # 56: chief grade
        ("mediator_b2", DOMAIN_POINTS),  # 40: right domain, other town
        ("labour_mediator", COUNTY_POINTS + 4),  # 14: senior, county
        ("mediator_b", 0),
    ]
    first = suggest_mediators(case)[0]
    assert first.why == "擅长邻里纠纷；同村（社区）：东门社区；在办 0 件（上限 10 件）"
    assert "其他乡镇：白沙镇" in suggest_mediators(case)[3].why


def test_a_labour_dispute_in_town_b_prefers_the_professional_committee(mw, make_dispute):
    case = make_dispute(category=Category.LABOUR, title="工地欠薪", region=mw.grid_b)
    ranked = suggest_mediators(case)
    assert [s.mediator.user.username for s in ranked[:2]] == ["labour_mediator", "mediator_b"]
    assert ranked[0].score == DOMAIN_POINTS + COMMITTEE_DOMAIN_POINTS + COUNTY_POINTS + 4
    assert "凤岭县劳动争议人民调解委员会（专业调委会）" in ranked[0].why
    assert ranked[1].score == DOMAIN_POINTS + SAME_TOWN_POINTS


def test_load_lowers_the_rank_and_a_full_mediator_drops_to_the_bottom(mw, make_dispute):
    village = mw.mediator_village_a
    for _ in range(3):
        mediation_assign(case=make_dispute(), by=mw.town_a_dispatcher, mediator=village)
    case = make_dispute()
    ranked = {s.mediator.user.username: s for s in suggest_mediators(case)}
    assert ranked["mediator_village_a"].load == 3
    assert ranked["mediator_village_a"].score == DOMAIN_POINTS + SAME_VILLAGE_POINTS - 3 * LOAD_PENALTY  # 58
    assert ranking(case)[0][0] == "mediator_a"  # 60 now beats the loaded village mediator
    assert "在办 3 件（上限 10 件）" in ranked["mediator_village_a"].why

    village.max_load = 3
    village.save()
    ranked = suggest_mediators(case)
    assert ranked[-1].mediator == village and ranked[-1].full
    assert ranked[-1].score == DOMAIN_POINTS + SAME_VILLAGE_POINTS - 3 * LOAD_PENALTY - FULL_PENALTY
    assert "已满负荷：在办 3 件（上限 3 件）" in ranked[-1].why


def test_concluded_mediations_no_longer_count_as_load(mw, make_dispute):
    from mediation.models import RouteOn
    from mediation.services import mediation_fail

    m = mediation_assign(case=make_dispute(), by=mw.town_a_dispatcher, mediator=mw.mediator_a)
    case = make_dispute()
    assert {s.mediator.pk: s.load for s in suggest_mediators(case)}[mw.mediator_a.pk] == 1
    mediation_fail(mediation=m, by=mw.mediator_a.user, reason="撤回", route_on=RouteOn.NONE)
    assert {s.mediator.pk: s.load for s in suggest_mediators(case)}[mw.mediator_a.pk] == 0


def test_inactive_mediators_and_other_counties_are_not_suggested(mw, make_dispute):
    from centers.models import RegionKind, Role
    from mediation.services import committee_create, mediator_create
    from tests.factories import CenterFactory, RegionFactory, staff

    other = RegionFactory(name="邻县", kind=RegionKind.COUNTY, code="430199")
    center = CenterFactory(region=other)
    committee = committee_create(name="邻县人民调解委员会", region=other)
    mediator_create(
        user=staff("far", Role.MEDIATOR, center=center), committee=committee, domains=[Category.NEIGHBOUR]
    )
    mw.mediator_b2.is_active = False
    mw.mediator_b2.save()
    names = [s.mediator.user.username for s in suggest_mediators(make_dispute())]
    assert "far" not in names and "mediator_b2" not in names and len(names) == 5
