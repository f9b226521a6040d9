"""Excel files of 三色三单 and the quarterly assessment (openpyxl, streamed write-only workbooks).

Each export is logged (who, which filter, how many rows) through cases.services.export_logged; the
rows come from the same selectors as the pages, so a file holds exactly what the page lists.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from .clocks import fmt
from .models import PointKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A synchronous file; a bigger list must be narrowed by town or department first.
MAX_ROWS = 50_000


class TooManyRows(Exception):
    pass


def _sheet(wb: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    ws = wb.create_sheet(title)
    bold = Font(bold=True)
    cells = []
    for text in header:
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        cells.append(cell)
    ws.append(cells)
    n = 0
    for row in rows:
        n += 1
        if n > MAX_ROWS:
            raise TooManyRows(f"超过 {MAX_ROWS:,} 行，请先按乡镇或部门筛选后再导出。")
        ws.append(["" if v is None else v for v in row])
    return n


def response(
    filename: str, sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]
) -> tuple[HttpResponse, int]:
    """(the .xlsx download, the number of data rows)."""
    wb = Workbook(write_only=True)
    total = sum(_sheet(wb, title, header, rows) for title, header, rows in sheets)
    buf = io.BytesIO()
    wb.save(buf)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    resp = HttpResponse(buf.getvalue(), content_type=XLSX)
    from urllib.parse import quote

    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{filename}-{stamp}.xlsx')}"
    return resp, total


def _reasons(case) -> str:
    return "；".join(case.warning_reasons or [])


RISK_HEADER = [
    "受理编号",
    "事项摘要",
    "事项类型",
    "所属乡镇",
    "责任中心",
    "责任部门",
    "状态",
    "预警",
    "预警原因",
    "本环节期限",
]


def risk_rows(cases) -> Iterable[list[Any]]:
    for c in cases:
        yield [
            c.tracking_no,
            c.title,
            c.get_kind_display(),
            c.town.name if c.town else "",
            c.owning_center.name,
            c.owning_unit.name if c.owning_unit else "",
            c.get_status_display(),
            c.get_warning_level_display(),
            _reasons(c),
            fmt(c.due_at),
        ]


RESPONSIBILITY_HEADER = [
    "受理编号",
    "事项摘要",
    "所属乡镇",
    "责任中心",
    "责任部门",
    "承办人",
    "首问责任人",
    "包案领导",
    "状态",
    "预警",
    "本环节期限",
]


def responsibility_rows(cases) -> Iterable[list[Any]]:
    for c in cases:
        yield [
            c.tracking_no,
            c.title,
            c.town.name if c.town else "",
            c.owning_center.name,
            c.owning_unit.name if c.owning_unit else "",
            "、".join(f"{a.user.display_name}（{a.get_role_display()}）" for a in c.active_assignments),
            c.registered_by.display_name if c.registered_by else "",
            "、".join(p.leader.display_name for p in c.active_packages),
            c.get_status_display(),
            c.get_warning_level_display(),
            fmt(c.due_at),
        ]


TASK_HEADER = ["来源", "截止时间", "是否超期", "任务", "责任中心", "责任部门", "责任人", "受理编号"]


def task_rows(tasks) -> Iterable[list[Any]]:
    for t in tasks:
        yield [
            t.source,
            fmt(t.due),
            "超期" if t.overdue else "",
            t.what,
            t.center,
            t.unit,
            t.person,
            t.case.tracking_no if t.case else "",
        ]


def _kind_columns(standing) -> list[int]:
    return [standing.by_kind.get(k, 0) for k in PointKind.values]


RANK_HEADER = ["名次", "名称", "得分", "记分事件数", *PointKind.labels]


def ranking_rows(standings) -> Iterable[list[Any]]:
    for s in standings:
        yield [s.rank, s.subject.name, float(s.score), s.events, *_kind_columns(s)]


EVENT_HEADER = ["时间", "事件", "分值", "计入乡镇", "中心", "部门", "受理编号", "事由"]


def event_rows(events) -> Iterable[list[Any]]:
    for e in events:
        yield [
            fmt(e.at),
            e.get_kind_display(),
            float(e.points),
            e.town.name if e.town else "",
            e.center.name if e.center else "",
            e.unit.name if e.unit else "",
            e.case.tracking_no if e.case else "",
            e.reason,
        ]
