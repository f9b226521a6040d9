"""The case list: filters within jurisdiction, cheap paging, and the Excel export of exactly those rows."""

from __future__ import annotations

import datetime as dt
import io
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cases import services
from cases.models import Case, Category, Channel, Notification, PartyRole, RevealLog, Status
from cases.paging import CappedPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(cw, make_case):
    """Cases across both towns, in several states and colours."""
    person = services.person_upsert(name="张三", id_number="11010519491231002X", phone="13800138000")
    a1 = make_case(
        title="东门欠薪", category=Category.LABOUR, people_count=12, parties=[(person, PartyRole.APPLICANT)]
    )
    a2 = make_case(title="东门噪音", description="夜间施工扰民", channel=Channel.HOTLINE_12345)
    a3 = make_case(
        region=cw.town_a, by=cw.town_a_dispatcher, title="街道物业纠纷", category=Category.PROPERTY
    )
    services.case_accept(case=a3, by=cw.town_a_dispatcher)
    b1 = make_case(region=cw.grid_b, by=cw.village_b_worker, title="石桥欠薪", category=Category.LABOUR)
    c1 = make_case(
        region=cw.county,
        owning_center=cw.c_county,
        by=cw.county_dispatcher,
        title="县城土地纠纷",
        category=Category.LAND,
    )
    return {"a1": a1, "a2": a2, "a3": a3, "b1": b1, "c1": c1}


def listed(client, **params) -> str:
    response = client.get(reverse("cases:list"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_town_sees_its_villages_never_the_neighbour(cw, spread, client_for):
    page = listed(client_for(cw.town_a_dispatcher))
    for key in ("a1", "a2", "a3"):
        assert spread[key].tracking_no in page
    assert spread["b1"].tracking_no not in page and spread["c1"].tracking_no not in page
    county = listed(client_for(cw.county_dispatcher))
    assert all(c.tracking_no in county for c in spread.values())


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "labour"}, {"a1", "b1"}),
        ({"warning_level": "red"}, {"a1"}),
        ({"status": "accepted"}, {"a3"}),
        ({"level": "town"}, {"a3"}),
        ({"channel": "hotline_12345"}, {"a2"}),
        ({"q": "欠薪"}, {"a1", "b1"}),
        ({"q": "夜间施工"}, {"a2"}),  # description
        ({"kind": "dispute", "category": "land"}, {"c1"}),
    ],
)
def test_county_list_filters(cw, spread, client_for, params, expected):
    page = listed(client_for(cw.county_dispatcher), **params)
    shown = {k for k, c in spread.items() if c.tracking_no in page}
    assert shown == expected


def test_region_filter_takes_the_whole_subtree_and_a_tracking_number_finds_one(cw, spread, client_for):
    c = client_for(cw.county_dispatcher)
    page = listed(c, region=cw.town_a.pk)
    assert {k for k, v in spread.items() if v.tracking_no in page} == {"a1", "a2", "a3"}
    page = listed(c, region=cw.grid_b.pk)  # a grid is accepted too
    assert {k for k, v in spread.items() if v.tracking_no in page} == {"b1"}
    page = listed(c, q=spread["a2"].tracking_no)
    assert {k for k, v in spread.items() if v.tracking_no in page} == {"a2"}


def test_date_range_filter_on_registration_day(cw, make_case, client_for):
    old = make_case(title="去年的事项")
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    new = make_case(title="今天的事项")
    today = timezone.localdate().isoformat()
    page = listed(client_for(cw.town_a_dispatcher), created_from=today, created_to=today)
    assert new.tracking_no in page and old.tracking_no not in page
    bad = client_for(cw.town_a_dispatcher).get(
        reverse("cases:list"), {"created_from": today, "created_to": "2020-01-01"}
    )
    assert bad.status_code == 400 and "结束日期不能早于开始日期。" in bad.content.decode()


def test_outsider_cannot_filter_by_a_region_outside_their_scope(cw, spread, client_for):
    response = client_for(cw.outsider).get(reverse("cases:list"), {"region": cw.town_a.pk})
    page = response.content.decode()
    assert response.status_code == 400
    assert spread["a1"].tracking_no not in page and "选择一个有效的选项" in page


def test_list_query_count_does_not_grow_with_rows(cw, make_case, client_for, django_assert_max_num_queries):
    for i in range(3):
        make_case(title=f"事项{i}")
    c = client_for(cw.town_a_dispatcher)
    c.get(reverse("cases:list"))  # warm the session
    with django_assert_max_num_queries(15) as few:
        c.get(reverse("cases:list"))
    for i in range(25):
        make_case(title=f"更多{i}", region=cw.town_a, by=cw.town_a_dispatcher)
    with django_assert_max_num_queries(len(few.captured_queries)):
        c.get(reverse("cases:list"))


def test_capped_paginator_counts_at_most_the_cap(cw, make_case):
    for _ in range(5):
        make_case()
    paginator = CappedPaginator(Case.objects.order_by("pk"), 2, cap=3)
    assert paginator.count == 3 and paginator.capped and paginator.count_text == "3+"
    assert paginator.num_pages == 2
    exact = CappedPaginator(Case.objects.order_by("pk"), 2, cap=10)
    assert exact.count == 5 and not exact.capped and exact.count_text == "5"


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def workbook_rows(content: bytes) -> list[tuple]:
    ws = load_workbook(io.BytesIO(content), read_only=True).active
    return list(ws.iter_rows(values_only=True))


