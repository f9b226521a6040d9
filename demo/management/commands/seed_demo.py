"""`python manage.py seed_demo`: the demo county, idempotent (running it twice creates nothing).

Each step is a function `step(ctx: SeedContext) -> None` in `demo/seeding/`; later issues append
theirs to STEPS (cases, mediation, grids …) and read `ctx.county` and `ctx.logins`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from demo.seeding import centers, dashboards, grids, mediation, reception
from demo.seeding.context import SeedContext

STEPS: list[Callable[[SeedContext], None]] = [
    centers.seed,
    grids.seed,
    mediation.seed,
    reception.seed,
    # Keep last: the screen's rollups and safety index over what the steps above created.
    dashboards.seed,
]


class Command(BaseCommand):
    help = "创建演示县（湘源县）：辖区、网格、综治中心、职能部门和演示账号。重复运行不会重复创建。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--towns",
            type=int,
            default=centers.TOWN_COUNT,
            help=f"只建前 N 个乡镇（1–{centers.TOWN_COUNT}，默认全部；测试用小规模）",
        )
        parser.add_argument("--quiet-logins", action="store_true", help="不打印演示账号表")

    def handle(self, *args, towns: int, quiet_logins: bool, **options) -> None:
        started = time.monotonic()
        ctx = SeedContext(
            towns=towns,
            password_hash=make_password(settings.ZONGZHI_DEMO_PASSWORD),
            out=lambda line: self.stdout.write(line),
        )
        with transaction.atomic():
            for step in STEPS:
                step(ctx)
        elapsed = time.monotonic() - started
        created = "，".join(f"{what} {n}" for what, n in ctx.created.items()) or "无（数据已存在）"
        self.stdout.write(self.style.SUCCESS(f"演示数据就绪（{elapsed:.1f} 秒）。本次新建：{created}"))
        if not quiet_logins:
            self.print_logins(ctx)

    def print_logins(self, ctx: SeedContext) -> None:
        rows = [
            ("用户名", "角色", "中心/部门", "姓名"),
            *((x.username, x.role, x.where, x.full_name) for x in ctx.logins),
        ]
        widths = [max(_width(r[i]) for r in rows) for i in range(4)]
        self.stdout.write("")
        self.stdout.write(
            f"演示账号（密码均为 {settings.ZONGZHI_DEMO_PASSWORD}；网格员账号 wg<网格代码>-1/-2）："
        )
        for row in rows:
            self.stdout.write(
                "  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True))
            )


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
