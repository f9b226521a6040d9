"""The hall's test world: the shared world plus the county hall's staff, windows and units.

county center hall: clerk (窗口 1 信访, on duty today), clerk2 (窗口 2 人社, on duty today),
supervisor (大厅主管), counsellor (心理咨询师) — all at the county center;
town B's hall clerk (town_b_clerk) is the outsider for everything at the county hall.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from stdnum.cn import ric

from centers.models import DepartmentKind, Role
from reception.models import Window
from reception.services import duty_set
from tests.factories import UnitFactory, staff


def idn(born: str = "19850312", seq: str = "123", prefix: str = "430124") -> str:
    """A valid 18-digit ID number (checksum computed by stdnum)."""
    body = f"{prefix}{born}{seq}"
    return body + ric.calc_check_digit(body + "0")


def png(name: str = "scan.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 200)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def hall(world):
    h = SimpleNamespace(**vars(world))
    c = world.county_center
    h.center = c
    h.clerk = staff("clerk", Role.WINDOW_CLERK, center=c, full_name="窗口甲")
    h.clerk2 = staff("clerk2", Role.WINDOW_CLERK, center=c, full_name="窗口乙")
    h.supervisor = staff("hall_supervisor", Role.HALL_SUPERVISOR, center=c, full_name="大厅主管")
    h.counsellor = staff("counsellor", Role.COUNSELLOR, center=c, full_name="心理咨询师")
    h.town_b_clerk = staff(
        "town_b_clerk", Role.WINDOW_CLERK, center=world.town_b_center, full_name="白沙窗口"
    )
    h.outsider = h.town_b_clerk
    h.petition_bureau = UnitFactory(region=world.county, kind=DepartmentKind.PETITION, name="青川县信访局")
    h.court = UnitFactory(region=world.county, kind=DepartmentKind.COURT, name="青川县人民法院")
    h.court_staff = staff("court_staff", Role.UNIT_STAFF, unit=h.court, full_name="法院联络员")
    h.hrss_staff = staff("hrss_staff", Role.UNIT_STAFF, unit=world.hrss_bureau, full_name="人社联络员")
    h.w1 = Window.objects.create(center=c, number=1, name="信访窗口", department=DepartmentKind.PETITION)
    h.w2 = Window.objects.create(
        center=c, number=2, name="人社窗口", department=DepartmentKind.HRSS, unit=world.hrss_bureau
    )
    today = timezone.localdate()
    duty_set(by=h.supervisor, window=h.w1, date=today, users=[h.clerk])
    duty_set(by=h.supervisor, window=h.w2, date=today, users=[h.clerk2])
    return h


@pytest.fixture
def make_case_b(world):
    """A matter in town B, owned by town B's center (invisible to the county hall's outsider tests)."""
    from cases.models import Category, Channel
    from cases.services import case_register

    return case_register(
        by=world.town_b_dispatcher,
        region=world.village_b,
        channel=Channel.VISIT,
        category=Category.LAND,
        title="土地纠纷",
        owning_center=world.town_b_center,
    )
