"""The case list as an .xlsx workbook (openpyxl's write-only mode: constant memory, any row count).

Only masked personal numbers are written; the full numbers never leave the database in an export.
Rows come as plain tuples from one server-side cursor and parties in one query per chunk, so the
cost per row is the spreadsheet's, not the ORM's (lxml, when installed, serializes the sheet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, BinaryIO

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .models import CaseKind, Category, Channel, Level, PartyRole, Satisfaction, Status, WarningLevel
from .selectors import EXPORT_COLUMNS, case_parties_masked

CHUNK = 2000

COLUMNS: list[tuple[str, int]] = [
    ("受理编号", 20), ("事项类型", 10), ("来源渠道", 12), ("纠纷类别", 14), ("事项摘要", 36), ("状态", 14),
    ("预警", 6), ("预警原因", 36), ("处置层级", 8), ("责任中心", 22), ("责任部门", 18), ("所属乡镇", 14),
    ("发生地", 14), ("详细地址", 24), ("发生时间", 17), ("涉及金额（元）", 14), ("涉及人数", 8),
    ("当事人（号码已脱敏）", 48), ("登记时间", 17), ("本环节期限", 17), ("办结时间", 17), ("满意度", 8),
    ("按期办结", 8),
]
LABELS = {
    "kind": dict(CaseKind.choices), "channel": dict(Channel.choices), "category": dict(Category.choices),
    "status": dict(Status.choices), "warning_level": dict(WarningLevel.choices), "level": dict(Level.choices),
    "satisfaction": dict(Satisfaction.choices), "role": dict(PartyRole.choices),
}
_I = {name: i for i, name in enumerate(EXPORT_COLUMNS)}


def _local(value: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: write the county's local time.
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _text(value: str | None) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value) if value else ""


def _parties(parties: list[tuple[str, str, str, str]]) -> str:
    out = []
    for role, name, id_masked, phone_masked in parties:
        numbers = "，".join(x for x in (id_masked, phone_masked) if x)
        out.append(f"{name}（{LABELS['role'].get(role, role)}{'，' + numbers if numbers else ''}）")
    return _text("；".join(out))


def row_values(row: tuple, parties: list[tuple[str, str, str, str]]) -> list[Any]:
    """One spreadsheet row from an EXPORT_COLUMNS tuple and the case's parties."""

    def get(name: str) -> Any:
        return row[_I[name]]

    def label(name: str) -> str:
        value = get(name)
        return LABELS[name].get(value, value or "")

    return [
        get("tracking_no"), label("kind"), label("channel"), label("category"), _text(get("title")), label("status"),
        label("warning_level"), _text("；".join(get("warning_reasons") or [])), label("level"),
        get("owning_center__name"), get("owning_unit__name") or "", get("town__name") or "", get("region__name"),
        _text(get("address")), _local(get("occurred_at")), get("amount"), get("people_count"), _parties(parties),
        _local(get("created_at")), _local(get("due_at")), _local(get("closed_at")), label("satisfaction"),
        {True: "是", False: "否"}.get(get("closed_on_time"), ""),
    ]


def _chunks(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def write_cases_xlsx(rows: QuerySet | Iterable[tuple], out: BinaryIO, *, limit: int) -> int:
    """Write at most `limit` rows of `selectors.case_export_rows(...)` to `out`; returns the count."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("事项")
    ws.freeze_panes = "A2"
    for i, (_, width) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    bold = Font(bold=True)
    header = []
    for title, _ in COLUMNS:
        c = WriteOnlyCell(ws, value=title)
        c.font = bold
        header.append(c)
    ws.append(header)
    source = rows.iterator(chunk_size=CHUNK) if isinstance(rows, QuerySet) else rows
    count = 0
    for chunk in _chunks(islice(source, limit), CHUNK):
        parties = case_parties_masked([r[0] for r in chunk])
        for row in chunk:
            values = row_values(row, parties.get(row[0], []))
            for i, v in enumerate(values):
                if isinstance(v, str) and v.startswith("="):
                    # Text that looks like a formula ("=HYPERLINK(...)") stays text: no formula injection.
                    cell = WriteOnlyCell(ws, value=v)
                    cell.data_type = "s"
                    values[i] = cell
            ws.append(values)
        count += len(chunk)
    wb.save(out)
    return count
