"""The grid pages: the worker's phone pages, hazard handling, teams, and the outsider's 404."""

from __future__ import annotations

import pytest

from cases.models import Case, CaseKind, Channel, Status, TimelineEntry
from grids import services
from grids.models import (
    GridProfile,
    GridTeamMember,
    Hazard,
    HazardType,
    HouseholdVisit,
    Severity,
    TeamRole,
    VisitFinding,
)

from .conftest import png

pytestmark = pytest.mark.django_db


def test_grid_worker_lands_on_today_with_big_buttons_and_their_grid(gw, client_for):
    c = client_for(gw.grid_worker_a)
    r = c.get("/", follow=True)
    body = r.content.decode()
    assert r.redirect_chain[-1][0] == "/grids/"
    assert "今日任务" in body and "记录走访" in body and "上报纠纷" in body and "上报隐患" in body
    assert "第1网格" in body and 'name="viewport"' in body
    # 第1网格 has never been visited: the worker sees the warning.
    assert "没有入户走访记录" in body


def test_someone_without_a_grid_is_told_so(cw, client_for):
    r = client_for(cw.grid_worker_a).get("/grids/visits/new/")
    assert r.status_code == 403 and "还没有被编入任何网格" in r.content.decode()


def test_logging_a_visit_with_a_photo(gw, client_for):
    c = client_for(gw.grid_worker_a)
    r = c.post(
        "/grids/visits/new/",
        {
            "grid": gw.grid_a.pk,
            "household": "李大爷",
            "address": "东门社区5栋2单元",
            "finding": "normal",
            "photo": png(),
        },
    )
    assert r.status_code == 302 and r["Location"] == "/grids/"
    visit = HouseholdVisit.objects.get()
    assert visit.worker == gw.grid_worker_a and visit.grid == gw.grid_a and visit.photo
    assert c.get(f"/grids/visits/{visit.pk}/photo/").status_code == 200
    assert client_for(gw.outsider).get(f"/grids/visits/{visit.pk}/photo/").status_code == 404
    body = c.get("/grids/").content.decode()
    assert 'id="visits-today">1<' in body and "没有入户走访记录" not in body


def test_a_visit_with_a_finding_needs_notes_and_leads_to_the_report_form(gw, client_for):
    c = client_for(gw.grid_worker_a)
    r = c.post(
        "/grids/visits/new/",
        {"grid": gw.grid_a.pk, "household": "王婶", "address": "6栋", "finding": "dispute"},
    )
    assert r.status_code == 400 and "发现问题的，请填写走访情况" in r.content.decode()
    assert not HouseholdVisit.objects.exists()
    r = c.post(
        "/grids/visits/new/",
        {
            "grid": gw.grid_a.pk,
            "household": "王婶",
            "address": "6栋",
            "finding": "dispute",
            "notes": "与邻居因排水争吵",
        },
    )
    visit = HouseholdVisit.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/grids/disputes/new/?visit={visit.pk}"
    body = c.get(r["Location"]).content.decode()
    assert "来自走访：王婶" in body and "与邻居因排水争吵" in body


