from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from demo.seeding import volume


class Command(BaseCommand):
    help = "用大批量历史数据填充演示县（基准测试用）：N 件事项，跨五年，多数已办结。"

    def add_arguments(self, parser):
        parser.add_argument("--matters", type=int, required=True, help="事项总数，如 1000000")
        parser.add_argument("--open", type=int, default=None, help="在办事项数（默认总数的 10%%）")
        parser.add_argument("--due", type=int, default=None, help="在办事项中已到期的数量（默认 1,000 或在办数的 1%%）")
        parser.add_argument("--people", type=int, default=None, help="新增当事人数（默认等于事项数）")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, matters: int, open: int | None, due: int | None, people: int | None, seed: int, **kw):
        if matters < 1:
            raise CommandError("--matters 须为正数")
        open_count = matters // 10 if open is None else open
        due_count = min(1000, max(open_count // 100, 0)) if due is None else due
        if not 0 <= due_count <= open_count <= matters:
            raise CommandError("须满足 0 ≤ --due ≤ --open ≤ --matters")
        started = time.monotonic()
        result = volume.seed(
            matters=matters, open_count=open_count, due_count=due_count,
            people=matters if people is None else people, seed=seed, log=self.stdout.write,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"完成：{result['matters']:,} 件事项（在办 {result['open']:,}，已到期 {result['due']:,}），"
                f"用时 {time.monotonic() - started:.1f} 秒"
            )
        )
