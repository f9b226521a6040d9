"""More villages for the shared world, so generated data sets spread over realistic neighbours."""

from __future__ import annotations

from centers.models import RegionKind
from tests.factories import RegionFactory

VILLAGE_NAMES = "枫林 桃园 杨柳 新塘 石门 青山 龙泉 金塘 白石 黄花 竹山 高桥 双江 长岭 柏树 梅溪 荷塘 清水 松林 凤凰".split()


def add_villages(world, per_town: int = 10) -> None:
    """`per_town` villages with region codes under each of the world's two towns."""
    for town in (world.town_a, world.town_b):
        for i, name in enumerate(VILLAGE_NAMES[:per_town], start=1):
            RegionFactory(parent=town, name=f"{name}村", kind=RegionKind.VILLAGE, code=f"{town.code}{500 + i:03d}")
