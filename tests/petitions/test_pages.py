"""The petition pages: what staff see and do, and the outsider's 404 on every page."""

from __future__ import annotations

import pytest

from cases.models import Channel, Status
from petitions import services
from petitions.models import FusionMatch, Petition

pytestmark = pytest.mark.django_db


@pytest.fixture
def petition(make_petition):
    return make_petition()


def test_list_shows_the_petition_to_the_county_and_town_but_not_the_outsider(pw, petition, client_for):
    for user in (pw.county_dispatcher, pw.town_a_dispatcher):
        r = client_for(user).get("/petitions/")
        assert r.status_code == 200 and petition.case.tracking_no in r.content.decode()
    r = client_for(pw.outsider).get("/petitions/")
    assert r.status_code == 200 and petition.case.tracking_no not in r.content.decode()


def test_list_filters_by_flag(pw, make_petition, client_for):
    from cases.services import PersonData

    group = make_petition(
        petitioners=[PersonData(name=f"村民{i}", phone=f"1390000000{i}") for i in range(6)],
        title="征地补偿款未发放",
    )
    single = make_petition(
        title="邻居占道堆放杂物", petitioners=[PersonData(name="王五", phone="13600136000")]
    )
    body = client_for(pw.county_dispatcher).get("/petitions/?flag=group").content.decode()
    assert group.case.tracking_no in body and single.case.tracking_no not in body


@pytest.mark.parametrize(
    "url",
    ["/petitions/{pk}/", "/petitions/{pk}/documents/acceptance/"],
)
def test_outsider_gets_404_on_petition_pages(pw, petition, client_for, url):
    services.petition_accept(petition=petition, by=pw.county_dispatcher)
    url = url.format(pk=petition.pk)
    assert client_for(pw.county_dispatcher).get(url).status_code == 200
    assert client_for(pw.outsider).get(url).status_code == 404


def test_outsider_gets_404_on_actions_and_nothing_changes(pw, petition, client_for):
    r = client_for(pw.outsider).post(f"/petitions/{petition.pk}/act/accept/", {"accept-comment": "x"})
    assert r.status_code == 404
    petition.case.refresh_from_db()
    assert petition.case.status == Status.REGISTERED


def test_detail_shows_flow_actions_and_accepting_works(pw, petition, client_for):
    c = client_for(pw.county_dispatcher)
    body = c.get(f"/petitions/{petition.pk}/").content.decode()
    assert "受理" in body and "不予受理" in body and petition.case.title in body
    r = c.post(
        f"/petitions/{petition.pk}/act/accept/",
        {"accept-comment": "符合受理条件", "accept-version": petition.case.version},
    )
    assert r.status_code == 302
    petition.refresh_from_db()
    assert petition.case.status == Status.ACCEPTED
    body = c.get(f"/petitions/{petition.pk}/").content.decode()
    assert "转送交办" in body and "受理告知书" in body


def test_decline_without_reason_shows_a_field_error(pw, petition, client_for):
    r = client_for(pw.county_dispatcher).post(
        f"/petitions/{petition.pk}/act/decline/", {"decline-comment": ""}
    )
    assert r.status_code == 400 and "该字段是必填项" in r.content.decode()


def test_stale_version_is_refused_with_a_message(pw, petition, client_for):
    c = client_for(pw.county_dispatcher)
    r = c.post(f"/petitions/{petition.pk}/act/accept/", {"accept-version": petition.case.version - 1 or 99})
    assert r.status_code == 400 and "已被他人修改" in r.content.decode()


def test_unit_staff_sees_handed_over_petition_and_can_acknowledge(pw, petition, client_for):
    services.petition_accept(petition=petition, by=pw.county_dispatcher)
    services.petition_hand_over(
        petition=Petition.objects.get(pk=petition.pk),
        by=pw.county_dispatcher,
        unit=pw.hrss_bureau,
        comment="请办理",
    )
    c = client_for(pw.hrss_staff)
    body = c.get(f"/petitions/{petition.pk}/").content.decode()
    assert "签收" in body
    r = c.post(f"/petitions/{petition.pk}/act/acknowledge/", {"acknowledge-comment": ""})
    assert r.status_code == 302
    assert Petition.objects.get(pk=petition.pk).case.status == Status.IN_PROGRESS