def test_export_holds_exactly_the_filtered_rows_masked_and_is_logged(cw, spread, client_for):
    c = client_for(cw.town_a_dispatcher)
    response = c.post(reverse("cases:export") + "?category=labour")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = workbook_rows(b"".join(response.streaming_content))
    header, body = rows[0], rows[1:]
    assert header[0] == "受理编号"
    assert [r[0] for r in body] == [spread["a1"].tracking_no]  # not town B's labour case
    parties = body[0][header.index("当事人（号码已脱敏）")]
    assert "张三" in parties and "1101**********002X" in parties and "138****8000" in parties
    assert "11010519491231002X" not in str(body) and "13800138000" not in str(body)
    log = RevealLog.objects.get(what=RevealLog.What.EXPORT)
    assert (
        log.user == cw.town_a_dispatcher
        and log.row_count == 1
        and log.filter_description == "纠纷类别：劳动争议（欠薪）"
    )


def test_export_of_everything_in_scope(cw, spread, client_for):
    response = client_for(cw.county_dispatcher).post(reverse("cases:export"))
    numbers = {r[0] for r in workbook_rows(b"".join(response.streaming_content))[1:]}
    assert numbers == {c.tracking_no for c in spread.values()}
    assert RevealLog.objects.get().filter_description == "全部（本人辖区内）"


def test_outsider_export_never_contains_town_a_even_by_url_guessing(cw, spread, client_for):
    c = client_for(cw.outsider)
    guessed = c.post(reverse("cases:export") + f"?region={cw.town_a.pk}")
    assert guessed.status_code == 302 and not RevealLog.objects.exists()
    response = c.post(reverse("cases:export") + "?q=欠薪")
    numbers = {r[0] for r in workbook_rows(b"".join(response.streaming_content))[1:]}
    assert numbers == {spread["b1"].tracking_no}


def test_export_is_post_only(cw, client_for):
    assert client_for(cw.county_dispatcher).get(reverse("cases:export")).status_code == 405


def test_text_that_looks_like_a_formula_stays_text(cw, make_case, client_for):
    make_case(title='=HYPERLINK("http://x")')
    response = client_for(cw.town_a_dispatcher).post(reverse("cases:export"))
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cell = ws.cell(row=2, column=5)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"


def test_large_export_runs_as_a_task_and_arrives_in_the_inbox(
    cw, spread, client_for, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    from cases.tasks import export_cases

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(services, "EXPORT_SYNC_MAX_ROWS", 2)
    c = client_for(cw.town_a_dispatcher)
    with mock.patch.object(export_cases, "delay") as delay, django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("cases:export") + "?kind=dispute")
    assert response.status_code == 302
    assert "已转为后台导出" in c.get(response["Location"]).content.decode()
    kwargs = delay.call_args.kwargs
    assert kwargs["user_id"] == cw.town_a_dispatcher.pk and kwargs["filters"]["kind"] == "dispute"
    assert not RevealLog.objects.exists()  # nothing written yet

    assert export_cases(**kwargs) == 3  # the worker runs it
    assert export_cases(**kwargs) == -1  # delivered twice: done once
    note = Notification.objects.get(user=cw.town_a_dispatcher, kind="export_ready")
    assert note.title == "导出完成：3 条事项" and note.body == "事项类型：矛盾纠纷"
    download = c.get(note.url)
    assert download.status_code == 200
    numbers = {r[0] for r in workbook_rows(b"".join(download.streaming_content))[1:]}
    assert numbers == {spread[k].tracking_no for k in ("a1", "a2", "a3")}
    assert RevealLog.objects.get().row_count == 3
    # Someone else cannot fetch it, even with the link.
    assert client_for(cw.county_dispatcher).get(note.url).status_code == 404
    assert c.get("/cases/exports/..%2F..%2Fsettings.py/").status_code == 404
    assert c.get(reverse("cases:export_download", args=["0" * 32])).status_code == 404


def test_list_and_export_refuse_anonymous(client):
    assert client.get(reverse("cases:list")).status_code == 302
    assert client.post(reverse("cases:export")).status_code == 302


def test_queue_status_filter_closed_cases_leave_the_queue(cw, make_case, client_for):
    case = make_case()
    case = services.case_accept(case=case, by=cw.village_a_worker)
    case = services.case_assign(case=case, by=cw.village_a_worker, users=[cw.village_a_worker])
    case = services.case_start(case=case, by=cw.village_a_worker)
    case = services.case_resolve(case=case, by=cw.village_a_worker, comment="好了")
    services.case_close(case=case, by=cw.village_a_worker, satisfaction="satisfied")
    assert Case.objects.get(pk=case.pk).status == Status.CLOSED
    page = client_for(cw.village_a_worker).get(reverse("cases:queue")).content.decode()
    assert case.tracking_no not in page
