"""Staff import: templates, preview with row-level errors, idempotent import and moves."""

from __future__ import annotations

import io
import time

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from centers.models import Center, Membership, Region, RegionKind, Role, User
from centers.services import center_create, region_add
from countyadmin import importer, sheets
from countyadmin.models import AdminAction, AdminLog, ImportStatus, SheetKind, StaffProfile
from grids.models import GridTeamMember, TeamRole
from tests.countyadmin.sheetdata import id_number, phone, xlsx

pytestmark = pytest.mark.django_db

INITIAL = "凤岭-网格-初始-2026"


@pytest.fixture
def villages(aw):
    """20 villages with stations (10 per town), no grids yet besides the world's two."""
    out = []
    for town, base in ((aw.town_a, "430124001"), (aw.town_b, "430124100")):
        for k in range(10):
            v = region_add(
                parent=town,
                name=f"{town.name[:2]}{k + 2}村",
                kind=RegionKind.VILLAGE,
                code=f"{base}{k + 302:03d}",
            )
            center_create(region=v)
            out.append(v)
    return out


def grid_worker_rows(villages, count: int = 3500) -> list[dict[str, object]]:
    """`count` workers on ~1,900 new grids: two per grid for most grids, one for the rest."""
    rows = []
    n = 0
    grid_no = 0
    while n < count:
        village = villages[grid_no % len(villages)]
        code = f"{village.code}{grid_no // len(villages) + 1:03d}"
        for post in ("专职网格员", "兼职网格员")[: 2 if n < 3200 else 1]:
            rows.append(
                {
                    "name": f"网格员{n}",
                    "id_number": id_number(n),
                    "phone": phone(n),
                    "grid_code": code,
                    "grid_name": f"第{grid_no // len(villages) + 1}网格",
                    "village_code": village.code,
                    "post": post,
                    "households": 250,
                    "population": 760,
                }
            )
            n += 1
            if n == count:
                break
        grid_no += 1
    return rows


def plant_errors(rows: list[dict[str, object]]) -> dict[int, str]:
    """Bad rows at known file lines (index + 2) and a word the error must contain."""
    rows[8]["id_number"] = rows[8]["id_number"][:-1] + ("0" if rows[8]["id_number"][-1] != "0" else "1")
    rows[18]["phone"] = "1380013800"
    rows[28]["name"] = ""
    rows[38]["grid_code"] = "430124999999001"
    rows[38]["village_code"] = "430124999999"
    rows[48]["phone"] = rows[47]["phone"]  # another person's phone, with their own ID number
    rows[58]["grid_code"] = "网格A"
    rows[68]["post"] = "临时工"
    rows[78]["households"] = "很多"
    return {
        10: "校验位",
        20: "11 位手机号",
        30: "不能为空",
        40: "找不到村",
        50: "却不是同一人",
        60: "数字编码",
        70: "专职网格员",
        80: "整数",
    }


def counts() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Membership.objects.count(),
        GridTeamMember.objects.count(),
        Region.objects.count(),
        StaffProfile.objects.count(),
    )


