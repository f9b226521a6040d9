"""The case pages: queue, case page and its actions, edit, reveal, attachments, inbox, registration."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import (
    Attachment,
    Case,
    CaseParty,
    JointMeeting,
    LeaderPackage,
    Notification,
    PartyRole,
    Person,
    RevealLog,
    Status,
    TimelineEntry,
    WarningLevel,
)

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"


def html(response) -> str:
    return response.content.decode()


def party_case(make_case, cw, **kw):
    person = services.person_upsert(name="张三", id_number=ID_NUMBER, phone=PHONE)
    return make_case(parties=[(person, PartyRole.APPLICANT)], **kw)


# --------------------------------------------------------------------------------------------
# Queue
# --------------------------------------------------------------------------------------------


def test_dispatcher_lands_on_queue_with_red_first_then_by_due_time(cw, make_case, client_for):
    green = make_case(title="绿色事项")
    red = make_case(title="红色事项", has_casualty=True)
    c = client_for(cw.village_a_worker)
    home = c.get("/")
    assert home.status_code == 302 and home["Location"] == reverse("cases:queue")
    page = html(c.get(reverse("cases:queue")))
    assert page.index("红色事项") < page.index("绿色事项")
    assert "有人员伤亡" in page  # the colour's reason beside the pill
    assert re.search(r"还剩 \d+ (天|小时|分钟)", page)
    assert red.tracking_no in page and green.tracking_no in page


def test_queue_shows_overdue_clock_text(cw, make_case, client_for):
    case = make_case()
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - dt.timedelta(hours=5, minutes=10))
    page = html(client_for(cw.village_a_worker).get(reverse("cases:queue")))
    assert "已超期 5 小时 10 分" in page


def test_queue_of_outsider_does_not_show_town_a_cases(cw, make_case, client_for):
    case = make_case()
    page = html(client_for(cw.outsider).get(reverse("cases:queue")))
    assert case.tracking_no not in page


# --------------------------------------------------------------------------------------------
# The case page
# --------------------------------------------------------------------------------------------


def test_case_page_shows_facts_masked_parties_clock_colour_timeline_and_actions(cw, make_case, client_for):
    case = party_case(make_case, cw, risk_note="当事人情绪激动", amount=5000)
    response = client_for(cw.village_a_worker).get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 200
    page = html(response)
    assert case.tracking_no in page and "东门社区" in page
    assert "1101**********002X" in page and "138****8000" in page
    assert ID_NUMBER not in page and PHONE not in page
    assert "还剩" in page and case.due_explanation in page
    assert "风险迹象：当事人情绪激动" in page
    assert "登记（来访）" in page  # the timeline
    assert 'id="action-accept"' in page and 'id="action-escalate"' in page
    assert 'id="action-resolve"' not in page  # not allowed in this state


@pytest.mark.parametrize("viewer", ["town_a_dispatcher", "county_dispatcher", "county_leader", "sysadmin"])
def test_case_page_renders_for_the_town_and_county_above(cw, make_case, client_for, viewer):
    case = make_case()
    assert client_for(getattr(cw, viewer)).get(reverse("cases:detail", args=[case.pk])).status_code == 200


def outsider_urls(case, party, attachment):
    return [
        ("get", reverse("cases:detail", args=[case.pk]), {}),
        ("get", reverse("cases:edit", args=[case.pk]), {}),
        ("post", reverse("cases:edit", args=[case.pk]), {"title": "改", "version": case.version}),
        ("post", reverse("cases:act", args=[case.pk, "accept"]), {"accept-version": case.version}),
        (
            "post",
            reverse("cases:act", args=[case.pk, "escalate"]),
            {"escalate-version": case.version, "escalate-comment": "x"},
        ),
        ("post", reverse("cases:comment", args=[case.pk]), {"text": "看看"}),
        ("post", reverse("cases:reveal", args=[case.pk]), {"party": party.pk, "what": "id_number"}),
        ("get", reverse("cases:attachment", args=[case.pk, attachment.pk]), {}),
        ("post", reverse("cases:package", args=[case.pk]), {}),
        ("post", reverse("cases:meeting", args=[case.pk]), {}),
    ]


def test_outsider_gets_404_on_every_case_url(cw, make_case, client_for, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    case = party_case(make_case, cw)
    party = case.parties.get()
    attachment = services.attachment_add(
        case=case,
        by=cw.village_a_worker,
        file=SimpleUploadedFile("a.pdf", b"%PDF-1.4 test", "application/pdf"),
    )
    c = client_for(cw.outsider)
    for method, url, data in outsider_urls(case, party, attachment):
        response = getattr(c, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
    assert not RevealLog.objects.exists()
    assert case.timeline.count() == 2  # register + the attachment; nothing from the outsider


def test_assigned_mediator_from_elsewhere_can_open_the_case(cw, make_case, client_for):
    case = services.case_accept(case=make_case(), by=cw.village_a_worker)
    url = reverse("cases:detail", args=[case.pk])
    assert client_for(cw.mediator_b).get(url).status_code == 404
    services.case_assign(case=case, by=cw.village_a_worker, users=[cw.mediator_b], role="mediator")
    assert client_for(cw.mediator_b).get(url).status_code == 200


# --------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------


def test_action_buttons_walk_the_case_to_closed(cw, make_case, client_for):
    case = make_case()
    c = client_for(cw.village_a_worker)

    def act(action, **fields):
        version = Case.objects.get(pk=case.pk).version
        data = {f"{action}-version": version, **{f"{action}-{k}": v for k, v in fields.items()}}
        return c.post(reverse("cases:act", args=[case.pk, action]), data)

    assert act("accept").status_code == 302
    assert act("assign", users=[cw.village_a_worker.pk], role="handler").status_code == 302
    assert act("start").status_code == 302
    missing = act("resolve")
    assert missing.status_code == 400 and "「化解」须填写说明。" in html(missing)
    assert act("resolve", comment="双方和解").status_code == 302
    assert act("close", satisfaction="satisfied", comment="回访满意").status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.satisfaction == "satisfied"
    assert list(case.timeline.values_list("action", flat=True)) == [
        "register",
        "accept",
        "assign",
        "start",
        "resolve",
        "close",
    ]
    page = html(c.get(reverse("cases:detail", args=[case.pk])))
    assert "交办给 陈东湖" in page and "回访办结：满意" in page and "已办结" in page


def test_transfer_extend_and_escalate_forms(cw, make_case, client_for):
    case = services.case_accept(case=make_case(), by=cw.village_a_worker)
    page = html(client_for(cw.village_a_worker).get(reverse("cases:detail", args=[case.pk])))
    assert "城关派出所" in page and "白沙派出所" not in page  # units on the line upward only
    response = client_for(cw.village_a_worker).post(
        reverse("cases:act", args=[case.pk, "transfer"]),
        {"transfer-version": case.version, "transfer-unit": cw.police_a.pk, "transfer-comment": "涉治安"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.owning_unit == cw.police_a
    bad = client_for(cw.town_a_dispatcher).post(
        reverse("cases:act", args=[case.pk, "extend"]),
        {"extend-version": case.version, "extend-days": 200, "extend-comment": "需勘查"},
    )
    assert bad.status_code == 400 and "延期天数须在 1 到 90 天之间。" in html(bad)
    ok = client_for(cw.town_a_dispatcher).post(
        reverse("cases:act", args=[case.pk, "extend"]),
        {"extend-version": case.version, "extend-days": 3, "extend-comment": "需勘查"},
    )
    assert ok.status_code == 302
    case.refresh_from_db()
    assert "已批准延期 3 天" in case.due_explanation
    up = client_for(cw.town_a_dispatcher).post(
        reverse("cases:act", args=[case.pk, "escalate"]),
        {"escalate-version": case.version, "escalate-comment": "需县级协调"},
    )
    assert up.status_code == 302
    case.refresh_from_db()
    assert case.owning_center == cw.c_town_a and case.owning_unit is None  # one level up


def test_action_not_allowed_for_this_user_is_refused_with_a_message(cw, make_case, client_for):
    case = make_case()
    # The town above can see the case but may not accept it for the village.
    response = client_for(cw.town_a_dispatcher).post(
        reverse("cases:act", args=[case.pk, "accept"]), {"accept-version": case.version}
    )
    assert response.status_code == 403 and "您无权对该事项执行「受理」" in html(response)
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_stale_action_shows_a_clear_message_and_keeps_the_comment(cw, make_case, client_for):
    case = make_case()
    seen = case.version
    services.case_update(case=case, by=cw.town_a_dispatcher, expected_version=seen, address="解放路 1 号")
    response = client_for(cw.village_a_worker).post(
        reverse("cases:act", args=[case.pk, "escalate"]),
        {"escalate-version": seen, "escalate-comment": "我写的上报理由"},
    )
    assert response.status_code == 409
    page = html(response)
    assert "该事项已被他人修改（王芳 于" in page and "您填写的内容保留在下方" in page
    assert "我写的上报理由" in page
    case.refresh_from_db()
    assert case.owning_center == cw.c_village_a
    assert f'value="{case.version}"' in page  # the form now carries the version shown


# --------------------------------------------------------------------------------------------
# Edit, comment, attachments
# --------------------------------------------------------------------------------------------


def edit_data(case, **changes):
    data = {
        "title": case.title,
        "description": case.description,
        "category": case.category,
        "address": case.address,
        "occurred_at": "",
        "amount": "",
        "people_count": case.people_count,
        "risk_note": case.risk_note,
        "failed_mediations": case.failed_mediations,
        "version": case.version,
    }
    data.update(changes)
    return data


def test_edit_form_saves_changes_and_shows_field_errors(cw, make_case, client_for):
    case = make_case()
    c = client_for(cw.village_a_worker)
    url = reverse("cases:edit", args=[case.pk])
    assert c.get(url).status_code == 200
    bad = c.post(url, edit_data(case, people_count=0, amount="-5", title=""))
    page = html(bad)
    assert bad.status_code == 400
    assert "涉及人数至少为 1。" in page and "涉及金额不能为负数。" in page and "请填写事项摘要。" in page
    ok = c.post(url, edit_data(case, people_count=25, address="解放路 1 号"))
    assert ok.status_code == 302
    case.refresh_from_db()
    assert (
        case.people_count == 25 and case.address == "解放路 1 号" and case.warning_level == WarningLevel.RED
    )
    edit = case.timeline.filter(action="update").last()  # turning red also supervises it (cases.supervision)
    assert "修改：详细地址、涉及人数" in edit.summary or "修改：涉及人数、详细地址" in edit.summary


def test_stale_edit_keeps_the_users_input(cw, make_case, client_for):
    case = make_case()
    seen = case.version
    services.case_update(case=case, by=cw.town_a_dispatcher, expected_version=seen, description="王芳的补充")
    response = client_for(cw.village_a_worker).post(
        reverse("cases:edit", args=[case.pk]), edit_data(case, version=seen, address="我填的地址")
    )
    assert response.status_code == 409
    page = html(response)
    assert "该事项已被他人修改" in page and "我填的地址" in page
    case.refresh_from_db()
    assert case.address == "" and case.description == "王芳的补充"


def test_readers_who_cannot_act_get_no_edit_page(cw, make_case, client_for):
    case = make_case()
    assert client_for(cw.grid_worker_a).get(reverse("cases:edit", args=[case.pk])).status_code == 403


def test_comment_goes_on_the_timeline(cw, make_case, client_for):
    case = make_case()
    c = client_for(cw.town_a_dispatcher)
    assert c.post(reverse("cases:comment", args=[case.pk]), {"text": ""}).status_code == 400
    assert c.post(reverse("cases:comment", args=[case.pk]), {"text": "已电话联系双方"}).status_code == 302
    assert case.timeline.filter(
        action="comment", comment="已电话联系双方", actor=cw.town_a_dispatcher
    ).exists()


def test_attachment_upload_checks_type_content_and_size(cw, make_case, client_for, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    settings.UPLOAD_MAX_BYTES = 1024
    case = make_case()
    c = client_for(cw.village_a_worker)
    url = reverse("cases:attach", args=[case.pk])
    exe = c.post(url, {"file": SimpleUploadedFile("run.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert exe.status_code == 400 and "只能上传图片" in html(exe)
    fake = c.post(
        url, {"file": SimpleUploadedFile("scan.pdf", b"<script>alert(1)</script>", "application/pdf")}
    )
    assert fake.status_code == 400 and "文件内容与扩展名不符" in html(fake)
    big = c.post(
        url, {"file": SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 2000, "image/png")}
    )
    assert big.status_code == 400 and "不能超过" in html(big)
    ok = c.post(url, {"file": SimpleUploadedFile("现场照片.png", b"\x89PNG\r\n\x1a\n1234", "image/png")})
    assert ok.status_code == 302
    att = Attachment.objects.get(case=case)
    assert att.name == "现场照片.png" and att.content_type == "image/png"
    download = c.get(reverse("cases:attachment", args=[case.pk, att.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"\x89PNG")
    assert case.timeline.filter(action="attachment", summary="上传附件：现场照片.png").exists()


# --------------------------------------------------------------------------------------------
# Reveal
# --------------------------------------------------------------------------------------------


def test_reveal_shows_the_full_number_once_and_logs_it(cw, make_case, client_for):
    case = party_case(make_case, cw)
    party = case.parties.get()
    response = client_for(cw.village_a_worker).post(
        reverse("cases:reveal", args=[case.pk]), {"party": party.pk, "what": "id_number"}
    )
    assert response.status_code == 200 and ID_NUMBER in html(response)
    assert response["Cache-Control"] == "no-store"
    log = RevealLog.objects.get()
    assert log.user == cw.village_a_worker and log.person == party.person and case.tracking_no in log.reason
    # The next plain view is masked again.
    assert ID_NUMBER not in html(client_for(cw.village_a_worker).get(reverse("cases:detail", args=[case.pk])))


def test_reveal_refused_for_roles_without_the_right(cw, make_case, client_for):
    case = party_case(make_case, cw)
    services.case_transfer(
        case=services.case_accept(case=case, by=cw.village_a_worker),
        by=cw.village_a_worker,
        unit=cw.police_a,
        comment="转派出所",
    )
    party = case.parties.get()
    c = client_for(cw.police_a_staff)  # unit staff: may work the case, may not see full numbers
    page = html(c.get(reverse("cases:detail", args=[case.pk])))
    assert "显示完整号码" not in page
    response = c.post(reverse("cases:reveal", args=[case.pk]), {"party": party.pk, "what": "phone"})
    assert response.status_code == 403 and "无权查看完整" in html(response)
    assert PHONE not in html(response) and not RevealLog.objects.exists()


def test_reveal_of_another_cases_party_is_404(cw, make_case, client_for):
    mine = make_case()
    theirs = party_case(make_case, cw, region=cw.village_b, by=cw.village_b_worker)
    other_party = theirs.parties.get()
    response = client_for(cw.village_a_worker).post(
        reverse("cases:reveal", args=[mine.pk]), {"party": other_party.pk, "what": "id_number"}
    )
    assert response.status_code == 404 and not RevealLog.objects.exists()


# --------------------------------------------------------------------------------------------
# Red response: 领导包案 and 联席会议
# --------------------------------------------------------------------------------------------


def test_red_county_case_offers_package_and_meeting_to_leaders(cw, make_case, client_for):
    case = make_case(region=cw.county, owning_center=cw.c_county, people_count=30)
    assert case.warning_level == WarningLevel.RED and case.level == "county"
    leader = client_for(cw.county_leader)
    page = html(leader.get(reverse("cases:detail", args=[case.pk])))
    assert 'id="package-form"' in page and 'id="meeting-form"' in page
    assert 'id="package-form"' not in html(
        client_for(cw.county_dispatcher).get(reverse("cases:detail", args=[case.pk]))
    )
    past = leader.post(
        reverse("cases:package", args=[case.pk]),
        {
            "package-leader": cw.county_leader.pk,
            "package-plan": "一案一策",
            "package-report_back_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert past.status_code == 400 and "汇报日期不能早于今天。" in html(past)
    ok = leader.post(
        reverse("cases:package", args=[case.pk]),
        {
            "package-leader": cw.county_leader.pk,
            "package-plan": "一案一策",
            "package-task_force": [cw.county_dispatcher.pk],
            "package-report_back_on": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
        },
    )
    assert ok.status_code == 302
    assert LeaderPackage.objects.get(case=case).leader == cw.county_leader
    meeting = leader.post(
        reverse("cases:meeting", args=[case.pk]),
        {
            "meeting-title": "群体欠薪联席会议",
            "meeting-held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "meeting-participants": "人社局、公安局",
            "meeting-decisions": "三日内垫付",
            "task-TOTAL_FORMS": 3,
            "task-INITIAL_FORMS": 0,
            "task-MIN_NUM_FORMS": 0,
            "task-MAX_NUM_FORMS": 20,
            "task-0-task": "核实工资表",
            "task-0-due_on": timezone.localdate().isoformat(),
            "task-0-assignee": cw.county_dispatcher.pk,
            "task-1-task": "没有期限的任务",
        },
    )
    assert meeting.status_code == 400 and "请填写完成时限。" in html(meeting)
    assert not JointMeeting.objects.exists()
    data = meeting.wsgi_request.POST.copy()
    data["task-1-task"] = ""
    assert leader.post(reverse("cases:meeting", args=[case.pk]), data).status_code == 302
    m = JointMeeting.objects.get(case=case)
    assert m.center == cw.c_county and m.tasks.get().assignee == cw.county_dispatcher
    page = html(leader.get(reverse("cases:detail", args=[case.pk])))
    assert "群体欠薪联席会议" in page and "一案一策" in page and 'id="package-form"' not in page


def test_package_is_not_offered_on_a_village_case(cw, make_case, client_for):
    case = make_case(people_count=30)
    response = client_for(cw.county_leader).post(reverse("cases:package", args=[case.pk]), {})
    assert response.status_code == 403


# --------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------


def create_data(cw, **over):
    data = {
        "kind": "dispute",
        "channel": "visit",
        "category": "labour",
        "title": "工地欠薪",
        "description": "12 名工人被拖欠工资",
        "region": cw.village_a.pk,
        "grid": cw.grid_a.pk,
        "address": "东门路 3 号",
        "occurred_at": "",
        "amount": "86000",
        "people_count": "12",
        "risk_note": "",
        "party-TOTAL_FORMS": "2",
        "party-INITIAL_FORMS": "0",
        "party-MIN_NUM_FORMS": "0",
        "party-MAX_NUM_FORMS": "30",
        "party-0-name": "张三",
        "party-0-id_number": ID_NUMBER.lower(),
        "party-0-phone": "+86 138 0013 8000",
        "party-0-role": "applicant",
        "party-0-kind": "individual",
        "party-1-name": "某建筑公司",
        "party-1-id_number": "",
        "party-1-phone": "0731-84567890",
        "party-1-role": "respondent",
        "party-1-kind": "organisation",
    }
    data.update(over)
    return data


def test_register_a_case_with_parties(cw, client_for):
    c = client_for(cw.village_a_worker)
    assert c.get(reverse("cases:create")).status_code == 200
    response = c.post(reverse("cases:create"), create_data(cw))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    assert (
        case.region == cw.grid_a
        and case.owning_center == cw.c_village_a
        and case.registered_by == cw.village_a_worker
    )
    assert case.warning_level == WarningLevel.RED  # 12 people ≥ the group threshold
    applicant = CaseParty.objects.get(case=case, role="applicant").person
    assert applicant.id_number == ID_NUMBER and applicant.phone == PHONE and applicant.gender == "女"
    assert CaseParty.objects.get(case=case, role="respondent").person.phone == "073184567890"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("party-0-id_number", "110105194912310021", "身份证号校验位不正确"),
        ("party-0-id_number", "1101051949", "身份证号应为 18 位，您输入了 10 位。"),
        ("party-0-id_number", "A1010519491231002X", "前 17 位须为数字"),
        ("party-0-phone", "1380013800", "电话号码不正确"),
        ("party-1-id_number", "91430100123456789X", "统一社会信用代码不正确"),
        ("grid", "other-grid", "该网格不在"),
        ("people_count", "0", "涉及人数至少为 1。"),
        ("title", "", "请填写事项摘要。"),
    ],
)
def test_registration_errors_are_field_level_and_nothing_is_saved(cw, client_for, field, value, message):
    if value == "other-grid":
        from tests.factories import RegionFactory

        value = RegionFactory(parent=cw.town_a, kind="village", code="430124001002", name="西门社区").pk
        value = RegionFactory(
            parent=cw.town_a.get_children().get(code="430124001002"),
            kind="grid",
            code="430124001002001",
            name="西门第1网格",
        ).pk
    response = client_for(cw.village_a_worker if field != "grid" else cw.town_a_dispatcher).post(
        reverse("cases:create"), create_data(cw, **{field: value})
    )
    assert response.status_code == 400
    page = html(response)
    assert message in page and "未保存任何内容" in page
    assert not Case.objects.exists() and not Person.objects.exists()
    assert "工地欠薪" in page or field == "title"  # the user's input is still there


def test_registration_place_must_be_in_the_users_scope(cw, client_for):
    response = client_for(cw.village_a_worker).post(
        reverse("cases:create"), create_data(cw, region=cw.village_b.pk, grid="")
    )
    assert response.status_code == 400 and not Case.objects.exists()


def test_registration_page_is_for_center_staff(cw, client_for):
    assert client_for(cw.police_a_staff).get(reverse("cases:create")).status_code == 403
    assert client_for(cw.mediator).get(reverse("cases:create")).status_code == 403


# --------------------------------------------------------------------------------------------
# Inbox
# --------------------------------------------------------------------------------------------


def test_inbox_lists_and_marks_read(cw, make_case, client_for):
    case = make_case(by=cw.town_a_dispatcher)  # notifies the village station's dispatcher
    other = make_case(by=cw.town_a_dispatcher, title="第二件")
    c = client_for(cw.village_a_worker)
    page = html(c.get(reverse("cases:inbox")))
    assert f"新事项待受理：{case.tracking_no}" in page
    assert 'id="inbox-unread">2<' in page  # the header badge
    note = Notification.objects.get(user=cw.village_a_worker, case=case)
    opened = c.post(reverse("cases:inbox_read"), {"id": note.pk, "open": "1"})
    assert opened.status_code == 302 and opened["Location"] == f"/cases/{case.pk}/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert "第二件" in html(c.get(reverse("cases:inbox") + "?unread=1"))
    assert case.tracking_no not in html(c.get(reverse("cases:inbox") + "?unread=1"))
    c.post(reverse("cases:inbox_read"))
    assert not Notification.objects.filter(user=cw.village_a_worker, read_at__isnull=True).exists()
    assert other.tracking_no in html(c.get(reverse("cases:inbox")))


def test_someone_elses_notification_cannot_be_marked(cw, make_case, client_for):
    make_case(by=cw.town_a_dispatcher)
    note = Notification.objects.get(user=cw.village_a_worker)
    assert client_for(cw.outsider).post(reverse("cases:inbox_read"), {"id": note.pk}).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


# --------------------------------------------------------------------------------------------
# Admin
# --------------------------------------------------------------------------------------------


def test_admin_edits_rules_reads_cases_and_never_deletes_the_access_log(cw, make_case, client_for):
    case = make_case()
    services.person_reveal(
        user=cw.village_a_worker, person=services.person_upsert(name="李四", phone=PHONE), what="phone"
    )
    c = client_for(cw.sysadmin)
    for name in (
        "clockrule",
        "workday",
        "calendaryear",
        "warningpolicy",
        "case",
        "reveallog",
        "notification",
    ):
        assert c.get(reverse(f"admin:cases_{name}_changelist")).status_code == 200, name
    found = html(c.get(reverse("admin:cases_case_changelist") + f"?q={case.tracking_no}"))
    assert case.tracking_no in found
    log = RevealLog.objects.get()
    assert c.get(reverse("admin:cases_reveallog_delete", args=[log.pk])).status_code == 403
    assert c.get(reverse("admin:cases_case_add")).status_code == 403
    assert c.get(reverse("admin:cases_clockrule_add")).status_code == 200


def test_timeline_entries_from_the_sweep_read_as_system(cw, make_case, client_for):
    case = make_case()
    TimelineEntry.objects.create(
        case=case,
        at=timezone.now(),
        actor=None,
        action="overdue",
        summary="超期自动上报",
        met_deadline=False,
        late_seconds=7200,
    )
    page = html(client_for(cw.village_a_worker).get(reverse("cases:detail", args=[case.pk])))
    assert "系统" in page and "超期 2 小时" in page
