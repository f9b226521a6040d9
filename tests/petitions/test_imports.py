"""Channel imports: preview with per-row reasons, import of the good rows, idempotency, the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import Case, Channel, Status
from cases.services import DomainError
from petitions import imports, services
from petitions.models import FusionMatch, ImportBatch, Petition

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "petitions" / "samples"


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else (SAMPLES / name).read_bytes())


def preview(pw, source, name, content=None, by=None):
    return services.import_preview(by=by or pw.county_dispatcher, source=source, file=upload(name, content))


def reasons(batch) -> dict[int, str]:
    return {e["row"] + 1: "；".join(e["errors"]) for e in batch.errors}


def test_12345_preview_lists_each_bad_row_with_its_reason(pw):
    batch = preview(pw, "hotline_12345", "12345_sample.csv")
    assert (batch.total_rows, batch.good_rows, batch.bad_rows, batch.existing_rows) == (7, 4, 3, 0)
    r = reasons(batch)
    assert "电话号码无效" in r[6]
    assert "姓名：不能为空" in r[7] and "标题：不能为空" in r[7]
    assert "本中心辖区内没有「青云镇」" in r[8]
    assert [p["ref"] for p in batch.preview] == [
        "GD202603020001",
        "GD202603020002",
        "GD202603020003",
        "GD202603020004",
    ]
    assert batch.preview[1]["phone"] == "139****9001" and batch.preview[0]["category"] == "劳动争议（欠薪）"
    assert not Case.objects.exists()  # a preview writes no case


def test_import_registers_good_rows_as_petitions_and_twice_adds_nothing(pw):
    batch = services.import_run(
        batch=preview(pw, "hotline_12345", "12345_sample.csv"), by=pw.county_dispatcher
    )
    assert batch.status == "done" and batch.imported_rows == 4 and batch.bad_rows == 3
    cases = Case.objects.filter(channel=Channel.HOTLINE_12345).order_by("created_at", "pk")
    assert cases.count() == 4
    first = cases.get(source_ref="GD202603020001")
    assert (
        first.kind == "petition"
        and first.status == Status.REGISTERED
        and first.owning_center == pw.county_center
    )
    assert first.people_count == 6 and first.petition.flags.filter(kind="group").exists()
    assert first.region == pw.village_a and first.parties.get().person.phone == "13800138000"
    assert first.timeline.first().action == "register" and first.due_at is not None
    assert timezone.localtime(Petition.objects.get(pk=first.pk).reported_at).hour == 9

    again = services.import_run(
        batch=preview(pw, "hotline_12345", "12345_sample.csv"), by=pw.county_dispatcher
    )
    assert again.imported_rows == 0 and again.existing_rows == 4
    assert Case.objects.filter(channel=Channel.HOTLINE_12345).count() == 4


def test_the_same_batch_cannot_run_twice(pw):
    batch = preview(pw, "police_110", "110_sample.csv")
    services.import_run(batch=batch, by=pw.county_dispatcher)
    with pytest.raises(DomainError, match="已导入"):
        services.import_run(batch=ImportBatch.objects.get(pk=batch.pk), by=pw.county_dispatcher)


def test_excel_online_petitions_and_cross_channel_fusion_of_the_samples(pw):
    for source, name in (
        ("hotline_12345", "12345_sample.csv"),
        ("police_110", "110_sample.csv"),
        ("online", "online_sample.xlsx"),
    ):
        batch = services.import_run(batch=preview(pw, source, name), by=pw.county_dispatcher)
    assert (batch.good_rows, batch.bad_rows) == (2, 2)
    r = reasons(batch)
    assert "身份证号码校验位不正确" in r[4] and "人数：应为正整数" in r[5]

    def case(channel, ref):
        return Case.objects.get(channel=channel, source_ref=ref)

    zhang = {
        case("hotline_12345", "GD202603020001").pk,
        case("police_110", "J4301240020260302001").pk,
        case("online", "WX2026030300011").pk,
    }
    li = {case("hotline_12345", "GD202603020002").pk, case("online", "WX2026030300012").pk}
    pairs = {frozenset((m.case_id, m.other_id)) for m in FusionMatch.objects.all()}
    expected = {frozenset((a, b)) for a in zhang for b in zhang if a < b} | {frozenset(li)}
    assert pairs == expected
    m = FusionMatch.objects.get(case_id=case("police_110", "J4301240020260302001").pk)
    assert m.same_person and m.same_place and "同一人" in m.reasons[0]


def test_gbk_csv_and_missing_columns(pw):
    text = (SAMPLES / "110_sample.csv").read_text(encoding="utf-8")
    batch = preview(pw, "police_110", "110.csv", text.encode("gbk"))
    assert batch.good_rows == 3
    with pytest.raises(DomainError, match="缺少必需的列：警情编号、报警时间"):
        preview(pw, "police_110", "x.csv", "报警人,报警电话,警情摘要\n张三,13800138000,吵架\n".encode())
    with pytest.raises(DomainError, match="缺少必需的列"):
        preview(pw, "police_110", "12345.csv", (SAMPLES / "12345_sample.csv").read_bytes())


def test_rows_outside_the_importers_area_are_refused(pw):
    batch = preview(pw, "hotline_12345", "12345_sample.csv", by=pw.town_a_dispatcher)
    assert batch.center == pw.town_a_center
    assert "本中心辖区内没有「白沙镇」" in reasons(batch)[4]
    assert batch.good_rows == 3


def test_unit_staff_cannot_import(pw):
    with pytest.raises(DomainError, match="综治中心的工作人员"):
        preview(pw, "hotline_12345", "12345_sample.csv", by=pw.hrss_staff)


def test_import_pages_preview_then_import_and_outsider_gets_404(pw, client_for):
    c = client_for(pw.county_dispatcher)
    assert c.get("/petitions/imports/").status_code == 200
    assert c.get("/petitions/imports/samples/online/").status_code == 200
    r = c.post("/petitions/imports/", {"source": "hotline_12345", "file": upload("12345_sample.csv")})
    assert r.status_code == 302
    batch = ImportBatch.objects.get()
    body = c.get(r["Location"]).content.decode()
    assert "电话号码无效" in body and "GD202603020004" in body and "导入 4 行有效数据" in body
    out = client_for(pw.outsider)
    assert out.get(f"/petitions/imports/{batch.pk}/").status_code == 404
    assert out.post(f"/petitions/imports/{batch.pk}/").status_code == 404
    assert c.post(f"/petitions/imports/{batch.pk}/").status_code == 302
    assert Case.objects.filter(channel=Channel.HOTLINE_12345).count() == 4
    r = c.post("/petitions/imports/", {"source": "hotline_12345", "file": upload("x.txt", b"abc")})
    assert r.status_code == 400 and "只支持 CSV" in r.content.decode()


def test_api_imports_validates_per_field_and_is_idempotent(pw, client_for):
    c = client_for(pw.county_dispatcher)
    records = [
        {
            "工单编号": "A1",
            "来电时间": "2026-03-02 09:15",
            "来电人": "张三",
            "来电号码": "+86 138 0013 8000",
            "所属乡镇": "城关街道",
            "所属村（社区）": "东门社区",
            "诉求标题": "工地欠薪",
            "诉求内容": "拖欠三个月工资",
        },
        {
            "source_ref": "A2",
            "reported_at": "2026-03-02T10:00:00+08:00",
            "name": "李四",
            "phone": "13900139000",
            "region_code": "430124100201",
            "title": "污水直排",
        },
        {
            "source_ref": "A3",
            "reported_at": "昨天",
            "name": "王五",
            "phone": "123",
            "town": "城关街道",
            "title": "x",
        },
    ]
    r = c.post(
        "/api/v1/petitions/import/",
        {"source": "hotline_12345", "records": records},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["imported"] == 2 and body["invalid"] == 1
    assert body["errors"][0]["index"] == 2 and set(body["errors"][0]["errors"]) == {"reported_at", "phone"}
    assert {x["source_ref"] for x in body["cases"]} == {"A1", "A2"}
    r = c.post(
        "/api/v1/petitions/import/",
        {"source": "hotline_12345", "records": records[:2]},
        content_type="application/json",
    )
    assert r.json()["imported"] == 0 and r.json()["existing"] == 2
    assert Case.objects.count() == 2


def test_api_is_scoped_to_the_callers_area(pw, client_for):
    record = {
        "source_ref": "B1",
        "reported_at": "2026-03-02 09:15",
        "name": "张三",
        "phone": "13800138000",
        "town": "城关街道",
        "title": "欠薪",
    }
    r = client_for(pw.outsider).post(
        "/api/v1/petitions/import/",
        {"source": "hotline_12345", "records": [record]},
        content_type="application/json",
    )
    assert r.status_code == 400 and "本中心辖区内没有「城关街道」" in r.json()["errors"][0]["errors"]["town"]
    r = client_for(pw.hrss_staff).post(
        "/api/v1/petitions/import/",
        {"source": "hotline_12345", "records": [record]},
        content_type="application/json",
    )
    assert r.status_code == 403
    r = client_for(pw.county_dispatcher).post(
        "/api/v1/petitions/import/", {"source": "fax", "records": [record]}, content_type="application/json"
    )
    # The API's one error shape (apiauth): field messages under "errors".
    assert r.status_code == 400 and "source" in r.json()["errors"]
    assert not Case.objects.exists()


def test_id_numbers_issued_under_a_county_code_younger_than_the_holder_are_accepted(pw):
    """430124 (宁乡县) dates from 1983; a person born in 1950 who got a card there holds it."""
    from stdnum.cn import ric

    from petitions.validation import Invalid, clean_id_number

    body = "430124195003150" + "12"
    old = body + ric.calc_check_digit(body + "0")
    assert clean_id_number(old) == old
    record = {
        "source_ref": "OLD1",
        "reported_at": "2026-03-02 09:15",
        "name": "王老汉",
        "phone": "13800138000",
        "id_number": old,
        "town": "城关街道",
        "title": "养老金",
    }
    good, bad = imports.validate("hotline_12345", [record], regions=imports.RegionIndex(pw.county))
    assert not bad and good[0].id_number == old
    bad_sum = old[:-1] + ("0" if old[-1] != "0" else "1")
    with pytest.raises(Invalid, match="校验位"):
        clean_id_number(bad_sum)
    unknown = "990124195003150" + "12"
    with pytest.raises(Invalid, match="地区码 990124 不存在"):
        clean_id_number(unknown + ric.calc_check_digit(unknown + "0"))