def test_template_download_has_the_headers_help_and_text_columns(aw, client_for) -> None:
    response = client_for(aw.county_admin).get(reverse("countyadmin:import_template", args=["grid_workers"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content))
    data, help_sheet = wb.worksheets
    assert [c.value for c in data[1]][:5] == ["姓名*", "身份证号", "手机号*", "登录名", "网格编码*"]
    assert data.cell(row=2, column=2).number_format == "@"  # ID numbers stay text
    assert "填写说明" == help_sheet.title and any("专职网格员" in str(c.value) for c in help_sheet["D"])
    assert (
        client_for(aw.town_a_dispatcher)
        .get(reverse("countyadmin:import_template", args=["grid_workers"]))
        .status_code
        == 403
    )


def test_3500_grid_workers_with_planted_errors_then_unchanged_reimport(aw, villages) -> None:
    rows = grid_worker_rows(villages)
    planted = plant_errors(rows)
    before = counts()
    started = time.perf_counter()
    batch = importer.staff_import_preview(
        by=aw.county_admin,
        kind=SheetKind.GRID_WORKERS,
        file=xlsx("grid_workers", rows),
        initial_password=INITIAL,
    )
    preview_seconds = time.perf_counter() - started
    assert batch.total_rows == 3500
    assert batch.bad_rows == len(planted)
    by_line = {e["row"]: "；".join(e["errors"]) for e in batch.errors}
    assert set(by_line) == set(planted)
    for line, word in planted.items():
        assert word in by_line[line], (line, by_line[line])
    assert batch.new_rows == 3500 - len(planted) and batch.changed_rows == 0
    assert counts() == before  # a preview writes nothing

    started = time.perf_counter()
    batch = importer.staff_import_run(batch=batch, by=aw.county_admin)
    import_seconds = time.perf_counter() - started
    print(f"\n3,500-row grid-worker sheet: preview {preview_seconds:.1f} s, import {import_seconds:.1f} s")
    assert batch.status == ImportStatus.DONE and not batch.password_hash
    good = 3500 - len(planted)
    workers = User.objects.filter(memberships__role=Role.GRID_WORKER, memberships__is_active=True).exclude(
        pk=aw.village_a_worker.pk
    )
    assert workers.distinct().count() == good
    assert GridTeamMember.objects.filter(role=TeamRole.GRID_WORKER, is_active=True).count() == good
    assert batch.result["accounts_created"] == good
    good_grids = {r["grid_code"] for i, r in enumerate(rows) if i + 2 not in planted}
    assert Region.objects.filter(kind=RegionKind.GRID, code__in=good_grids).count() == len(good_grids)
    # A worker: login by phone, ID on file (masked), must change the initial password, linked to the grid
    # and posted at the grid's village station (as grids.services.grid_team_member_add does).
    worker = User.objects.get(username=phone(0))
    assert worker.full_name == "网格员0" and worker.must_change_password and worker.check_password(INITIAL)
    assert worker.staff_profile.id_number == id_number(0)
    member = GridTeamMember.objects.get(user=worker)
    assert member.grid.code == rows[0]["grid_code"] and member.grid_path == member.grid.path
    assert member.title == "专职网格员"
    village = Region.objects.get(code=rows[0]["village_code"])
    assert member.grid.path.startswith(village.path) and member.grid.depth == village.depth + 1
    post = Membership.objects.get(user=worker)
    assert post.center == Center.objects.get(region=village) and post.role == Role.GRID_WORKER
    assert post.history.exists() and member.history.exists()
    # Village totals now include their new cells (the grids' households and population).
    village.refresh_from_db()
    assert (
        village.households
        == 250 * Region.objects.filter(kind=RegionKind.GRID, path__startswith=village.path).count()
    )
    # The existing world's grids and places kept their paths (appended, nothing shifted).
    assert Region.objects.get(pk=aw.grid_a.pk).path == aw.grid_a.path

    # The same sheet again: nothing new, nothing changed, no duplicates.
    after = counts()
    again = importer.staff_import_preview(
        by=aw.county_admin,
        kind=SheetKind.GRID_WORKERS,
        file=xlsx("grid_workers", rows),
        initial_password=INITIAL,
    )
    assert (again.new_rows, again.changed_rows, again.unchanged_rows, again.bad_rows) == (
        0,
        0,
        good,
        len(planted),
    )
    importer.staff_import_run(batch=again, by=aw.county_admin)
    assert counts() == after
    assert AdminLog.objects.filter(action=AdminAction.IMPORT).count() == 2


def test_reimport_by_id_number_updates_a_changed_phone_and_name(aw, villages) -> None:
    rows = grid_worker_rows(villages, 4)
    batch = importer.staff_import_preview(
        by=aw.county_admin,
        kind=SheetKind.GRID_WORKERS,
        file=xlsx("grid_workers", rows),
        initial_password=INITIAL,
    )
    importer.staff_import_run(batch=batch, by=aw.county_admin)
    rows[1]["phone"] = phone(9001)
    rows[2]["name"] = "网格员二改"
    batch = importer.staff_import_preview(
        by=aw.county_admin,
        kind=SheetKind.GRID_WORKERS,
        file=xlsx("grid_workers", rows),
        initial_password=INITIAL,
    )
    assert (batch.new_rows, batch.changed_rows, batch.unchanged_rows) == (0, 2, 2)
    assert any("手机号" in r["text"] for r in batch.preview) and any(
        "姓名" in r["text"] for r in batch.preview
    )
    importer.staff_import_run(batch=batch, by=aw.county_admin)
    moved = User.objects.get(
        staff_profile__id_number_hash=StaffProfile.objects.get(user__username=phone(1)).id_number_hash
    )
    assert moved.phone == phone(9001) and moved.username == phone(1)  # the login name stays
    assert User.objects.get(username=phone(2)).full_name == "网格员二改"
    assert GridTeamMember.objects.get(user__username=phone(2)).name == "网格员二改"
    assert User.objects.filter(username__in=[phone(i) for i in range(4)]).count() == 4


def test_moving_grid_workers_and_staff_to_another_town_keeps_history(aw, villages) -> None:
    rows = grid_worker_rows(villages[:2], 4)  # town A villages
    importer.staff_import_run(
        batch=importer.staff_import_preview(
            by=aw.county_admin,
            kind=SheetKind.GRID_WORKERS,
            file=xlsx("grid_workers", rows),
            initial_password=INITIAL,
        ),
        by=aw.county_admin,
    )
    target = aw.grid_b  # town B's grid
    moves = [
        {"name": "网格员0", "id_number": id_number(0), "to_grid_code": target.code, "reason": "工作调整"},
        {"name": "网格员1", "phone": phone(1), "to_grid_code": target.code, "reason": "工作调整"},
        {
            "name": "王芳",
            "phone": "",
            "to_center_code": aw.town_b.code,
            "reason": "调任",
        },  # neither ID nor phone
        {
            "name": "王芳",
            "phone": aw.town_a_dispatcher.phone,
            "to_center_code": aw.town_b.code,
            "reason": "交流任职",
        },
    ]
    aw.town_a_dispatcher.phone = "13712345678"
    aw.town_a_dispatcher.save(update_fields=["phone"])
    moves[3]["phone"] = "13712345678"
    # Town A's leader may not move people into town B.
    own = importer.staff_import_preview(by=aw.town_a_leader, kind=SheetKind.MOVES, file=xlsx("moves", moves))
    assert own.good_rows == 0
    assert all("不在您的管理范围内" in "".join(e["errors"]) for e in own.errors if e["row"] != 4)

    batch = importer.staff_import_preview(by=aw.county_admin, kind=SheetKind.MOVES, file=xlsx("moves", moves))
    assert batch.bad_rows == 1 and "至少填写一项" in "".join(batch.errors[0]["errors"])
    assert batch.changed_rows == 3
    importer.staff_import_run(batch=batch, by=aw.county_admin)

    worker = User.objects.get(username=phone(0))
    old = GridTeamMember.objects.get(user=worker, grid__code=rows[0]["grid_code"])
    new = GridTeamMember.objects.get(user=worker, grid=target)
    assert not old.is_active and new.is_active
    assert old.history.filter(is_active=False).exists()
    stations = dict(Membership.objects.filter(user=worker).values_list("center__region__code", "is_active"))
    assert stations == {villages[0].code: False, aw.village_b.code: True}
    dispatcher = User.objects.get(pk=aw.town_a_dispatcher.pk)
    posts = dict(Membership.objects.filter(user=dispatcher).values_list("center__region__code", "is_active"))
    assert posts == {aw.town_a.code: False, aw.town_b.code: True}
    assert AdminLog.objects.filter(action=AdminAction.MOVE).count() == 3
    assert AdminLog.objects.filter(
        action=AdminAction.MOVE, target_user=dispatcher, reason="交流任职"
    ).exists()

    # The same moves again change nothing.
    again = importer.staff_import_preview(by=aw.county_admin, kind=SheetKind.MOVES, file=xlsx("moves", moves))
    assert (again.changed_rows, again.unchanged_rows) == (0, 3)


def test_centers_units_and_staff_sheets(aw) -> None:
    centers = [
        {"code": "430124005", "name": "新华镇", "kind": "乡镇", "parent_code": "430124"},
        {"code": "430124005201", "name": "新华村", "kind": "村", "parent_code": "430124005"},
        {
            "code": aw.town_a.code,
            "name": aw.town_a.name,
            "kind": "街道",
            "parent_code": "430124",
            "phone": "0731-86009999",
        },
        {
            "code": "430124006201",
            "name": "孤村",
            "kind": "村",
            "parent_code": "430124",
        },  # a village directly under the county
    ]
    batch = importer.staff_import_preview(
        by=aw.county_admin, kind=SheetKind.CENTERS, file=xlsx("centers", centers)
    )
    assert (batch.new_rows, batch.changed_rows, batch.bad_rows) == (2, 1, 1)
    assert "上级应为乡镇" in "".join(batch.errors[0]["errors"])
    importer.staff_import_run(batch=batch, by=aw.county_admin)
    town = Region.objects.get(code="430124005")
    village = Region.objects.get(code="430124005201")
    assert village.path.startswith(town.path) and town.depth == 2 and town.path.startswith(aw.county.path)
    assert Center.objects.get(region=village).name == "新华村综治工作站"
    assert Center.objects.get(region=aw.town_a).phone == "0731-86009999"
    assert Region.objects.get(pk=aw.town_b.pk).path == aw.town_b.path  # siblings did not move

    units = [{"name": "新华派出所", "kind": "派出所", "region_code": "430124005"}]
    importer.staff_import_run(
        batch=importer.staff_import_preview(
            by=aw.county_admin, kind=SheetKind.UNITS, file=xlsx("units", units)
        ),
        by=aw.county_admin,
    )
    staff_rows = [
        {
            "name": "钱一",
            "id_number": id_number(7001),
            "phone": phone(7001),
            "center_code": "430124005",
            "role": "中心工作人员",
            "title": "值班",
        },
        {
            "name": "钱一",
            "id_number": id_number(7001),
            "phone": phone(7001),
            "unit_name": "新华派出所",
            "role": "部门工作人员",
        },
        {"name": "孙二", "phone": phone(7002), "center_code": aw.town_b.code, "role": "中心领导"},
        {
            "name": "周三",
            "phone": phone(7003),
            "center_code": aw.county.code,
            "role": "系统管理员",
        },  # a peer: refused
    ]
    batch = importer.staff_import_preview(
        by=aw.county_admin, kind=SheetKind.STAFF, file=xlsx("staff", staff_rows), initial_password=INITIAL
    )
    assert (batch.new_rows, batch.bad_rows) == (3, 1)
    assert "只能为下级中心设置系统管理员" in "".join(batch.errors[0]["errors"])
    importer.staff_import_run(batch=batch, by=aw.county_admin)
    qian = User.objects.get(username=phone(7001))
    assert set(Membership.objects.filter(user=qian).values_list("role", flat=True)) == {
        Role.DISPATCHER,
        Role.UNIT_STAFF,
    }
    # Town A's leader cannot post anybody in town B, nor touch a town B person.
    batch = importer.staff_import_preview(
        by=aw.town_a_leader,
        kind=SheetKind.STAFF,
        file=xlsx("staff", staff_rows[2:3]),
        initial_password=INITIAL,
    )
    assert batch.good_rows == 0 and "不在您的管理范围内" in "".join(batch.errors[0]["errors"])


def test_upload_preview_and_import_pages(aw, villages, client_for) -> None:
    client = client_for(aw.town_a_leader)
    rows = grid_worker_rows(villages[:2], 3)
    rows.append({**rows[0], "name": "重复", "phone": "12345"})
    response = client.post(
        reverse("countyadmin:imports"),
        {"kind": "grid_workers", "file": xlsx("grid_workers", rows), "initial_password": "123"},
    )
    assert response.status_code == 400 and "初始密码" in response.content.decode()
    response = client.post(
        reverse("countyadmin:imports"),
        {"kind": "grid_workers", "file": xlsx("grid_workers", rows), "initial_password": INITIAL},
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    body = page.content.decode()
    assert "错误明细" in body and "第 5 行" in body and "11 位手机号" in body
    assert "新建账号" in body
    batch = page.context["batch"]
    # Another town's leader: not there.
    assert client_for(aw.town_b_leader).get(response["Location"]).status_code == 404
    response = client.post(response["Location"])
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    assert "新建账号：3" in client.get(response["Location"]).content.decode()
    assert client.post(reverse("countyadmin:import_detail", args=[batch.pk]), follow=True).status_code == 200
    assert User.objects.filter(username__in=[phone(i) for i in range(3)]).count() == 3


def test_bad_files_are_refused_in_chinese(aw) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from centers.services import DomainError

    with pytest.raises(DomainError, match="缺少必需的列"):
        importer.staff_import_preview(
            by=aw.county_admin,
            kind=SheetKind.UNITS,
            file=SimpleUploadedFile("u.csv", "名称,电话\n甲,1\n".encode()),
        )
    with pytest.raises(DomainError, match="Excel"):
        importer.staff_import_preview(
            by=aw.county_admin, kind=SheetKind.UNITS, file=SimpleUploadedFile("u.xlsx", b"not a workbook")
        )
    with pytest.raises(DomainError, match="只有中心领导或系统管理员"):
        importer.staff_import_preview(
            by=aw.town_a_dispatcher, kind=SheetKind.UNITS, file=SimpleUploadedFile("u.csv", b"x")
        )
    assert sheets.template_bytes(SheetKind.MOVES)[:2] == b"PK"
