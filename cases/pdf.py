"""The shared PDF helpers for the regulation's documents (调解协议书, 信访告知书 …).

Chinese text uses reportlab's built-in CID font STSong-Light, so no system font is needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate

FONT = "STSong-Light"


def font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def styles() -> dict[str, ParagraphStyle]:
    name = font()
    body = ParagraphStyle("body", fontName=name, fontSize=12, leading=20, wordWrap="CJK", firstLineIndent=0)
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=20, leading=30, alignment=TA_CENTER),
        "number": ParagraphStyle("number", parent=body, alignment=TA_RIGHT, fontSize=11),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
        "h": ParagraphStyle("h", parent=body, spaceBefore=8, fontSize=13),
        "body": body,
        "indent": ParagraphStyle("indent", parent=body, firstLineIndent=24),
        "small": ParagraphStyle("small", parent=body, fontSize=10, leading=15),
    }


def para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def build_a4(story: Sequence, *, title: str, author: str = "", subject: str = "") -> bytes:
    """An A4 document in the official margins, as PDF bytes."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=22 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=author,
        subject=subject,
    )
    doc.build(list(story))
    return buf.getvalue()
