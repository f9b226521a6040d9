"""The Excel sheets of staff administration: their columns, the downloadable templates, reading.

Every template has a data sheet (the first; row 1 holds the headers, "*" marks a required column,
column order does not matter, unknown columns are ignored) and a 填写说明 sheet with each column's
meaning, the allowed values and an example. ID numbers, phones and codes are text columns, so Excel
neither rounds an 18-digit ID number nor drops a leading zero. CSV (UTF-8 or GBK) is read too.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from centers.models import DepartmentKind, Role

from .models import SheetKind


class Invalid(ValueError):
    """A value or a file that cannot be used; the message is Chinese and shown as it is."""


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    required: bool = False
    help: str = ""
    example: str = ""
    choices: tuple[str, ...] = ()
    text: bool = True  # stored as text in the template (IDs, phones, codes)


# Roles an import may give. 接口账户 is created by the system administrator only.
IMPORT_ROLES = tuple(r for r in Role if r != Role.API_CLIENT)
ROLE_BY_LABEL = (
    {r.label: r.value for r in IMPORT_ROLES}
    | {r.value: r.value for r in IMPORT_ROLES}
    | {
        "县领导": Role.LEADERSHIP,
        "工作人员": Role.DISPATCHER,
        "调度员": Role.DISPATCHER,
        "中心主任": Role.CENTER_LEADER,
    }
)
UNIT_KIND_BY_LABEL = {k.label: k.value for k in DepartmentKind} | {k.value: k.value for k in DepartmentKind}
# 层级 of the centers sheet → (region kind, urban?)
PLACE_KINDS = {
    "乡镇": ("town", False),
    "乡": ("town", False),
    "镇": ("town", False),
    "街道": ("town", True),
    "村": ("village", False),
    "社区": ("village", True),
}
GRID_POSTS = ("专职网格员", "兼职网格员")

_ROLE_CHOICES = tuple(r.label for r in IMPORT_ROLES)

COLUMNS: dict[str, tuple[Column, ...]] = {
    SheetKind.CENTERS: (
        Column("code", "区划代码", True, "乡镇 9 位、村（社区）12 位统计用区划代码", "430124003"),
        Column("name", "名称", True, "乡镇（街道）或村（社区）的名称", "黄花镇"),
        Column("kind", "层级", True, "乡镇、街道、村或社区", "乡镇", tuple(PLACE_KINDS)),
        Column("parent_code", "上级区划代码", True, "乡镇填县的代码，村（社区）填乡镇的代码", "430124"),
        Column("center_name", "中心名称", False, "留空则为“名称+综治中心/综治工作站”", ""),
        Column("phone", "值班电话", False, "", "0731-86001234"),
        Column("address", "地址", False, "", "黄花镇政务服务中心"),
    ),
    SheetKind.UNITS: (
        Column("name", "部门名称", True, "同一辖区内不重名", "黄花派出所"),
        Column(
            "kind",
            "部门类别",
            True,
            "公安局、派出所、司法所、人社局……",
            "派出所",
            tuple(k.label for k in DepartmentKind),
        ),
        Column("region_code", "所在区划代码", True, "县级部门填县的代码，乡镇部门填乡镇的代码", "430124003"),
        Column("phone", "电话", False, "", "0731-86002345"),
    ),
    SheetKind.STAFF: (
        Column("name", "姓名", True, "", "张三"),
        Column(
            "id_number",
            "身份证号",
            False,
            "18 位居民身份证号；与手机号一起用于识别同一人",
            "430124199001011234",
        ),
        Column("phone", "手机号", True, "11 位手机号；新账号的登录名默认为手机号", "13800138000"),
        Column("username", "登录名", False, "留空则用手机号", ""),
        Column(
            "center_code", "所属中心区划代码", False, "在综治中心任职填中心所在辖区的区划代码", "430124003"
        ),
        Column("unit_name", "所属部门名称", False, "在职能部门任职填部门名称（与上一列二选一）", ""),
        Column("unit_region_code", "部门所在区划代码", False, "部门重名时用于区分", ""),
        Column(
            "role",
            "角色",
            True,
            "窗口工作人员、调解员、中心工作人员、中心领导……",
            "中心工作人员",
            _ROLE_CHOICES,
        ),
        Column("title", "职务", False, "", "值班调度员"),
    ),
    SheetKind.GRID_WORKERS: (
        Column("name", "姓名", True, "", "李四"),
        Column("id_number", "身份证号", False, "18 位居民身份证号", "430124199202023456"),
        Column("phone", "手机号", True, "11 位手机号；新账号的登录名默认为手机号", "13900139000"),
        Column("username", "登录名", False, "留空则用手机号", ""),
        Column(
            "grid_code", "网格编码", True, "四级网格编码（通常为村/社区代码加 3 位序号）", "430124003201001"
        ),
        Column("grid_name", "网格名称", False, "新网格必填", "第1网格"),
        Column("village_code", "所属村（社区）区划代码", False, "新网格必填", "430124003201"),
        Column("post", "岗位类型", False, "专职网格员或兼职网格员，默认专职", "专职网格员", GRID_POSTS),
        Column("households", "实有户数", False, "网格的实有户数（留空不修改）", "260", text=False),
        Column("population", "实有人口", False, "网格的实有人口（留空不修改）", "780", text=False),
    ),
    SheetKind.MOVES: (
        Column("name", "姓名", True, "用于核对", "李四"),
        Column(
            "id_number", "身份证号", False, "身份证号与手机号至少填一项，用于找到本人", "430124199202023456"
        ),
        Column("phone", "手机号", False, "", "13900139000"),
        Column(
            "from_code",
            "调出区划代码或网格编码",
            False,
            "只结束该处的岗位；留空则结束同角色的全部在岗岗位",
            "",
        ),
        Column("to_grid_code", "调入网格编码", False, "网格员调到另一网格时填写", "430124003201002"),
        Column("to_center_code", "调入中心区划代码", False, "调到另一中心时填写（三者选一）", ""),
        Column("to_unit_name", "调入部门名称", False, "调到职能部门时填写（三者选一）", ""),
        Column("to_unit_region_code", "调入部门所在区划代码", False, "部门重名时用于区分", ""),
        Column("role", "角色", False, "调入后的角色；留空则沿用原角色", "", _ROLE_CHOICES),
        Column("title", "职务", False, "", ""),
        Column("reason", "调动原因", True, "", "工作调整"),
    ),
}

TITLES = {
    SheetKind.CENTERS: "综治中心导入模板",
    SheetKind.UNITS: "职能部门导入模板",
    SheetKind.STAFF: "工作人员导入模板",
    SheetKind.GRID_WORKERS: "网格员及网格导入模板",
    SheetKind.MOVES: "人员调动模板",
}


def template_name(kind: str) -> str:
    return f"{TITLES[kind]}.xlsx"


def template_bytes(kind: str) -> bytes:
    """The downloadable template of `kind` (openpyxl)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    columns = COLUMNS[kind]
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDECEA")
    for i, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=i, value=f"{col.header}*" if col.required else col.header)
        cell.font = bold
        if col.required:
            cell.fill = required_fill
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(12, len(col.header) * 2 + 4)
        if col.text:
            # Text cells: Excel keeps 18-digit ID numbers and leading zeros as typed.
            for row in range(2, 5002):
                ws.cell(row=row, column=i).number_format = "@"
        if col.choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(col.choices) + '"', allow_blank=True)
            dv.error = f"请从下拉列表中选择{col.header}"
            dv.add(f"{letter}2:{letter}5001")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    help_ws = wb.create_sheet("填写说明")
    help_ws.append(["列名", "是否必填", "说明", "可选值", "示例"])
    for cell in help_ws[1]:
        cell.font = bold
    for col in columns:
        help_ws.append(
            [col.header, "必填" if col.required else "", col.help, "、".join(col.choices), col.example]
        )
    for letter, width in zip("ABCDE", (24, 10, 50, 40, 24), strict=True):
        help_ws.column_dimensions[letter].width = width
    help_ws.append([])
    help_ws.append(["说明：第一个工作表的第一行为列名（带 * 为必填），从第二行起每行一条；列的顺序不限。"])
    help_ws.append(["同一人按身份证号或手机号识别：重复导入同一文件不会产生重复账号或岗位。"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------

MAX_ROWS = 20_000


def _header_key(text: Any) -> str:
    return re.sub(r"[\s*＊]", "", str(text or "")).replace("(", "（").replace(")", "）")


def read_rows(name: str, stream: IO[bytes]) -> Iterable[list[Any]]:
    from petitions.imports import read_table
    from petitions.validation import Invalid as PetitionInvalid

    try:
        yield from read_table(name, stream)
    except PetitionInvalid as exc:
        raise Invalid(str(exc)) from exc


def records_from_file(kind: str, name: str, stream: IO[bytes]) -> list[tuple[int, dict[str, Any]]]:
    """(line number in the file, {field: value}) for every non-empty data row."""
    if not name.lower().endswith((".xlsx", ".csv")):
        raise Invalid("请上传 .xlsx（Excel）或 .csv 文件，可先下载模板填写。")
    columns = COLUMNS[kind]
    rows = iter(read_rows(name, stream))
    try:
        header = next(rows)
    except StopIteration as exc:
        raise Invalid("文件是空的。") from exc
    keys = [_header_key(h) for h in header]
    index: dict[str, int] = {}
    for col in columns:
        for i, k in enumerate(keys):
            if k in (_header_key(col.header), col.field):
                index[col.field] = i
                break
    missing = [c.header for c in columns if c.required and c.field not in index]
    if missing:
        raise Invalid(f"缺少必需的列：{'、'.join(missing)}。请使用“{TITLES[kind]}”填写。")
    out = []
    for line, row in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in row):
            continue
        out.append((line, {f: (row[i] if i < len(row) else None) for f, i in index.items()}))
        if len(out) > MAX_ROWS:
            raise Invalid(f"单个文件最多 {MAX_ROWS} 行，请分批导入。")
    return out


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
