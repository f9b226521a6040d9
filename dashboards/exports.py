"""A report as an Excel file (every report) and as a PDF (the monthly judgement).

Both are drawn from the same `reports.Report` as the page. Excel: openpyxl write-only workbooks
through cases.exports_supervision (the project's one .xlsx writer: row cap, file name). PDF:
reportlab's platypus with the built-in CID font STSong-Light (no system font needed), A4.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from cases import exports_supervision as xl

from .reports import Report, Table, dispatch_row

FONT = "STSong-Light"


def excel(report: Report) -> tuple[HttpResponse, int]:
    """(the .xlsx download, data rows written)."""
    sheets: list[tuple[str, list[str], Iterable[list[Any]]]] = [
        (
            "概况",
            ["项目", "数值"],
            [["报告", report.title], ["期间", report.period_label], ["辖区", report.root.name]]
            + [[label, value] for label, value in report.summary],
        ),
    ]
    if report.trend:
        sheets.append(
            (
                "逐日趋势",
                ["日期", "受理", "化解"],
                [[t["day"], t["received"], t["resolved"]] for t in report.trend],
            )
        )
    for table in report.tables:
        rows: Iterable[list[Any]] = table.rows
        if report.kind == "daily" and table.header and table.header[1:2] == ["受理编号"]:
            # The whole dispatch list (the page shows the first rows only).
            rows = (dispatch_row(c) for c in report.extra["dispatch_qs"].iterator(chunk_size=2000))
        sheets.append((_sheet_title(table), table.header, rows))
    return xl.response(f"{report.title}-{report.period_label}", sheets)


def _sheet_title(table: Table) -> str:
    # Excel sheet names: at most 31 characters, none of []:*?/\
    title = table.title
    for ch in "[]:*?/\\（）":
        title = title.replace(ch, "")
    return title[:31]


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def pdf(report: Report) -> HttpResponse:
    font = _font()
    title_style = ParagraphStyle("t", fontName=font, fontSize=18, leading=24, alignment=TA_CENTER)
    sub_style = ParagraphStyle(
        "s", fontName=font, fontSize=10, leading=14, alignment=TA_CENTER, textColor=colors.grey
    )
    h2 = ParagraphStyle("h2", fontName=font, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4)
    cell = ParagraphStyle("c", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    note = ParagraphStyle("n", fontName=font, fontSize=8, leading=11, textColor=colors.grey, wordWrap="CJK")

    def grid(header: list[str], rows: list[list[Any]], widths: list[float] | None = None) -> PdfTable:
        data = [[Paragraph(str(h), cell) for h in header]] + [
            [Paragraph("" if v is None else str(v), cell) for v in row] for row in rows
        ]
        t = PdfTable(data, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return t

    story: list[Any] = [
        Paragraph(report.title, title_style),
        Paragraph(
            f"{report.period_label} · 辖区：{report.root.name} · 生成于 "
            f"{timezone.localtime(report.generated_at):%Y-%m-%d %H:%M}",
            sub_style,
        ),
        Spacer(1, 6 * mm),
        Paragraph("一、总体情况", h2),
    ]
    pairs = list(report.summary)
    rows = [
        [a[0], a[1], b[0] if b else "", b[1] if b else ""]
        for a, b in zip(pairs[0::2], pairs[1::2] + [None] * (len(pairs) % 2), strict=False)
    ]
    story.append(grid(["指标", "数值", "指标", "数值"], rows, [45 * mm, 40 * mm, 45 * mm, 40 * mm]))
    numerals = "二三四五六七八九十"
    for i, table in enumerate(report.tables):
        story.append(Paragraph(f"{numerals[i] if i < len(numerals) else i + 2}、{table.title}", h2))
        if table.rows:
            story.append(grid(table.header, table.rows))
        else:
            story.append(Paragraph("本期无数据。", note))
        if table.note:
            story.append(Paragraph(table.note, note))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=report.title,
        author="综治中心平台",
    )
    doc.build(story)
    resp = HttpResponse(buf.getvalue(), content_type="application/pdf")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"{report.title}-{report.period_label}-{stamp}.pdf"
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp
