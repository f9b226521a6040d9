"""The audit log (issue 10): every change to a matter and every reveal/export, viewable by the
county, scoped for a town, and not editable from the app."""

from __future__ import annotations

from cases import services
from cases.models import RevealLog
from centers.models import Role
from tests.factories import staff


def test_the_county_sees_changes_reveals_and_exports_and_cannot_edit_them(cw, make_case, client_for):
    case = make_case(title="审计测试")
    services.case_update(case=case, by=cw.village_a_worker, expected_version=case.version, people_count=3)
    person = services.person_upsert(name="张三", id_number="430124198506124565")
    services.person_reveal(user=cw.village_a_worker, person=person, what="id_number", reason="核实身份")
    services.export_logged(user=cw.town_a_dispatcher, filter_description="状态=办理中", row_count=42)

    c = client_for(cw.county_leader)
    page = c.get("/cases/audit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert case.tracking_no in html and "涉及人数" in html and "新建" in html
    access = c.get("/cases/audit/?tab=access").content.decode()
    assert "核实身份" in access and "张三" in access and "状态=办理中" in access and "42" in access
    # Read-only: no method but GET, and the log's rows are the same afterwards.
    before = RevealLog.objects.count()
    assert c.post("/cases/audit/", {"tab": "access"}).status_code == 405
    assert RevealLog.objects.count() == before


def test_a_town_leader_sees_only_the_town_and_a_clerk_nothing(cw, make_case, client_for):
    mine = make_case(title="城关的事项")
    other = make_case(region=cw.grid_b, by=cw.village_b_worker, title="白沙的事项")
    town_b_leader = staff("town_b_leader", Role.CENTER_LEADER, center=cw.c_town_b, full_name="白主任")
    html = client_for(town_b_leader).get("/cases/audit/").content.decode()
    assert other.tracking_no in html and mine.tracking_no not in html
    assert client_for(cw.village_a_worker).get("/cases/audit/").status_code == 403


def test_bad_filters_get_a_chinese_message(cw, client_for):
    html = client_for(cw.county_leader).get("/cases/audit/?date_from=2026-11-20&date_to=2026-11-01").content.decode()
    assert "截止日期不能早于起始日期" in html
