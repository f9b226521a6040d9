"""Each routing outcome opens the right case, owned by the right body, visible to the right people."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import AssignmentRole, Case, CaseAssignment, CaseKind, Notification, Status, TimelineEntry
from cases.selectors import case_list_for_user
from centers.services import DomainError
from reception.models import Route, StatusLink, Summons, Visit
from reception.services import PartyInput, RouteOptions, summons_acknowledge, summons_sweep, visit_register
from tests.factories import staff
from tests.reception.conftest import idn, png

pytestmark = pytest.mark.django_db


def register(h, route, *, by=None, region=None, options=None, **kw):
    kw.setdefault("name", "张三")
    kw.setdefault("id_number", idn())
    kw.setdefault("phone", "13800138000")
    kw.setdefault("matter", "工地欠薪三个月")
    return visit_register(
        by=by or h.clerk,
        center=h.center,
        region=region or h.village_a,
        route=route,
        options=options or RouteOptions(),
        window=h.w1,
        **kw,
    )


def only_case(visit: Visit) -> Case:
    (case,) = visit.cases.all()
    return case


def visible_to(user, case) -> bool:
    return case_list_for_user(user).filter(pk=case.pk).exists()


def test_on_the_spot_is_closed_with_its_result_in_the_same_visit(hall):
    visit = register(
        hall, Route.ON_THE_SPOT, options=RouteOptions(result="已当场开具证明", satisfaction="satisfied")
    )
    case = only_case(visit)
    assert case.kind == CaseKind.ON_THE_SPOT
    assert (
        case.status == Status.CLOSED and case.result == "已当场开具证明" and case.satisfaction == "satisfied"
    )
    assert case.registered_by == hall.clerk and case.owning_center == hall.center
    assert list(case.timeline.values_list("action", flat=True)) == [
        "register",
        "accept",
        "start",
        "resolve",
        "close",
    ]
    assert visit.visit_cases.get().next_step.startswith("已当场办结")


def test_on_the_spot_without_a_result_is_refused_and_nothing_is_written(hall):
    with pytest.raises(DomainError, match="办理结果"):
        register(hall, Route.ON_THE_SPOT)
    assert not Visit.objects.exists() and not Case.objects.exists()


def test_petition_is_registered_through_the_petitions_module_in_the_matters_place(hall):
    from petitions.models import Petition

    case = only_case(register(hall, Route.PETITION, people_count=2))
    assert case.kind == CaseKind.PETITION and case.channel == "visit"
    petition = Petition.objects.get(case=case)
    assert petition.petitioner.name == "张三" and case.people_count == 2
    assert case.due_at is not None  # the regulation's acceptance clock
    assert case.region == hall.village_a and case.owning_center == hall.center
    assert visible_to(hall.town_a_dispatcher, case)
    assert not visible_to(hall.town_b_dispatcher, case)


def test_mediation_hands_a_dispute_to_the_mediator(hall):
    options = RouteOptions(mediator=hall.mediator)
    case = only_case(
        register(hall, Route.MEDIATION, options=options, category="neighbour", matter="邻里漏水")
    )
    assert case.kind == CaseKind.DISPUTE and case.status == Status.ASSIGNED
    assert CaseAssignment.objects.filter(case=case, user=hall.mediator, role=AssignmentRole.MEDIATOR).exists()
    assert visible_to(hall.mediator, case)  # the mediator sits at a county unit, sees it by assignment
    assert visible_to(hall.town_a_dispatcher, case) and not visible_to(hall.town_b_dispatcher, case)


def test_mediation_refuses_someone_who_is_not_a_mediator(hall):
    with pytest.raises(DomainError, match="调解员"):
        register(hall, Route.MEDIATION, options=RouteOptions(mediator=hall.unit_staff))


def test_law_litigation_is_transferred_to_the_political_legal_unit(hall):
    case = only_case(register(hall, Route.LAW_LITIGATION, options=RouteOptions(unit=hall.court)))
    assert case.kind == CaseKind.LAW_LITIGATION
    assert case.owning_unit == hall.court and case.status == Status.ASSIGNED
    assert visible_to(hall.court_staff, case)
    assert Notification.objects.filter(user=hall.court_staff, case=case, kind="transferred").exists()


def test_law_litigation_refuses_a_unit_that_is_not_political_legal(hall):
    with pytest.raises(DomainError, match="政法单位"):
        register(hall, Route.LAW_LITIGATION, options=RouteOptions(unit=hall.hrss_bureau))


def test_consultation_answered_at_the_window_is_closed(hall):
    case = only_case(register(hall, Route.CONSULTATION, options=RouteOptions(result="告知可申请劳动仲裁")))
    assert case.kind == CaseKind.CONSULTATION and case.status == Status.CLOSED


def test_legal_aid_goes_to_the_justice_bureau(hall):
    case = only_case(register(hall, Route.LEGAL_AID, options=RouteOptions(unit=hall.justice_bureau)))
    assert case.kind == CaseKind.LEGAL_AID and case.owning_unit == hall.justice_bureau
    with pytest.raises(DomainError, match="法律援助机构"):
        register(hall, Route.LEGAL_AID, options=RouteOptions(unit=hall.court), id_number=idn(seq="124"))


def test_counselling_is_seen_only_by_the_county_and_its_counsellors(hall):
    visit = register(hall, Route.COUNSELLING, matter="失眠焦虑，想找人聊聊", region=hall.village_a)
    case = only_case(visit)
    assert case.kind == CaseKind.COUNSELLING
    assert case.region == hall.county and case.owning_center == hall.center  # placed at the county
    assert case.title == "心理咨询" and "失眠" in case.description
    assert visit.matter == "心理咨询"  # the story is not on the hall's record
    assert visible_to(hall.counsellor, case) and visible_to(hall.county_dispatcher, case)
    for user in (hall.town_a_dispatcher, hall.town_b_dispatcher, hall.village_a_worker, hall.unit_staff):
        assert not visible_to(user, case)
    assert Notification.objects.filter(user=hall.counsellor, case=case, kind="counselling").exists()
    assert not Notification.objects.filter(user=hall.county_dispatcher, case=case).exists()


def test_joint_handling_summons_each_unit_with_its_own_due_time(hall):
    now = timezone.now()
    options = RouteOptions(units=[hall.court, hall.hrss_bureau], summons_hours=3)
    case = only_case(register(hall, Route.JOINT, options=options, people_count=6, now=now))
    assert case.kind == CaseKind.JOINT and case.status == Status.ACCEPTED
    summonses = list(Summons.objects.filter(case=case).order_by("unit__name"))
    assert {s.unit for s in summonses} == {hall.court, hall.hrss_bureau}
    assert all(s.due_at == now + dt.timedelta(hours=3) for s in summonses)
    assert visible_to(hall.court_staff, case) and visible_to(hall.hrss_staff, case)
    assert Notification.objects.filter(user=hall.court_staff, kind="summons", case=case).exists()
    assert case.warning_level == "red"  # a group of 6 is a red trigger


def test_joint_handling_needs_two_units(hall):
    with pytest.raises(DomainError, match="至少两个部门"):
        register(hall, Route.JOINT, options=RouteOptions(units=[hall.court]))


def test_summons_acknowledged_in_time_and_the_sweep_chases_the_late_unit_once(hall):
    now = timezone.now()
    case = only_case(
        register(hall, Route.JOINT, options=RouteOptions(units=[hall.court, hall.hrss_bureau]), now=now)
    )
    court = Summons.objects.get(case=case, unit=hall.court)
    with pytest.raises(DomainError, match="只有"):
        summons_acknowledge(by=hall.hrss_staff, summons=court)
    summons_acknowledge(by=hall.court_staff, summons=court, note="张庭长参加")
    assert summons_sweep(now=now + dt.timedelta(hours=1)) == 0
    later = now + dt.timedelta(hours=2, minutes=1)
    assert summons_sweep(now=later) == 1
    assert summons_sweep(now=later) == 0  # once
    hrss = Summons.objects.get(case=case, unit=hall.hrss_bureau)
    assert hrss.overdue_at == later and Summons.objects.get(pk=court.pk).overdue_at is None
    assert Notification.objects.filter(kind="summons_overdue", user=hall.hrss_staff).count() == 1
    assert Notification.objects.filter(kind="summons_overdue", user=hall.clerk).count() == 1
    assert TimelineEntry.objects.filter(case=case, action="summons_overdue").count() == 1
    summons_acknowledge(by=hall.hrss_staff, summons=hrss)
    assert Notification.objects.filter(kind="summons_done", user=hall.clerk).exists()


def test_the_registering_clerk_is_first_responsible_and_gets_a_status_link(hall):
    visit = register(hall, Route.PETITION)
    case = only_case(visit)
    assert visit.registered_by == hall.clerk == case.registered_by
    assert len(StatusLink.objects.get(case=case).token) == 12


def test_group_visit_of_five_is_flagged(hall):
    visit = register(hall, Route.PETITION, people_count=5)
    assert visit.is_group and only_case(visit).people_count == 5
    assert not register(hall, Route.PETITION, people_count=4, id_number=idn(seq="200")).is_group


def test_parties_and_scans_go_onto_the_case(hall):
    visit = register(
        hall, Route.PETITION, parties=[PartyInput(name="某建筑公司", phone="0731-8888 6666")], photos=[png()]
    )
    case = only_case(visit)
    assert set(case.parties.values_list("person__name", "role")) == {
        ("张三", "applicant"),
        ("某建筑公司", "respondent"),
    }
    (attachment,) = case.attachments.all()
    assert attachment.content_type == "image/png" and attachment.name.endswith(".png")


def test_a_fake_scan_is_refused(hall):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("scan.jpg", b"MZ\x90\x00 not an image", content_type="image/jpeg")
    with pytest.raises(DomainError, match="JPG"):
        register(hall, Route.PETITION, photos=[fake])


def test_only_hall_staff_of_the_center_may_register(hall):
    with pytest.raises(DomainError):
        register(hall, Route.PETITION, by=hall.town_b_clerk)
    with pytest.raises(DomainError):
        register(hall, Route.PETITION, by=hall.county_dispatcher)


def test_the_matters_place_must_be_in_the_halls_area(hall):
    town_hall_clerk = staff("town_a_clerk", "window_clerk", center=hall.town_a_center)
    with pytest.raises(DomainError, match="辖区"):
        visit_register(
            by=town_hall_clerk,
            center=hall.town_a_center,
            region=hall.village_b,
            route=Route.PETITION,
            name="李四",
            phone="13900001111",
            matter="x",
        )
