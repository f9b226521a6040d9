from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from cases.models import Category, Channel
from cases.services import PersonData
from centers.models import Role
from tests.factories import staff

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture
def pw(world):
    """The shared world plus the petition office's people: town A's leader and county units' staff."""
    w = SimpleNamespace(**vars(world))
    w.town_a_leader = staff(
        "town_a_leader", Role.CENTER_LEADER, center=world.town_a_center, full_name="刘主任"
    )
    w.hrss_staff = staff("hrss_staff", Role.UNIT_STAFF, unit=world.hrss_bureau, full_name="钱社保")
    w.police_a_staff = world.unit_staff
    w.outsider = world.town_b_dispatcher
    return w


@pytest.fixture
def make_petition(pw):
    from petitions.services import petition_register

    def make(by=None, region=None, petitioners=None, **kw):
        kw.setdefault("channel", Channel.VISIT)
        kw.setdefault("category", Category.LABOUR)
        kw.setdefault("title", "某建筑工地拖欠农民工工资")
        kw.setdefault("description", "张三等人在城关街道某工地务工，工程完工后包工头拖欠工资三个月未发")
        kw.setdefault("request", "要求结清拖欠工资")
        return petition_register(
            by=by or pw.county_dispatcher,
            region=region or pw.grid_a,
            petitioners=petitioners
            or [PersonData(name="张三", id_number="430124198506124565", phone="13800138000")],
            **kw,
        )

    return make
