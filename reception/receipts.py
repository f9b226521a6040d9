"""The receipt handed to the visitor (受理回执): an A5 PDF drawn with reportlab.

Chinese text uses reportlab's built-in CID font STSong-Light (Adobe's Asian font pack names it;
viewers substitute their own Song face), so no system font is needed. Each matter gets its
tracking number, what happens next and by when, and a QR code of its public status page (the
query code is printed too, for typing it in by hand).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import qrcode
from django.utils import timezone
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from cases.clocks import fmt
from cases.models import DONE_STATES

from .models import Visit, VisitCase

FONT = "STSong-Light"
PAGE_W, PAGE_H = A5
MARGIN = 12 * mm
QR_SIZE = 26 * mm


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def mask_name(name: str) -> str:
    """张** : the surname only, so a lost receipt does not name its holder."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def wrap(text: str, width: float, size: float) -> list[str]:
    """Break `text` into lines no wider than `width` points (character by character: CJK has no spaces)."""
    lines: list[str] = []
    for para in (text or "").splitlines() or [""]:
        line = ""
        for ch in para:
            if pdfmetrics.stringWidth(line + ch, FONT, size) > width and line:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    return lines


def _qr(url: str) -> ImageReader:
    image = qrcode.make(url, box_size=4, border=1)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    buf.seek(0)
    return ImageReader(buf)


@dataclass
class _Pen:
    c: canvas.Canvas
    y: float

    def text(
        self, s: str, size: float = 10, x: float = MARGIN, width: float | None = None, gap: float = 1.5
    ) -> None:
        width = width or (PAGE_W - x - MARGIN)
        self.c.setFont(FONT, size)
        for line in wrap(s, width, size):
            self.need(size + gap)
            self.c.drawString(x, self.y - size, line)
            self.y -= size + gap

    def need(self, height: float) -> None:
        if self.y - height < MARGIN:
            self.c.showPage()
            self.y = PAGE_H - MARGIN

    def rule(self) -> None:
        self.need(6)
        self.c.setLineWidth(0.5)
        self.c.line(MARGIN, self.y - 3, PAGE_W - MARGIN, self.y - 3)
        self.y -= 8


def build_receipt(
    visit: Visit, links: Sequence[VisitCase], status_url: Callable[[VisitCase], tuple[str, str]]
) -> bytes:
    """The receipt PDF. `status_url(link)` gives (absolute status-page URL, query code) for a matter."""
    _font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A5, pageCompression=1)
    c.setTitle(f"受理回执 {visit.pk}")
    c.setAuthor(visit.center.name)
    pen = _Pen(c, PAGE_H - MARGIN)
    pen.text(visit.center.name, 15)
    pen.text("群众来访受理回执", 13)
    pen.y -= 2
    at = timezone.localtime(visit.registered_at)
    pen.text(f"来访人：{mask_name(visit.person.name)}　　来访人数：{visit.people_count} 人", 9.5)
    pen.text(f"登记时间：{at:%Y-%m-%d %H:%M}　　窗口：{visit.window or '接待大厅'}", 9.5)
    pen.text(f"首问责任人：{visit.registered_by.display_name}　　分类：{visit.get_route_display()}", 9.5)
    pen.rule()
    for link in links:
        case = link.case
        url, code = status_url(link)
        top = pen.y
        pen.need(QR_SIZE + 6)
        if pen.y != top:
            top = pen.y
        text_w = PAGE_W - 2 * MARGIN - QR_SIZE - 4 * mm
        pen.text(f"受理编号：{case.tracking_no}", 11.5, width=text_w)
        pen.text(
            f"事项类型：{case.get_kind_display()}"
            + ("（本次新登记）" if link.opened else "（并入已有事项）"),
            9.5,
            width=text_w,
        )
        pen.text(f"下一步：{link.next_step or case.get_status_display()}", 9.5, width=text_w)
        if case.status in DONE_STATES:
            pen.text("办理期限：已办结", 9.5, width=text_w)
        elif case.due_at:
            pen.text(f"办理期限：{fmt(case.due_at)} 前", 9.5, width=text_w)
        pen.text(f"进度查询码：{code}", 9.5, width=text_w)
        c.drawImage(_qr(url), PAGE_W - MARGIN - QR_SIZE, top - QR_SIZE, QR_SIZE, QR_SIZE)
        pen.y = min(pen.y, top - QR_SIZE - 2)
        pen.text(url, 7, gap=1)
        pen.rule()
    pen.text("扫描二维码或在查询页输入受理编号和查询码，即可查看办理进度（页面不显示任何个人信息）。", 8.5)
    pen.text("只进一扇门、最多跑一地。如对办理有疑问，请持本回执到窗口咨询。", 8.5)
    if visit.center.phone:
        pen.text(f"咨询电话：{visit.center.phone}", 8.5)
    c.showPage()
    c.save()
    return buf.getvalue()
