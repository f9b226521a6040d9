"""Channel imports: reading 12345 work orders, 110 non-police incidents and online petitions.

Column mapping (the first row of the file holds the headers; column order does not matter,
unknown columns are ignored, "*" marks a required column; each internal field also accepts
its English name, so an API client may send either):

| field          | 12345热线工单 (hotline_12345) | 110非警务警情 (police_110) | 网上信访件 (online)   |
|----------------|-------------------------------|----------------------------|-----------------------|
| source_ref *   | 工单编号                       | 警情编号                    | 信访件编号             |
| reported_at *  | 来电时间                       | 报警时间                    | 提交时间               |
| name *         | 来电人                         | 报警人                      | 信访人                 |
| phone          | 来电号码 *                     | 报警电话 *                  | 联系电话 (or ID) *     |
| id_number      | 证件号码                       | 身份证号                    | 证件号码               |
| region_code    | 区划代码                       | 区划代码                    | 区划代码               |
| town           | 所属乡镇                       | 所属乡镇                    | 所属乡镇               |
| village        | 所属村（社区）                 | 所属村（社区）              | 所属村（社区）         |
| address        | 详细地址                       | 发生地址                    | 详细地址               |
| category       | 诉求类别                       | 警情类别                    | 问题分类               |
| title *        | 诉求标题                       | 警情摘要                    | 信访标题               |
| description    | 诉求内容                       | 简要案情                    | 信访内容               |
| request        | 诉求                           | 诉求                        | 信访诉求               |
| people_count   | 涉及人数                       | 涉及人数                    | 信访人数               |

The place is the region code (a village, town or grid code of the county) or, without one, the
town name and optionally the village name; it must lie in the importing center's area.
Times: "2026-03-02 09:15[:00]", "2026/3/2 9:15", "2026年3月2日 9时15分" or an Excel date-time,
local time (Asia/Shanghai). Categories map by keyword (欠薪/劳动 → 劳动争议, 物业 → 物业纠纷, 消费/
购物/食品 → 消费维权 …); anything else is 其他. Phones may carry +86, spaces or dashes. Files are CSV
(UTF-8, UTF-8 with BOM or GBK) or Excel .xlsx (first sheet). Samples: petitions/samples/.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils import timezone

from cases.clocks import LOCAL
from cases.models import Category, Channel
from centers.models import Region, RegionKind

from .models import ImportSource
from .validation import Invalid, clean_id_number, clean_phone

FIELDS = (
    "source_ref",
    "reported_at",
    "name",
    "phone",
    "id_number",
    "region_code",
    "town",
    "village",
    "address",
    "category",
    "title",
    "description",
    "request",
    "people_count",
)

COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    ImportSource.HOTLINE_12345: {
        "source_ref": ("工单编号",),
        "reported_at": ("来电时间",),
        "name": ("来电人", "来电人姓名"),
        "phone": ("来电号码", "来电电话"),
        "id_number": ("证件号码", "身份证号"),
        "region_code": ("区划代码",),
        "town": ("所属乡镇", "所属街道"),
        "village": ("所属村（社区）", "所属村", "所属社区"),
        "address": ("详细地址",),
        "category": ("诉求类别",),
        "title": ("诉求标题", "工单标题"),
        "description": ("诉求内容", "工单内容"),
        "request": ("诉求",),
        "people_count": ("涉及人数",),
    },
    ImportSource.POLICE_110: {
        "source_ref": ("警情编号",),
        "reported_at": ("报警时间",),
        "name": ("报警人",),
        "phone": ("报警电话",),
        "id_number": ("身份证号", "证件号码"),
        "region_code": ("区划代码",),
        "town": ("所属乡镇", "所属街道"),
        "village": ("所属村（社区）", "所属村", "所属社区"),
        "address": ("发生地址", "详细地址"),
        "category": ("警情类别",),
        "title": ("警情摘要",),
        "description": ("简要案情",),
        "request": ("诉求",),
        "people_count": ("涉及人数",),
    },
    ImportSource.ONLINE: {
        "source_ref": ("信访件编号",),
        "reported_at": ("提交时间",),
        "name": ("信访人",),
        "phone": ("联系电话",),
        "id_number": ("证件号码", "身份证号"),
        "region_code": ("区划代码",),
        "town": ("所属乡镇", "所属街道"),
        "village": ("所属村（社区）", "所属村", "所属社区"),
        "address": ("详细地址",),
        "category": ("问题分类",),
        "title": ("信访标题",),
        "description": ("信访内容",),
        "request": ("信访诉求", "诉求"),
        "people_count": ("信访人数",),
    },
}
REQUIRED = ("source_ref", "reported_at", "name", "title")
LABELS = {
    "source_ref": "来源编号",
    "reported_at": "时间",
    "name": "姓名",
    "phone": "电话",
    "id_number": "证件号码",
    "region_code": "区划代码",
    "town": "所属乡镇",
    "village": "所属村（社区）",
    "address": "地址",
    "category": "类别",
    "title": "标题",
    "description": "内容",
    "request": "诉求",
    "people_count": "人数",
}
CHANNEL_OF = {
    ImportSource.HOTLINE_12345: Channel.HOTLINE_12345,
    ImportSource.POLICE_110: Channel.POLICE_110,
    ImportSource.ONLINE: Channel.ONLINE,
}
MAX_ROWS = 200_000

_CATEGORY_KEYWORDS: list[tuple[tuple[str, ...], str]] = [
    (("欠薪", "工资", "劳动", "劳资", "讨薪", "社保"), Category.LABOUR),
    (("物业",), Category.PROPERTY),
    (("婚姻", "家庭", "赡养", "抚养", "家暴"), Category.FAMILY),
    (("征地", "拆迁", "安置"), Category.DEMOLITION),
    (("土地", "宅基地", "山林", "承包地"), Category.LAND),
    (("交通", "车祸"), Category.TRAFFIC),
    (("医疗", "医患", "医院"), Category.MEDICAL),
    (("消费", "购物", "食品", "商品", "退款", "维权", "质量"), Category.CONSUMER),
    (("邻里", "噪音", "相邻"), Category.NEIGHBOUR),
    (("工程", "施工", "机械"), Category.CONSTRUCTION),
    (("借贷", "借款", "欠款", "债务"), Category.LENDING),
    (("环境", "污染", "排污", "垃圾"), Category.ENVIRONMENT),
    (("军地", "军人", "退役"), Category.MILITARY),
    (("安全", "隐患"), Category.SAFETY),
]
_LABEL_TO_CATEGORY = {c.label: c.value for c in Category} | {c.value: c.value for c in Category}


def map_category(text: str) -> str:
    text = (text or "").strip()
    if not text:
        return Category.OTHER
    if text in _LABEL_TO_CATEGORY:
        return _LABEL_TO_CATEGORY[text]
    for words, value in _CATEGORY_KEYWORDS:
        if any(w in text for w in words):
            return value
    return Category.OTHER


_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d%H%M%S",
)
_CN_TIME = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:(\d{1,2})[时:：](\d{1,2})分?)?")


def parse_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time.min)
    else:
        text = str(value or "").strip()
        if not text:
            raise Invalid("不能为空")
        moment = None
        if len(text) >= 10 and text[4] == "-" and text[7] == "-":
            # The usual "2026-03-02 09:15:00", parsed in C (strptime costs ~10 µs a row).
            try:
                moment = dt.datetime.fromisoformat(text)
            except ValueError:
                moment = None
            else:
                if moment.tzinfo is not None:
                    return moment
        m = _CN_TIME.match(text) if moment is None else None
        if m:
            y, mo, d, h, mi = m.groups()
            moment = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0))  # noqa: DTZ001
        elif moment is None:
            if text.endswith("Z") or "+" in text[10:]:
                try:
                    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                except ValueError:
                    pass
            for f in _TIME_FORMATS:
                try:
                    moment = dt.datetime.strptime(text, f)  # noqa: DTZ007 - local time, made aware below
                    break
                except ValueError:
                    continue
        if moment is None:
            raise Invalid(f"无法识别的时间「{text[:30]}」")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=LOCAL)
    return moment


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def _header_key(text: Any) -> str:
    return re.sub(r"[\s*＊]", "", str(text or "")).replace("(", "（").replace(")", "）")


def read_table(name: str, stream: IO[bytes]) -> Iterator[list[Any]]:
    """Rows (header first) of a CSV or .xlsx file."""
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(stream, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
            raise Invalid("无法读取 Excel 文件，请确认是 .xlsx 格式且未加密。") from exc
        try:
            for row in wb.worksheets[0].iter_rows(values_only=True):
                yield list(row)
        finally:
            wb.close()
        return
    raw = stream.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Invalid("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV。")
    yield from csv.reader(io.StringIO(text, newline=""))


def map_headers(source: str, header: Iterable[Any]) -> dict[str, int]:
    """field → column index; raises Invalid naming the missing required columns."""
    aliases = COLUMNS[source]
    index: dict[str, int] = {}
    keys = [_header_key(h) for h in header]
    for f in FIELDS:
        names = {_header_key(a) for a in aliases.get(f, ())} | {f}
        for i, k in enumerate(keys):
            if k in names:
                index[f] = i
                break
    required = [*REQUIRED, "phone"] if source != ImportSource.ONLINE else list(REQUIRED)
    missing = [aliases[f][0] for f in required if f not in index]
    if missing:
        raise Invalid(f"缺少必需的列：{'、'.join(missing)}（列名见导入说明）")
    return index


def records_from_file(source: str, name: str, stream: IO[bytes]) -> list[dict[str, Any]]:
    rows = read_table(name, stream)
    try:
        header = next(rows)
    except StopIteration as exc:
        raise Invalid("文件是空的。") from exc
    index = map_headers(source, header)
    out = []
    for row in rows:
        if not any(v not in (None, "") for v in row):
            continue
        out.append({f: (row[i] if i < len(row) else None) for f, i in index.items()})
        if len(out) > MAX_ROWS:
            raise Invalid(f"单个文件最多 {MAX_ROWS} 行，请分批导入。")
    return out


# --------------------------------------------------------------------------------------------
# Validating rows
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One validated record, ready for `services.import_rows`."""

    number: int  # 1-based data row (the file's line is number + 1)
    source_ref: str
    reported_at: dt.datetime
    name: str
    phone: str
    id_number: str
    region: Region
    address: str
    category: str
    title: str
    description: str
    request: str
    people_count: int


