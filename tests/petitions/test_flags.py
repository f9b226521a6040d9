"""Special kinds are flagged automatically, each with the reason staff read on the page."""

from __future__ import annotations

import pytest
import time_machine

from cases.models import Channel, Status, WarningLevel
from cases.services import PersonData
from petitions import services
from petitions.models import FlagKind, PetitionPolicy

from .conftest import at

pytestmark = pytest.mark.django_db


def flag(p, kind):
    return p.flags.filter(kind=kind).first()


def test_five_petitioners_make_a_group_petition_and_a_red_case(make_petition):
    people = [PersonData(name=f"村民{i}", phone=f"1390000000{i}") for i in range(5)]
    p = make_petition(petitioners=people)
    f = flag(p, FlagKind.GROUP)
    assert f is not None and "信访人数 5 人" in f.reason
    assert p.case.people_count == 5 and p.case.warning_level == WarningLevel.RED


def test_people_count_above_the_named_petitioners_counts(make_petition):
    p = make_petition(people_count=30)
    assert "30 人" in flag(p, FlagKind.GROUP).reason


def test_four_petitioners_are_not_a_group(make_petition):
    p = make_petition(petitioners=[PersonData(name=f"村民{i}", phone=f"1390000000{i}") for i in range(4)])
    assert flag(p, FlagKind.GROUP) is None


def test_same_person_again_within_the_period_is_repeated_with_the_earlier_number(make_petition):
    with time_machine.travel(at(2026, 1, 5, 9, 0), tick=False):
        first = make_petition()
    with time_machine.travel(at(2026, 3, 5, 9, 0), tick=False):
        second = make_petition(
            title="要求解决孩子入学问题",
            description="孩子户籍不在本地，学校不予接收",
            petitioners=[PersonData(name="张三", phone="+86 138 0013 8000")],
        )
    f = flag(second, FlagKind.REPEATED)
    assert f is not None and first.case.tracking_no in f.reason and "138****8000" in f.reason
    assert f.related_case_id == first.pk


def test_same_person_after_the_period_is_not_repeated(make_petition):
    PetitionPolicy.objects.filter(pk=1).update(repeat_days=30)
    with time_machine.travel(at(2026, 1, 5, 9, 0), tick=False):
        make_petition()
    with time_machine.travel(at(2026, 3, 5, 9, 0), tick=False):
        second = make_petition(title="要求解决孩子入学问题", description="孩子户籍不在本地，学校不予接收")
    assert flag(second, FlagKind.REPEATED) is None


def test_same_matter_from_another_person_in_the_same_village_is_repeated(pw, make_petition):
    with time_machine.travel(at(2026, 1, 5, 9, 0), tick=False):
        first = make_petition(
            title="东门社区幸福小区物业擅自上涨物业费",
            description="幸福小区物业公司未经业主大会同意擅自将物业费从每平方1.2元上涨到1.8元",
        )
    with time_machine.travel(at(2026, 2, 5, 9, 0), tick=False):
        second = make_petition(
            title="幸福小区物业擅自上涨物业费",
            description="幸福小区物业公司未经业主大会同意将物业费从1.2元每平方上涨到1.8元",
            petitioners=[PersonData(name="李四", phone="13700137000")],
        )
    f = flag(second, FlagKind.REPEATED)
    assert f is not None and first.case.tracking_no in f.reason and "同一事项" in f.reason


def test_petition_about_a_closed_matter_is_flagged_with_the_closed_number(pw, make_petition):
    with time_machine.travel(at(2026, 1, 5, 9, 0), tick=False):
        first = make_petition()
        services.petition_decline(petition=first, by=pw.county_dispatcher, reason="已经劳动仲裁裁决")
    with time_machine.travel(at(2026, 9, 5, 9, 0), tick=False):
        second = make_petition(description="张三等人在城关街道某工地务工，包工头拖欠工资三个月一直没有发放")
    f = flag(second, FlagKind.CLOSED_MATTER)
    assert f is not None and first.case.tracking_no in f.reason and "办结" in f.reason


def test_skip_level_reported_back_turns_red_and_is_flagged(pw, make_petition):
    p = make_petition()
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False):
        p = services.petition_record_skip_level(
            petition=p,
            by=pw.county_dispatcher,
            target="beijing",
            at=at(2026, 3, 1, 10, 0),
            reported_by="国家信访局",
            note="信访人赴京到国家信访局上访",
        )
    f = flag(p, FlagKind.SKIP_LEVEL)
    assert "国家信访局通报" in f.reason and "进京" in f.reason
    assert p.case.warning_level == WarningLevel.RED
    assert any("越级" in r for r in p.case.warning_reasons)


def test_multi_channel_merge_flags_the_primary_and_closes_the_duplicate(pw, make_petition):
    online = make_petition(channel=Channel.ONLINE)
    hotline = make_petition(channel=Channel.HOTLINE_12345)
    assert hotline.case.fusion_matches.filter(other=online.case).exists()
    merged = services.petition_merge(duplicate=hotline, primary=online, by=pw.county_dispatcher)
    hotline.case.refresh_from_db()
    assert hotline.case.status == Status.MERGED and hotline.case.merged_into_id == online.pk
    assert "2 个渠道" in flag(merged, FlagKind.MULTI_CHANNEL).reason
    assert online.case.related.filter(pk=hotline.pk).exists()
