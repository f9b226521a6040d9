"""Regions, petitions and hazards over the API: the same gate, sync order and services."""

from __future__ import annotations

import pytest

from cases.models import Category, Channel, Status
from cases.services import PersonData
from grids.models import HazardType, Severity, TeamRole
from grids.services import grid_team_member_add, hazard_report
from petitions.models import Acceptance
from petitions.services import petition_register

pytestmark = pytest.mark.django_db


def results(r) -> list[dict]:
    assert r.status_code == 200, r.content
    return r.json()["results"]


def test_town_token_sees_the_places_of_its_town_only(api):
    codes = {row["code"] for row in results(api.a.get("/api/v1/regions/"))}
    assert codes == {api.town_a.code, api.village_a.code, api.grid_a.code}
    rows = results(api.a.get("/api/v1/grids/"))
    assert [(r["code"], r["parent"], r["grid_level"]) for r in rows] == [(api.grid_a.code, api.village_a.code, 4)]
    assert [r["code"] for r in results(api.a.get("/api/v1/regions/", {"parent": api.town_a.code}))] == [
        api.village_a.code
    ]
    assert api.a.get(f"/api/v1/regions/{api.village_a.code}/").json()["name"] == api.village_a.name
    assert api.a.get(f"/api/v1/regions/{api.village_b.code}/").status_code == 404
    assert results(api.a.get("/api/v1/regions/", {"under": api.town_b.code})) == []


def petition(api, region, by):
    return petition_register(
        by=by, channel=Channel.VISIT, category=Category.LABOUR, title="某工地拖欠农民工工资", region=region,
        petitioners=[PersonData(name="张三", id_number="430124198506124565", phone="13800138000")],
        request="要求结清拖欠工资",
    )


def test_petitions_are_listed_in_the_jurisdiction_and_accepted_through_the_petition_service(api):
    mine = petition(api, api.town_a, api.town_a_dispatcher)
    theirs = petition(api, api.town_b, api.town_b_dispatcher)
    rows = results(api.a.get("/api/v1/petitions/"))
    assert [r["case"]["id"] for r in rows] == [mine.case_id]
    assert rows[0]["petitioner_name"] == "张三" and rows[0]["acceptance"] == Acceptance.PENDING
    assert "430124198506124565" not in api.a.get("/api/v1/petitions/").content.decode()
    assert api.a.get(f"/api/v1/petitions/{theirs.case_id}/").status_code == 404
    assert api.a.post(f"/api/v1/petitions/{theirs.case_id}/accept/", {}, format="json").status_code == 404

    r = api.a.get(f"/api/v1/petitions/{mine.case_id}/")
    etag = r["ETag"]
    r = api.a.post(f"/api/v1/petitions/{mine.case_id}/accept/", {"comment": "属本级受理范围"}, format="json",
                   HTTP_IF_MATCH=etag)
    assert r.status_code == 200, r.json()
    assert r.json()["acceptance"] == Acceptance.ACCEPTED and r.json()["case"]["status"] == Status.ACCEPTED
    # The same If-Match again is stale now: refused, nothing done twice.
    r = api.a.post(f"/api/v1/petitions/{mine.case_id}/accept/", {}, format="json", HTTP_IF_MATCH=etag)
    assert r.status_code == 412
    # The petition feed carries the change after its earlier version.
    rows = results(api.a.get("/api/v1/petitions/", {"acceptance": Acceptance.ACCEPTED}))
    assert [r["case"]["id"] for r in rows] == [mine.case_id]

    r = api.a.post(f"/api/v1/petitions/{mine.case_id}/decline/", {}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]


def test_hazards_are_listed_and_assigned_through_the_grid_service(api):
    grid_team_member_add(
        grid=api.grid_a, by=api.town_a_dispatcher, role=TeamRole.GRID_WORKER, user=api.village_a_worker,
        title="专职网格员",
    )
    hazard = hazard_report(
        by=api.village_a_worker, grid=api.grid_a, hazard_type=HazardType.FIRE, severity=Severity.MAJOR,
        place="东门社区 3 栋楼道", description="楼道堆放杂物堵塞消防通道",
    )
    rows = results(api.a.get("/api/v1/hazards/"))
    assert [(r["case"]["id"], r["severity"]) for r in rows] == [(hazard.case_id, "major")]
    assert results(api.b.get("/api/v1/hazards/")) == []
    assert api.b.get(f"/api/v1/hazards/{hazard.case_id}/").status_code == 404

    # Town A's system does not own the village station's hazard: the service refuses.
    r = api.a.post(
        f"/api/v1/hazards/{hazard.case_id}/assign/",
        {"unit": api.police_a.pk, "requirement": "三日内清理楼道"}, format="json",
    )
    assert r.status_code == 403, r.json()

    from rest_framework.test import APIClient

    station = APIClient()
    station.force_authenticate(api.village_a_staff)
    r = station.post(
        f"/api/v1/hazards/{hazard.case_id}/assign/",
        {"unit": api.police_a.pk, "requirement": "三日内清理楼道", "version": 1}, format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["responsible_unit"] == api.police_a.pk
    assert r.json()["case"]["owning_unit"] == api.police_a.pk


def test_grid_workers_visits_are_listed_in_the_jurisdiction_of_the_token(api):
    from grids.models import VisitFinding
    from grids.services import visit_log
    from tests.factories import staff

    grid_team_member_add(
        grid=api.grid_a, by=api.town_a_dispatcher, role=TeamRole.GRID_WORKER, user=api.village_a_worker,
        title="专职网格员",
    )
    worker_b = staff("worker_b", "grid_worker", center=api.village_b_center, full_name="石桥网格员")
    grid_team_member_add(grid=api.grid_b, by=api.town_b_dispatcher, role=TeamRole.GRID_WORKER, user=worker_b,
                         title="专职网格员")
    mine = visit_log(by=api.village_a_worker, grid=api.grid_a, household="王秀兰", address="幸福路 8 号")
    noted = visit_log(
        by=api.village_a_worker, grid=api.grid_a, household="陈建军", address="幸福路 8 号 4 楼",
        finding=VisitFinding.DISPUTE, notes="楼上漏水，邻里争执",
    )
    theirs = visit_log(by=worker_b, grid=api.grid_b, household="石桥张家", address="石桥村 3 组")

    rows = results(api.a.get("/api/v1/visits/"))
    assert [(v["id"], v["grid"], v["worker_name"], v["finding"]) for v in rows] == [
        (mine.pk, api.grid_a.code, "陈静", "normal"), (noted.pk, api.grid_a.code, "陈静", "dispute"),
    ]
    assert [v["id"] for v in results(api.b.get("/api/v1/visits/"))] == [theirs.pk]
    assert api.a.get(f"/api/v1/visits/{theirs.pk}/").status_code == 404
    assert api.a.get(f"/api/v1/visits/{noted.pk}/").json()["notes"] == "楼上漏水，邻里争执"
    assert [v["id"] for v in results(api.a.get("/api/v1/visits/", {"finding": "dispute"}))] == [noted.pk]

