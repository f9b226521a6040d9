"""Grid work's test world: the shared world plus grid A's team and helpers for photos and time."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from grids.models import TeamRole
from grids.services import grid_team_member_add
from tests.cases.conftest import cw, make_case  # noqa: F401 - fixtures reused here

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def png(name: str = "photo.png", size: tuple[int, int] = (8, 8)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def gw(cw):  # noqa: F811 - the fixture imported above
    """`cw` plus grid A's team: its grid worker (陈静, cw.grid_worker_a) and a party group leader.

    cw.village_a_worker is the DISPATCHER of village A's station (who owns what is found in grid A);
    cw.town_a_dispatcher manages the town's grids; cw.outsider is town B's dispatcher.
    """
    cw.member_a = grid_team_member_add(
        grid=cw.grid_a,
        by=cw.town_a_dispatcher,
        role=TeamRole.GRID_WORKER,
        user=cw.grid_worker_a,
        title="专职网格员",
    )
    grid_team_member_add(
        grid=cw.grid_a,
        by=cw.town_a_dispatcher,
        role=TeamRole.PARTY_LEADER,
        name="张党员",
        phone="13900001111",
    )
    return cw
