"""The periodic reports: 日调度 (daily dispatch), 周分析 (weekly analysis), 月研判 (monthly
judgement) and 季考评 (quarterly assessment of towns).

Each report is built once as plain data (`Report`) from which the page, the Excel file and (for
the month) the PDF are drawn, so the three always hold the same figures. Reads go through the
jurisdiction gate (the report's place is the user's county or town, as for the screen); counts
and rates come from the rollups (`selectors.flow_figures` / `closed_figures`, equal to the base
tables by test) and the few figures the rollups do not keep (days to resolve, hot-spot villages,
the dispatch list, assessment points) from the base tables, all through cases.metrics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from cases import metrics
from cases.clocks import fmt
from cases.models import Case, CaseKind, Category, Channel, Status, WarningLevel
from cases.selectors_supervision import town_ranking
from centers.jurisdiction import restrict
from centers.models import Region, RegionKind

from . import safety
from . import selectors as sel
from .models import ClosedRollup, Dimension, FlowRollup, Granularity, OpenRollup, PeriodKind, SafetyIndex

DISPATCH_PAGE_ROWS = 2_000
HOT_SPOTS = 10

KIND_LABELS = dict(CaseKind.choices)
CATEGORY_LABELS = dict(Category.choices)
CHANNEL_LABELS = dict(Channel.choices)
STATUS_LABELS = dict(Status.choices)
COLOUR_LABELS = dict(WarningLevel.choices)


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""


@dataclass
class Report:
    kind: str  # daily | weekly | monthly | quarterly
    title: str
    root: Region
    period_label: str
    first: dt.date
    last: dt.date
    summary: list[tuple[str, Any]] = field(default_factory=list)  # (label, formatted value)
    tables: list[Table] = field(default_factory=list)
    trend: list[dict[str, Any]] = field(default_factory=list)  # for the page's chart
    generated_at: dt.datetime = field(default_factory=timezone.now)
    extra: dict[str, Any] = field(default_factory=dict)


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}%"


def signed(v: float | None) -> str:
    return "—" if v is None else f"{v:+.2f}%"


def num(v: float | None, digits: int = 1) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


# ============================================================================================
# Periods
# ============================================================================================


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day - dt.timedelta(days=day.weekday())
    return first, first + dt.timedelta(days=6)


def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    return safety.period_bounds(PeriodKind.MONTH, day.replace(day=1))


def quarter_of(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    return safety.period_bounds(PeriodKind.QUARTER, dt.date(year, 3 * quarter - 2, 1))


def _clip(last: dt.date, today: dt.date) -> dt.date:
    return min(last, today)


# ============================================================================================
# Shared pieces
# ============================================================================================


def _gated(user: Any, root: Region):
    flow = restrict(FlowRollup.objects.filter(area__path__startswith=root.path), user)
    closed = restrict(ClosedRollup.objects.filter(area__path__startswith=root.path), user)
    return flow, closed


def _cases(user: Any, root: Region):
    return restrict(Case.objects.filter(region_path__startswith=root.path), user)


def _area_label(root: Region):
    def label(region: Region) -> str:
        return "县直" if region.pk == root.pk and root.kind != RegionKind.TOWN else region.name

    return label


def period_summary(user: Any, root: Region, first: dt.date, last: dt.date) -> dict[str, Any]:
    flow, closed = _gated(user, root)
    f = sel.flow_figures(flow, first, last, dimension=Dimension.ALL)
    c = sel.closed_figures(closed, first, last, dimension=Dimension.ALL)
    m = sel.closed_figures(closed, first, last, dimension=Dimension.KIND, value__in=metrics.MEDIATED_KINDS)
    period = metrics.Period.from_dates(first, last)
    days = _cases(user, root).aggregate(
        avg=metrics.average_days_to_resolve(period=period),
        median=metrics.median_days_to_resolve(period=period),
    )
    petitions = sel.flow_figures(flow, first, last, dimension=Dimension.KIND, value=CaseKind.PETITION)[
        "received"
    ]
    police = sel.flow_figures(flow, first, last, dimension=Dimension.CHANNEL, value=Channel.POLICE_110)[
        "received"
    ]
    return {
        **f,
        **{k: v for k, v in c.items()},
        "mediation_success_rate": m["success_rate"],
        "avg_days": metrics.to_days(days["avg"]),
        "median_days": metrics.to_days(days["median"]),
        "petitions": petitions,
        "police": police,
    }


def _summary_lines(
    now: dict[str, Any], before: dict[str, Any] | None, before_label: str
) -> list[tuple[str, Any]]:
    lines: list[tuple[str, Any]] = [
        ("受理", now["received"]),
        ("化解", now["resolved"]),
        ("化解率", pct(now["resolution_rate"])),
        ("红色预警", now["red"]),
        ("上交率", pct(now["escalation_rate"])),
        ("办结", now["closed"]),
        ("按期办结率", pct(now["on_time_close_rate"])),
        ("满意率", pct(now["satisfaction_rate"])),
        ("调解成功率", pct(now["mediation_success_rate"])),
        ("平均化解用时（天）", num(now["avg_days"])),
        ("化解用时中位数（天）", num(now["median_days"])),
        ("信访", now["petitions"]),
        ("110非警务警情", now["police"]),
    ]
    if before is not None:
        lines += [
            (f"受理较{before_label}", signed(metrics.change_rate(now["received"], before["received"]))),
            (f"信访较{before_label}", signed(metrics.change_rate(now["petitions"], before["petitions"]))),
            (f"110警情较{before_label}", signed(metrics.change_rate(now["police"], before["police"]))),
        ]
    return lines


def _by_dimension(
    user: Any, root: Region, dim: str, labels: dict[str, str], first, last, pfirst, plast
) -> Table:
    flow, _ = _gated(user, root)

    def rows(a, b):
        return dict(
            flow.filter(sel.period_q(a, b), dimension=dim)
            .order_by()
            .values_list("value")
            .annotate(n=Sum("received"))
        )

    now, before = rows(first, last), rows(pfirst, plast)
    title = {Dimension.CATEGORY: "事项类别", Dimension.CHANNEL: "来源渠道", Dimension.KIND: "事项类型"}[dim]
    table = Table(f"{title}分布", [title, "本期受理", "上期受理", "增减率"])
    for value in sorted(set(now) | set(before), key=lambda v: (-now.get(v, 0), v)):
        if now.get(value, 0) or before.get(value, 0):
            table.rows.append(
                [
                    labels.get(value, value),
                    now.get(value, 0),
                    before.get(value, 0),
                    signed(metrics.change_rate(now.get(value, 0), before.get(value, 0))),
                ]
            )
    return table


def _town_table(user: Any, root: Region, first: dt.date, last: dt.date, index_kind: str | None) -> Table:
    """Per town: figures and (for a month/quarter) its safety index, ranked by the index."""
    flow, closed = _gated(user, root)
    areas = sel.screen_areas(user, root)
    label = _area_label(root)
    index = {}
    if index_kind:
        index = {
            s.region_id: s.value
            for s in restrict(
                SafetyIndex.objects.filter(
                    region__in=areas,
                    period_kind=index_kind,
                    period_start=safety.period_start(index_kind, first),
                ),
                user,
            )
        }
    rows = []
    for area in areas:
        f = sel.flow_figures(flow.filter(area=area), first, last, dimension=Dimension.ALL)
        c = sel.closed_figures(closed.filter(area=area), first, last, dimension=Dimension.ALL)
        if area.pk == root.pk and root.kind != RegionKind.TOWN and not (f["received"] or c["closed"]):
            continue
        rows.append(
            {
                "name": label(area),
                "index": index.get(area.pk),
                "received": f["received"],
                "resolution_rate": f["resolution_rate"],
                "red": f["red"],
                "escalation_rate": f["escalation_rate"],
                "on_time": c["on_time_close_rate"],
                "satisfaction": c["satisfaction_rate"],
            }
        )
    rows.sort(key=lambda r: (r["index"] is None, -(r["index"] or 0), -(r["resolution_rate"] or 0), r["name"]))
    header = ["排名", "乡镇（街道）"]
    if index_kind:
        header.append("平安指数")
    header += ["受理", "化解率", "红色预警", "上交率", "按期办结率", "满意率"]
    table = Table("分乡镇排名", header)
    for i, r in enumerate(rows, start=1):
        row: list[Any] = [i, r["name"]]
        if index_kind:
            row.append(num(float(r["index"])) if r["index"] is not None else "—")
        row += [
            r["received"],
            pct(r["resolution_rate"]),
            r["red"],
            pct(r["escalation_rate"]),
            pct(r["on_time"]),
            pct(r["satisfaction"]),
        ]
        table.rows.append(row)
    if index_kind:
        table.note = "按平安指数从高到低排列（平安指数口径见“平安指数”页）。"
    return table


def _hot_spots(user: Any, root: Region, first: dt.date, last: dt.date) -> Table:
    """The villages (communities) with the most matters received in the period."""
    period = metrics.Period.from_dates(first, last)
    villages = {
        r.path: r
        for r in restrict(Region.objects.filter(path__startswith=root.path, kind=RegionKind.VILLAGE), user)
    }
    table = Table("矛盾纠纷高发村（社区）", ["村（社区）", "所属乡镇", "受理", "红色预警", "化解率"])
    if not villages:
        return table
    lengths = {len(p) for p in villages}
    rows = []
    for length in lengths:
        for r in (
            _cases(user, root)
            .filter(period.q("created_at"))
            .order_by()
            .values(p=Substr("region_path", 1, length))
            .annotate(
                n=metrics.received_count(period=period),
                red=metrics.red_count(period=period),
                rate=metrics.resolution_rate(period=period),
            )
        ):
            village = villages.get(r["p"])
            if village is not None and r["n"]:
                rows.append((village, r))
    towns = dict(Region.objects.filter(kind=RegionKind.TOWN).values_list("path", "name"))
    rows.sort(key=lambda vr: (-vr[1]["n"], -vr[1]["red"], vr[0].path))
    for village, r in rows[:HOT_SPOTS]:
        town = next((name for path, name in towns.items() if village.path.startswith(path)), "")
        table.rows.append([village.name, town, r["n"], r["red"], pct(r["rate"])])
    return table


def _open_now(user: Any, root: Region) -> Table:
    opened = restrict(OpenRollup.objects.filter(area__path__startswith=root.path), user)
    by = dict(opened.order_by().values_list("warning_level").annotate(n=Sum("open")))
    table = Table("当前在办事项", ["预警颜色", "件数"])
    for colour in (WarningLevel.RED, WarningLevel.YELLOW, WarningLevel.GREEN):
        table.rows.append([COLOUR_LABELS[colour], by.get(colour, 0)])
    return table


def _daily_trend(user: Any, root: Region, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    flow, _ = _gated(user, root)
    rows = dict(
        (d, (r, s))
        for d, r, s in flow.filter(
            granularity=Granularity.DAY, dimension=Dimension.ALL, start__gte=first, start__lte=last
        )
        .order_by()
        .values_list("start")
        .annotate(r=Sum("received"), s=Sum("resolved"))
    )
    out = []
    d = first
    while d <= last:
        received, resolved = rows.get(d, (0, 0))
        out.append({"day": d.isoformat(), "received": received, "resolved": resolved})
        d += dt.timedelta(days=1)
    return out


# ============================================================================================
# The reports
# ============================================================================================


def weekly(user: Any, root: Region, day: dt.date) -> Report:
    first, last = week_of(day)
    today = timezone.localdate()
    end = _clip(last, today)
    pfirst, plast = first - dt.timedelta(days=7), end - dt.timedelta(days=7)
    now, before = period_summary(user, root, first, end), period_summary(user, root, pfirst, plast)
    r = Report(
        "weekly",
        f"{root.name}矛盾纠纷周分析",
        root,
        f"{first.isoformat()} 至 {last.isoformat()}（第{first.isocalendar().week}周）",
        first,
        last,
    )
    r.summary = _summary_lines(now, before, "上周同期")
    r.trend = _daily_trend(user, root, first, end)
    r.tables = [
        _by_dimension(user, root, Dimension.CATEGORY, CATEGORY_LABELS, first, end, pfirst, plast),
        _by_dimension(user, root, Dimension.CHANNEL, CHANNEL_LABELS, first, end, pfirst, plast),
        _town_table(user, root, first, end, None),
        _hot_spots(user, root, first, end),
        _open_now(user, root),
    ]
    return r


def monthly(user: Any, root: Region, day: dt.date) -> Report:
    first, last = month_of(day)
    today = timezone.localdate()
    end = _clip(last, today)
    pfirst, plast = month_of(first - dt.timedelta(days=1))
    # The same number of days of the previous month, for a fair comparison of a running month.
    plast = min(plast, pfirst + (end - first))
    now, before = period_summary(user, root, first, end), period_summary(user, root, pfirst, plast)
    r = Report(
        "monthly", f"{root.name}社会矛盾风险月研判", root, f"{first.year}年{first.month}月", first, last
    )
    r.summary = _summary_lines(now, before, "上月")
    r.trend = _daily_trend(user, root, first, end)
    r.tables = [
        _town_table(user, root, first, end, PeriodKind.MONTH),
        _by_dimension(user, root, Dimension.CATEGORY, CATEGORY_LABELS, first, end, pfirst, plast),
        _by_dimension(user, root, Dimension.KIND, KIND_LABELS, first, end, pfirst, plast),
        _by_dimension(user, root, Dimension.CHANNEL, CHANNEL_LABELS, first, end, pfirst, plast),
        _hot_spots(user, root, first, end),
        _open_now(user, root),
    ]
    return r


def quarterly(user: Any, root: Region, year: int, quarter: int) -> Report:
    """季考评 of towns: assessment points (cases' 季度考评) beside the quarter's figures and index."""
    first, last = quarter_of(year, quarter)
    end = _clip(last, timezone.localdate())
    period = metrics.Period.from_dates(first, last)
    r = Report("quarterly", f"{root.name}乡镇（街道）季度考评", root, f"{year}年第{quarter}季度", first, last)
    standings = {s.subject.pk: s for s in town_ranking(user, period)}
    flow, closed = _gated(user, root)
    index = {
        s.region_id: s.value
        for s in restrict(
            SafetyIndex.objects.filter(
                period_kind=PeriodKind.QUARTER, period_start=first, region__kind=RegionKind.TOWN
            ),
            user,
        )
    }
    towns = [a for a in sel.screen_areas(user, root) if a.kind == RegionKind.TOWN]
    rows = []
    for town in towns:
        f = sel.flow_figures(flow.filter(area=town), first, end, dimension=Dimension.ALL)
        c = sel.closed_figures(closed.filter(area=town), first, end, dimension=Dimension.ALL)
        s = standings.get(town.pk)
        rows.append(
            {
                "town": town,
                "score": s.score if s else 0,
                "events": s.events if s else 0,
                "index": index.get(town.pk),
                "f": f,
                "c": c,
            }
        )
    rows.sort(key=lambda x: (-x["score"], x["index"] is None, -(x["index"] or 0), x["town"].path))
    table = Table(
        "乡镇季度考评",
        [
            "名次",
            "乡镇（街道）",
            "考评得分",
            "记分事件",
            "平安指数",
            "受理",
            "化解率",
            "红色预警",
            "上交率",
            "按期办结率",
            "满意率",
        ],
        note="名次按考评得分（督办记分，见“季度考评”）排列，得分相同按平安指数。",
    )
    rank, previous = 0, None
    for i, x in enumerate(rows, start=1):
        if x["score"] != previous:
            rank, previous = i, x["score"]
        table.rows.append(
            [
                rank,
                x["town"].name,
                f"{x['score']:.1f}",
                x["events"],
                num(float(x["index"])) if x["index"] is not None else "—",
                x["f"]["received"],
                pct(x["f"]["resolution_rate"]),
                x["f"]["red"],
                pct(x["f"]["escalation_rate"]),
                pct(x["c"]["on_time_close_rate"]),
                pct(x["c"]["satisfaction_rate"]),
            ]
        )
    r.tables = [table]
    total = period_summary(user, root, first, end)
    r.summary = _summary_lines(total, None, "")
    return r


def daily(user: Any, root: Region, day: dt.date) -> Report:
    """日调度: every open matter that is red or due by the end of `day`, by owner; today's flow."""
    first = last = day
    r = Report("daily", f"{root.name}日调度清单", root, day.isoformat(), first, last)
    end = metrics.Period.from_dates(day, day).hi
    qs = (
        _cases(user, root)
        .filter(metrics.open_q())
        .filter(Q(warning_level=WarningLevel.RED) | Q(status__in=list(_clock_states()), due_at__lt=end))
        .select_related("owning_center", "owning_unit", "town")
        .order_by("owning_unit__name", "owning_center__name", "due_at", "pk")
    )
    total = qs.count()
    flow, closed = _gated(user, root)
    f = sel.flow_figures(flow, day, day, dimension=Dimension.ALL)
    c = sel.closed_figures(closed, day, day, dimension=Dimension.ALL)
    owners = (
        qs.order_by()
        .values("owning_unit__name", "owning_center__name")
        .annotate(n=metrics.count_if(), red=metrics.count_if(Q(warning_level=WarningLevel.RED)))
        .order_by("-n", "owning_center__name")
    )
    r.summary = [
        ("当日受理", f["received"]),
        ("当日办结", c["closed"]),
        ("需调度事项", total),
        ("其中红色预警", sum(o["red"] for o in owners)),
    ]
    by_owner = Table("按责任单位汇总", ["责任单位", "需调度", "其中红色"])
    for o in owners:
        by_owner.rows.append([o["owning_unit__name"] or o["owning_center__name"], o["n"], o["red"]])
    rows = Table(
        "调度清单（红色预警或当日到期，按责任单位）",
        ["责任单位", "受理编号", "事项摘要", "所属乡镇", "状态", "预警", "本环节期限", "预警原因"],
    )
    for case in qs[:DISPATCH_PAGE_ROWS]:
        rows.rows.append(dispatch_row(case))
    if total > DISPATCH_PAGE_ROWS:
        rows.note = f"页面显示前 {DISPATCH_PAGE_ROWS:,} 件，共 {total:,} 件；请下载 Excel 查看全部。"
    r.tables = [by_owner, rows]
    r.extra = {"dispatch_qs": qs, "total": total}
    return r


def _clock_states():
    from cases.models import CLOCK_STATES

    return CLOCK_STATES


def dispatch_row(case: Case) -> list[Any]:
    return [
        case.owning_unit.name if case.owning_unit_id else case.owning_center.name,
        case.tracking_no,
        case.title,
        case.town.name if case.town_id else "县直",
        STATUS_LABELS.get(case.status, case.status),
        COLOUR_LABELS.get(case.warning_level, case.warning_level),
        fmt(case.due_at) if case.due_at else "",
        "；".join(case.warning_reasons or []),
    ]