def test_register_form_registers_and_reports_flags(pw, client_for):
    c = client_for(pw.town_a_dispatcher)
    assert c.get("/petitions/new/").status_code == 200
    data = {
        "channel": Channel.VISIT,
        "category": "labour",
        "title": "工地欠薪",
        "description": "拖欠三个月工资",
        "request": "结清工资",
        "region": pw.village_a.pk,
        "name": "赵六",
        "id_number": "",
        "phone": "+86 137 0013 7000",
        "others": "钱七 13700137001\n孙八\n李九\n周十",
        "people_count": 5,
    }
    r = c.post("/petitions/new/", data)
    assert r.status_code == 302
    p = Petition.objects.get(case__title="工地欠薪")
    assert p.case.owning_center == pw.town_a_center and p.case.people_count == 5
    assert p.case.parties.count() == 5
    r = c.get(r["Location"])
    assert "集体访" in r.content.decode()


def test_register_form_shows_field_errors_for_bad_numbers(pw, client_for):
    r = client_for(pw.town_a_dispatcher).post(
        "/petitions/new/",
        {
            "channel": Channel.VISIT,
            "category": "labour",
            "title": "工地欠薪",
            "region": pw.village_a.pk,
            "name": "赵六",
            "id_number": "430124198506124566",
            "phone": "12345",
            "people_count": 1,
        },
    )
    body = r.content.decode()
    assert r.status_code == 400 and "身份证号码校验位不正确" in body and "电话号码无效" in body
    assert not Petition.objects.exists()


def test_register_form_does_not_offer_other_towns(pw, client_for):
    body = client_for(pw.town_a_dispatcher).get("/petitions/new/").content.decode()
    assert "东门社区" in body and "白沙镇" not in body and "石桥村" not in body


def test_documents_follow_the_flow(pw, petition, client_for):
    c = client_for(pw.county_dispatcher)
    assert c.get(f"/petitions/{petition.pk}/documents/answer/").status_code == 404
    services.petition_decline(petition=petition, by=pw.county_dispatcher, reason="已经诉讼终结")
    body = c.get(f"/petitions/{petition.pk}/documents/decline/").content.decode()
    assert "不予受理告知书" in body and "已经诉讼终结" in body


def test_fusion_page_merges_and_outsider_gets_404(pw, make_petition, client_for):
    online = make_petition(channel=Channel.ONLINE)
    hotline = make_petition(channel=Channel.HOTLINE_12345)
    match = FusionMatch.objects.get(case=hotline.case, other=online.case)
    c = client_for(pw.county_dispatcher)
    body = c.get("/petitions/fusion/").content.decode()
    assert online.case.tracking_no in body and hotline.case.tracking_no in body and "同一人" in body
    out = client_for(pw.outsider)
    assert hotline.case.tracking_no not in out.get("/petitions/fusion/").content.decode()
    assert (
        out.post(f"/petitions/fusion/{match.pk}/decide/", {"decision": "merge_into_other"}).status_code == 404
    )
    # Hand-over waits for the merge.
    services.petition_accept(petition=online, by=pw.county_dispatcher)
    r = c.post(
        f"/petitions/{online.pk}/act/hand-over/",
        {"hand-over-unit": pw.hrss_bureau.pk, "hand-over-comment": "请办理"},
    )
    assert r.status_code == 400 and "疑似多渠道重复" in r.content.decode()
    r = c.post(f"/petitions/fusion/{match.pk}/decide/", {"decision": "merge_into_other"})
    assert r.status_code == 302
    hotline.case.refresh_from_db()
    assert hotline.case.status == Status.MERGED
    r = c.post(
        f"/petitions/{online.pk}/act/hand-over/",
        {"hand-over-unit": pw.hrss_bureau.pk, "hand-over-comment": "请办理"},
    )
    assert r.status_code == 302


def test_repeat_caller_page_is_scoped(pw, make_petition, client_for):
    from cases.services import PersonData

    for i in range(5):
        make_petition(
            channel=Channel.HOTLINE_12345,
            title=f"噪音扰民第{i}次",
            petitioners=[PersonData(name="孙来电", phone="13512345678")],
        )
    body = client_for(pw.county_dispatcher).get("/petitions/repeat-callers/").content.decode()
    assert "135****5678" in body
    assert "135****5678" not in client_for(pw.outsider).get("/petitions/repeat-callers/").content.decode()
