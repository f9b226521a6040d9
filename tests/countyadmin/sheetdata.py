"""Building test sheets: valid ID numbers and phones, and .xlsx files from rows of header → value."""

from __future__ import annotations

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from stdnum.cn import ric

from countyadmin import sheets

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def id_number(n: int) -> str:
    """A valid resident ID number (county 430124), unique per n."""
    birth = dt.date(1990, 1, 1) + dt.timedelta(days=n // 500)
    body = f"430124{birth:%Y%m%d}{n % 500 + 100:03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads the first 17 of 18


def phone(n: int) -> str:
    return f"139{n:08d}"


def xlsx(kind: str, rows: list[dict[str, object]], name: str = "sheet.xlsx") -> SimpleUploadedFile:
    """An upload of `rows` (field → value) under the template's headers."""
    columns = sheets.COLUMNS[kind]
    wb = Workbook()
    ws = wb.active
    ws.append([f"{c.header}*" if c.required else c.header for c in columns])
    for row in rows:
        ws.append([row.get(c.field, "") for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type=XLSX)