@dataclass
class RowError:
    number: int
    source_ref: str
    errors: dict[str, str] = field(default_factory=dict)  # field → reason

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.number,
            "ref": self.source_ref,
            "errors": [f"{LABELS.get(f, f)}：{msg}" for f, msg in self.errors.items()],
            "fields": self.errors,
        }


class RegionIndex:
    """The importing center's places, by code and by (town, village) name: one query."""

    def __init__(self, root: Region) -> None:
        regions = list(
            Region.objects.filter(path__startswith=root.path).only(
                "pk", "path", "depth", "name", "kind", "code"
            )
        )
        self.root = root
        self.by_code = {r.code: r for r in regions}
        self.towns: dict[str, Region] = {}
        self.villages: dict[tuple[str, str], Region] = {}
        by_path = {r.path: r for r in regions}
        for r in regions:
            if r.kind == RegionKind.TOWN:
                self.towns[r.name] = r
        for r in regions:
            if r.kind == RegionKind.VILLAGE:
                town = next(
                    (
                        by_path[p]
                        for p in (r.path[:i] for i in range(len(r.path), 0, -Region.steplen))
                        if p in by_path and by_path[p].kind == RegionKind.TOWN
                    ),
                    None,
                )
                if town is not None:
                    self.villages[(town.name, r.name)] = r
        # A lone village name is enough when it is unique in the area.
        counts: dict[str, int] = {}
        for _, v in self.villages:
            counts[v] = counts.get(v, 0) + 1
        self.unique_villages = {v: r for (_, v), r in self.villages.items() if counts[v] == 1}

    def resolve(self, code: str, town: str, village: str) -> Region:
        code, town, village = code.strip(), town.strip(), village.strip()
        if code:
            region = self.by_code.get(code)
            if region is None:
                if Region.objects.filter(code=code).exists():
                    raise Invalid(f"区划代码 {code} 不在本中心辖区内")
                raise Invalid(f"找不到区划代码 {code}")
            return region
        if town:
            t = self.towns.get(town)
            if t is None:
                raise Invalid(f"本中心辖区内没有「{town}」")
            if village:
                v = self.villages.get((town, village))
                if v is None:
                    raise Invalid(f"「{town}」下没有「{village}」")
                return v
            return t
        if village:
            v = self.unique_villages.get(village)
            if v is None:
                raise Invalid(f"找不到「{village}」，请同时填写所属乡镇")
            return v
        raise Invalid("请填写区划代码或所属乡镇")


