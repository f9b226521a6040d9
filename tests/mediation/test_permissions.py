"""An assigned mediator reaches the case through an object permission, even outside their region."""

from __future__ import annotations

import pytest
from django.http import Http404

from cases.models import CaseUserObjectPermission
from cases.selectors import case_get_for_user, case_list_for_user
from mediation.selectors import mediation_get_for_user, mediation_list_for_user
from mediation.services import mediation_assign

pytestmark = pytest.mark.django_db


def sees(user, case) -> bool:
    try:
        case_get_for_user(user, case.pk)
    except Http404:
        return False
    return case_list_for_user(user).filter(pk=case.pk).exists()


def test_a_town_b_mediator_assigned_to_a_town_a_case_sees_it_and_loses_it_on_reassignment(mw, make_dispute):
    case = make_dispute()
    b = mw.mediator_b.user
    assert not sees(b, case)
    m = mediation_assign(case=case, by=mw.town_a_dispatcher, mediator=mw.mediator_b, note="当事人要求")
    assert CaseUserObjectPermission.objects.filter(user=b, content_object=case, permission__codename="view_case").exists()
    assert sees(b, case)
    assert mediation_get_for_user(b, case.pk) == m
    assert list(mediation_list_for_user(b)) == [m]
    # The town B colleague is not assigned: nothing.
    assert not sees(mw.mediator_b2.user, case)
    with pytest.raises(Http404):
        mediation_get_for_user(mw.mediator_b2.user, case.pk)
    assert not mediation_list_for_user(mw.mediator_b2.user).exists()
    # Replaced by town A's mediator: the grant moves with the assignment.
    mediation_assign(case=case, by=mw.town_a_dispatcher, mediator=mw.mediator_a, comment="当事人申请更换")
    assert not sees(b, case)
    assert sees(mw.mediator_a.user, case)
    assert not CaseUserObjectPermission.objects.filter(user=b, content_object=case).exists()


def test_the_outsider_town_sees_no_mediation_of_town_a(mw, make_dispute):
    case = make_dispute()
    mediation_assign(case=case, by=mw.town_a_dispatcher, mediator=mw.mediator_a)
    assert not mediation_list_for_user(mw.town_b_dispatcher).exists()
    assert mediation_list_for_user(mw.county_dispatcher).count() == 1
    assert mediation_list_for_user(mw.town_a_dispatcher).count() == 1


def test_only_the_owner_or_above_may_assign(mw, make_dispute):
    from cases.services import NotAllowed

    case = make_dispute()
    with pytest.raises(NotAllowed):
        mediation_assign(case=case, by=mw.town_b_dispatcher, mediator=mw.mediator_b)
    with pytest.raises(NotAllowed):
        mediation_assign(case=case, by=mw.village_a_worker, mediator=mw.mediator_a)
    assert mediation_assign(case=case, by=mw.county_dispatcher, mediator=mw.mediator_a).case.status == "assigned"
