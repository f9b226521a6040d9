"""A repeated petition costs points in the quarterly assessment (cases.assessment), once, for the town
where the matter is (属地)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine

from cases.models import PointEvent, PointKind
from cases.services import PersonData
from petitions.models import FlagKind

from .conftest import at

pytestmark = pytest.mark.django_db


def test_a_repeated_petition_costs_its_town_points_once(pw, make_petition):
    with time_machine.travel(at(2026, 1, 5, 9, 0), tick=False):
        make_petition()
    assert not PointEvent.objects.exists()
    with time_machine.travel(at(2026, 3, 5, 9, 0), tick=False):
        second = make_petition(
            title="要求解决孩子入学问题",
            description="孩子户籍不在本地，学校不予接收",
            petitioners=[PersonData(name="张三", phone="+86 138 0013 8000")],
        )
    assert second.flags.filter(kind=FlagKind.REPEATED).exists()
    event = PointEvent.objects.get()
    assert event.kind == PointKind.REPEAT_PETITION and event.points == Decimal("-3.0")
    assert event.case_id == second.pk and event.center == pw.town_a_center and event.town == pw.town_a
    assert event.at == at(2026, 3, 5, 9, 0) and "重复信访" in event.reason


def test_an_import_charges_each_repeated_petition_once(pw):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from petitions import services

    header = "工单编号,来电时间,来电人,来电号码,证件号码,区划代码,所属乡镇,所属村（社区）,详细地址,诉求类别,诉求标题,诉求内容,涉及人数\n"
    rows = [
        "GD1,2026-03-02 09:15:00,张三,13800138000,,,城关街道,东门社区,东门社区,劳动保障-欠薪,工地拖欠工资,包工头拖欠工资三个月,1\n",
        "GD2,2026-03-09 09:15:00,张三,13800138000,,,城关街道,东门社区,东门社区,劳动保障-欠薪,工资仍未结清,再次反映包工头拖欠工资,1\n",
    ]
    content = (header + "".join(rows)).encode()
    batch = services.import_preview(
        by=pw.county_dispatcher, source="hotline_12345", file=SimpleUploadedFile("a.csv", content)
    )
    batch = services.import_run(batch=batch, by=pw.county_dispatcher)
    assert batch.imported_rows == 2
    event = PointEvent.objects.get(kind=PointKind.REPEAT_PETITION)
    assert event.case.source_ref == "GD2" and event.town == pw.town_a and "重复信访" in event.reason