_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _phone(value: str) -> str:
    from cases.crypto import normalize_phone

    digits = normalize_phone(value)
    if _MOBILE.match(digits):
        return digits  # the common case, without phonenumbers' full parse
    return clean_phone(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def validate(
    source: str, records: list[dict[str, Any]], *, regions: RegionIndex, now: dt.datetime | None = None
) -> tuple[list[Row], list[RowError]]:
    """Good rows and bad rows with a reason per field. A repeated record number is an error."""
    now = now or timezone.now()
    latest = now + dt.timedelta(hours=1)
    good: list[Row] = []
    bad: list[RowError] = []
    seen: dict[str, int] = {}
    for number, rec in enumerate(records, start=1):
        ref = _text(rec.get("source_ref"))[:64]
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for f in REQUIRED:
            if not _text(rec.get(f)):
                errors[f] = "不能为空"
        if ref:
            if ref in seen:
                errors["source_ref"] = f"与第 {seen[ref]} 行重复"
            else:
                seen[ref] = number
        if "reported_at" not in errors:
            try:
                values["reported_at"] = parse_time(rec.get("reported_at"))
                if values["reported_at"] > latest:
                    errors["reported_at"] = "时间晚于当前时间"
            except Invalid as exc:
                errors["reported_at"] = str(exc)
        phone = _text(rec.get("phone"))
        id_number = _text(rec.get("id_number"))
        try:
            values["phone"] = _phone(phone) if phone else ""
        except Invalid as exc:
            errors["phone"] = str(exc)
        try:
            values["id_number"] = clean_id_number(id_number) if id_number else ""
        except Invalid as exc:
            errors["id_number"] = str(exc)
        if source != ImportSource.ONLINE and not phone and "phone" not in errors:
            errors["phone"] = "不能为空"
        if source == ImportSource.ONLINE and not phone and not id_number:
            errors["phone"] = "联系电话和证件号码至少填写一项"
        try:
            values["region"] = regions.resolve(
                _text(rec.get("region_code")), _text(rec.get("town")), _text(rec.get("village"))
            )
        except Invalid as exc:
            errors["region_code" if _text(rec.get("region_code")) else "town"] = str(exc)
        count = _text(rec.get("people_count"))
        if count:
            try:
                values["people_count"] = int(float(count))
                if not 1 <= values["people_count"] <= 100000:
                    raise ValueError
            except ValueError:
                errors["people_count"] = f"应为正整数，而不是「{count[:10]}」"
        if errors:
            bad.append(RowError(number, ref, errors))
            continue
        good.append(
            Row(
                number=number,
                source_ref=ref,
                reported_at=values["reported_at"],
                name=_text(rec.get("name"))[:100],
                phone=values["phone"],
                id_number=values["id_number"],
                region=values["region"],
                address=_text(rec.get("address"))[:200],
                category=map_category(_text(rec.get("category"))),
                title=_text(rec.get("title"))[:200],
                description=_text(rec.get("description")),
                request=_text(rec.get("request")),
                people_count=values.get("people_count", 1),
            )
        )
    return good, bad