def test_a_photo_that_is_not_a_photo_is_refused_on_the_page(gw, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = client_for(gw.grid_worker_a).post(
        "/grids/visits/new/",
        {
            "grid": gw.grid_a.pk,
            "household": "李大爷",
            "address": "5栋",
            "finding": "normal",
            "photo": SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg"),
        },
    )
    assert r.status_code == 400 and "只能上传 JPG、PNG 或 WebP 格式的照片" in r.content.decode()
    assert not HouseholdVisit.objects.exists()


def test_reporting_a_dispute_from_a_visit_puts_it_in_the_village_queue_with_grid_and_reporter(gw, client_for):
    c = client_for(gw.grid_worker_a)
    visit = services.visit_log(
        by=gw.grid_worker_a,
        grid=gw.grid_a,
        household="王婶",
        address="6栋",
        finding=VisitFinding.DISPUTE,
        notes="排水",
    )
    r = c.post(
        "/grids/disputes/new/",
        {
            "grid": gw.grid_a.pk,
            "category": "neighbour",
            "title": "6栋王婶与邻居排水纠纷",
            "people_count": "2",
            "party_name": "王婶",
            "party_phone": "13900002222",
            "visit": visit.pk,
        },
    )
    case = Case.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/grids/reports/{case.pk}/"
    assert case.kind == CaseKind.DISPUTE and case.channel == Channel.GRID and case.region == gw.grid_a
    assert case.owning_center == gw.c_village_a and case.registered_by == gw.grid_worker_a
    visit.refresh_from_db()
    assert visit.case == case
    queue = client_for(gw.village_a_worker).get("/cases/queue/").content.decode()
    assert case.tracking_no in queue and "第1网格" in queue and "上报人：陈静" in queue
    # The worker follows it up on their phone.
    body = c.get(f"/grids/reports/{case.pk}/").content.decode()
    assert case.tracking_no in body and "东门社区" in body
    r = c.post(f"/grids/reports/{case.pk}/follow-up/", {"text": "双方情绪激动，需尽快调解"})
    assert r.status_code == 302
    assert TimelineEntry.objects.filter(case=case, action="comment", actor=gw.grid_worker_a).exists()
    assert case.tracking_no in c.get("/grids/reports/").content.decode()
    # Others: the outsider gets 404 on the report.
    assert client_for(gw.outsider).get(f"/grids/reports/{case.pk}/").status_code == 404


def test_dispute_form_errors_are_shown_and_nothing_is_registered(gw, client_for):
    r = client_for(gw.grid_worker_a).post(
        "/grids/disputes/new/", {"grid": gw.grid_a.pk, "title": "", "people_count": "0"}
    )
    body = r.content.decode()
    assert r.status_code == 400 and "必填" in body
    assert not Case.objects.exists()


def test_a_worker_cannot_report_for_another_grid(gw, client_for):
    r = client_for(gw.grid_worker_a).post(
        "/grids/disputes/new/",
        {"grid": gw.grid_b.pk, "category": "neighbour", "title": "x", "people_count": "1"},
    )
    assert r.status_code == 400 and not Case.objects.exists()


def test_hazard_from_report_to_verification_through_the_pages(gw, client_for):
    worker, station, unit = (client_for(u) for u in (gw.grid_worker_a, gw.village_a_worker, gw.unit_staff))
    r = worker.post(
        "/grids/hazards/new/",
        {
            "grid": gw.grid_a.pk,
            "hazard_type": "fire",
            "severity": "general",
            "place": "3栋楼道",
            "photo": png(),
        },
    )
    hazard = Hazard.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/grids/hazards/{hazard.pk}/"
    url = f"/grids/hazards/{hazard.pk}/"
    body = worker.get(url).content.decode()
    assert "待交办" in body and "隐患照片" in body and "交办整改" not in body
    # The station sees it in its list and hands it out.
    assert hazard.case.tracking_no in station.get("/grids/hazards/").content.decode()
    body = station.get(url).content.decode()
    assert "交办整改" in body and "城关派出所" in body and "白沙派出所" not in body
    v = hazard.case.version
    r = station.post(
        f"{url}act/assign/", {"assign-unit": gw.police_a.pk, "assign-requirement": "", "assign-version": v}
    )
    assert r.status_code == 400 and "必填" in r.content.decode()
    r = station.post(
        f"{url}act/assign/",
        {"assign-unit": gw.police_a.pk, "assign-requirement": "清理楼道", "assign-version": v},
    )
    assert r.status_code == 302
    # A second tab with the old version is refused, not applied twice.
    r = station.post(
        f"{url}act/assign/",
        {"assign-unit": gw.police_a.pk, "assign-requirement": "再交办", "assign-version": v},
    )
    assert r.status_code in (400, 409)
    hazard.refresh_from_db()
    assert hazard.requirement == "清理楼道" and hazard.case.status == Status.IN_PROGRESS
    # The unit rectifies with evidence.
    assert hazard.case.tracking_no in unit.get("/grids/hazards/").content.decode()
    v = hazard.case.version
    r = unit.post(f"{url}act/rectify/", {"rectify-rectification": "已清理", "rectify-version": v})
    assert r.status_code == 400 and "必填" in r.content.decode()
    r = unit.post(
        f"{url}act/rectify/",
        {"rectify-rectification": "已清理", "rectify-evidence": png("after.png"), "rectify-version": v},
    )
    assert r.status_code == 302
    hazard.refresh_from_db()
    assert hazard.case.status == Status.RESOLVED and hazard.evidence is not None
    # The worker sees it on today's page and verifies.
    assert "待核查的隐患整改" in worker.get("/grids/").content.decode()
    body = worker.get(url).content.decode()
    assert "核查销号" in body and "整改佐证" in body
    r = worker.post(
        f"{url}act/verify/", {"verify-comment": "现场核查无误", "verify-version": hazard.case.version}
    )
    assert r.status_code == 302
    hazard.refresh_from_db()
    assert hazard.case.status == Status.CLOSED and "已销号" in worker.get(url).content.decode()


def test_outsider_gets_404_on_every_page_about_grid_a(gw, client_for):
    hazard = services.hazard_report(
        by=gw.grid_worker_a, grid=gw.grid_a, hazard_type=HazardType.FIRE, severity=Severity.GENERAL, place="x"
    )
    c = client_for(gw.outsider)
    for url in (
        f"/grids/hazards/{hazard.pk}/",
        f"/grids/reports/{hazard.case.pk}/",
        f"/grids/g/{gw.grid_a.pk}/",
        f"/grids/list/?region={gw.town_a.pk}",
        f"/grids/figures/?region={gw.town_a.pk}",
    ):
        assert c.get(url).status_code in (400, 404), url
    r = c.post(
        f"/grids/hazards/{hazard.pk}/act/assign/", {"assign-unit": gw.police_b.pk, "assign-requirement": "x"}
    )
    assert r.status_code == 404
    assert hazard.case.tracking_no not in c.get("/grids/hazards/?step=&mine=").content.decode()


def test_grid_card_shows_the_3_plus_n_team_and_counts_and_the_town_edits_it(gw, client_for):
    c = client_for(gw.town_a_dispatcher)
    url = f"/grids/g/{gw.grid_a.pk}/"
    body = c.get(url).content.decode()
    assert "网格联系卡" in body and "陈静" in body and "张党员" in body and 'href="tel:13900001111"' in body
    assert "260" in body and "780" in body
    r = c.post(f"{url}members/", {"role": TeamRole.INFO_COLLECTOR, "name": "赵信息", "phone": "13700003333"})
    assert r.status_code == 302
    assert GridTeamMember.objects.filter(grid=gw.grid_a, role=TeamRole.INFO_COLLECTOR, name="赵信息").exists()
    r = c.post(f"{url}members/", {"role": TeamRole.PARTY_LEADER, "name": "又一个"})
    assert r.status_code == 400 and "该网格已有党小组长" in r.content.decode()
    r = c.post(
        f"{url}profile/",
        {
            "households": 270,
            "population": 800,
            "houses": 95,
            "floating_population": 40,
            "service_phone": "0731-1234",
        },
    )
    assert r.status_code == 302
    gw.grid_a.refresh_from_db()
    gw.village_a.refresh_from_db()
    assert gw.grid_a.households == 270 and GridProfile.objects.get(grid=gw.grid_a).houses == 95
    # The worker sees the card but cannot change it.
    w = client_for(gw.grid_worker_a)
    assert "赵信息" in w.get(url).content.decode() and "调整 3+N 团队" not in w.get(url).content.decode()
    r = w.post(f"{url}profile/", {"households": 1, "population": 1, "houses": 1, "floating_population": 0})
    assert r.status_code == 403
    gw.grid_a.refresh_from_db()
    assert gw.grid_a.households == 270


def test_a_grid_worker_off_the_team_loses_the_station_post_unless_another_grid_keeps_it(gw, client_for):
    from centers.models import Membership, RegionKind, Role
    from tests.factories import RegionFactory

    def posted() -> bool:
        return Membership.objects.filter(
            user=gw.grid_worker_a, role=Role.GRID_WORKER, center=gw.village_a_center, is_active=True
        ).exists()

    grid_2 = RegionFactory(parent=gw.village_a, name="第2网格", kind=RegionKind.GRID, code="430124001001002")
    second = services.grid_team_member_add(
        grid=grid_2, by=gw.town_a_dispatcher, role=TeamRole.GRID_WORKER, user=gw.grid_worker_a
    )
    services.grid_team_member_end(member=gw.member_a, by=gw.town_a_dispatcher)
    assert posted()  # still works grid 2 of the same village
    services.grid_team_member_end(member=second, by=gw.town_a_dispatcher)
    assert not posted()
    # Off the station, the village's matters are out of reach.
    assert client_for(gw.grid_worker_a).get(f"/grids/g/{gw.grid_a.pk}/").status_code == 404
    with pytest.raises(services.DomainError, match="已离岗"):
        services.grid_team_member_end(member=second, by=gw.town_a_dispatcher)


def test_grid_list_totals_the_counts_under_the_town(gw, client_for):
    services.grid_profile_update(
        grid=gw.grid_a, by=gw.town_a_dispatcher, households=260, population=780, houses=90
    )
    body = client_for(gw.town_a_dispatcher).get(f"/grids/list/?region={gw.town_a.pk}").content.decode()
    assert "第1网格" in body and ">90<" in body
    county = client_for(gw.county_dispatcher).get(f"/grids/list/?region={gw.county.pk}").content.decode()
    assert ">490<" in county  # 260 + 230 households in the county's two grids


def test_every_staff_page_renders_for_the_town(gw, client_for):
    import datetime as dt

    from django.utils import timezone

    sweep = services.sweep_create(
        by=gw.town_a_dispatcher,
        region=gw.town_a,
        rhythm="special",
        period_start=timezone.localdate(),
        due_on=timezone.localdate() + dt.timedelta(days=5),
        title="防汛专项排查",
    )
    c = client_for(gw.town_a_dispatcher)
    for url in (
        "/grids/list/",
        f"/grids/list/?region={gw.town_a.pk}",
        "/grids/figures/",
        f"/grids/figures/?region={gw.town_a.pk}&idle_days=3",
        "/grids/sweeps/",
        "/grids/sweeps/new/",
        f"/grids/sweeps/{sweep.pk}/",
        f"/grids/sweeps/tasks/{sweep.tasks.get().pk}/",
        "/grids/hazards/",
    ):
        r = c.get(url)
        assert r.status_code == 200, url
    assert "防汛专项排查" in client_for(gw.grid_worker_a).get("/grids/").content.decode()


def test_phone_pages_are_light_and_need_nothing_from_outside(gw, client_for):
    """A village's mobile signal: each page with its stylesheet and script stays small, loads nothing
    from elsewhere and shows no pictures unless asked."""
    import re
    from pathlib import Path

    from django.contrib.staticfiles import finders

    c = client_for(gw.grid_worker_a)
    for url in ("/grids/", "/grids/visits/new/", "/grids/disputes/new/", "/grids/hazards/new/", "/grids/reports/"):
        html = c.get(url).content.decode()
        assert not re.search(r'(?:href|src)="(?:https?:)?//', html), url
        assert "<img" not in html, url
        assets = set(re.findall(r'(?:href|src)="/static/([^"]+)"', html))
        assert assets == {"css/app.css", "grids/grids.css", "grids/grids.js"}, url
        total = len(html.encode()) + sum(Path(finders.find(a)).stat().st_size for a in assets)
        assert total < 40_000, (url, total)
