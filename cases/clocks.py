"""Clocks: which rule applies, the working-day calendar, and how a due time is computed.

Rules of counting follow the regulation's habit (期间开始的日不计算在期间内): a limit in days or
working days starts the day after the step began and ends at 24:00 of its last day; a limit in
hours is exact. Yellow comes at `yellow_ratio` of (limit + approved extension).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from .models import CalendarYear, ClockRule, LimitUnit, WorkDay

LOCAL = ZoneInfo(settings.TIME_ZONE)


def local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value, LOCAL).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """24:00 of `day`, local time (= 00:00 of the next day)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL)


def fmt(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value, LOCAL)
    if local.time() == dt.time.min:
        return f"{(local.date() - dt.timedelta(days=1)).isoformat()} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


class WorkCalendar:
    """The calendar as data, asked many times: a year's override rows (a few dozen) are loaded
    the first time a date of that year is asked about, so a registration reads one year, not the
    whole calendar (hundreds of rows, every request)."""

    def __init__(self) -> None:
        self.overrides: dict[dt.date, WorkDay] = {}
        self._years: set[int] = set()
        self._known_years: set[int] | None = None

    def _load_year(self, year: int) -> None:
        self._years.add(year)
        for w in WorkDay.objects.filter(date__gte=dt.date(year, 1, 1), date__lt=dt.date(year + 1, 1, 1)):
            self.overrides[w.date] = w

    def override(self, day: dt.date) -> WorkDay | None:
        if day.year not in self._years:
            self._load_year(day.year)
        return self.overrides.get(day)

    @property
    def known_years(self) -> set[int]:
        if self._known_years is None:
            self._known_years = set(CalendarYear.objects.values_list("year", flat=True))
        return self._known_years

    def is_workday(self, day: dt.date) -> bool:
        w = self.override(day)
        if w is not None:
            return w.is_workday
        return day.weekday() < 5

    def unknown_years(self, start: dt.date, end: dt.date) -> list[int]:
        return [y for y in range(start.year, end.year + 1) if y not in self.known_years]

    def add_workdays(self, start: dt.date, n: int) -> tuple[dt.date, list[WorkDay]]:
        """The n-th working day after `start` and the non-working override days skipped on the way."""
        day = start
        counted = 0
        skipped: list[WorkDay] = []
        while counted < n:
            day += dt.timedelta(days=1)
            w = self.override(day)
            if w is None:
                if day.weekday() < 5:
                    counted += 1
            elif w.is_workday:
                counted += 1
            else:
                skipped.append(w)
        return day, skipped


@dataclass(frozen=True)
class Deadline:
    due_at: dt.datetime
    yellow_at: dt.datetime
    explanation: str


class RuleBook:
    """Active clock rules, loaded once; `match` picks the most specific one."""

    def __init__(self) -> None:
        self.rules = list(ClockRule.objects.filter(is_active=True))
        # A sweep or a bulk registration asks the same few questions thousands of times.
        self._matched: dict[tuple[str, str, str, str, str], ClockRule | None] = {}

    def match(self, *, kind: str, status: str, level: str, category: str, phase: str = "") -> ClockRule | None:
        key = (kind, status, level, category, phase)
        try:
            return self._matched[key]
        except KeyError:
            best = self._matched[key] = self._match(*key)
            return best

    def _match(self, kind: str, status: str, level: str, category: str, phase: str) -> ClockRule | None:
        best: ClockRule | None = None
        for r in self.rules:
            if r.status != status or (r.phase and r.phase != phase):
                continue
            if (r.kind and r.kind != kind) or (r.level and r.level != level) or (
                r.category and r.category != category
            ):
                continue
            if best is None or r.specificity > best.specificity:
                best = r
        return best


def compute_deadline(
    rule: ClockRule, start: dt.datetime, calendar: WorkCalendar, *, extension_hours: int = 0
) -> Deadline:
    start_local = timezone.localtime(start, LOCAL)
    notes: list[str] = []
    if rule.unit == LimitUnit.MINUTES:
        due = start + dt.timedelta(minutes=rule.limit)
        how = f"自 {fmt(start)} 起 {rule.limit} 分钟"
    elif rule.unit == LimitUnit.HOURS:
        due = start + dt.timedelta(hours=rule.limit)
        how = f"自 {fmt(start)} 起 {rule.limit} 小时"
    elif rule.unit == LimitUnit.DAYS:
        due = end_of_day(start_local.date() + dt.timedelta(days=rule.limit))
        how = f"自 {fmt(start)} 起算（起算当日不计）{rule.limit} 个自然日"
    else:
        last_day, skipped = calendar.add_workdays(start_local.date(), rule.limit)
        due = end_of_day(last_day)
        how = f"自 {fmt(start)} 起算（起算当日不计）{rule.limit} 个工作日"
        if skipped:
            names = sorted({w.name for w in skipped if w.name})
            notes.append(
                f"跳过节假日 {len(skipped)} 天（{'、'.join(names) if names else '休息日'}）"
            )
        unknown = calendar.unknown_years(start_local.date(), last_day)
        if unknown:
            years = "、".join(str(y) for y in unknown)
            notes.append(f"注意：{years} 年的法定节假日尚未录入，暂只按周末计算，请在工作日历中录入国务院放假通知")
    if extension_hours:
        due += dt.timedelta(hours=extension_hours)
        notes.append(f"已批准延期 {extension_hours // 24} 天" if extension_hours % 24 == 0 else f"已批准延期 {extension_hours} 小时")
    ratio = float(rule.yellow_ratio)
    yellow = start + (due - start) * ratio
    text = f"按规则「{rule}」：{how}，期限至 {fmt(due)}"
    if notes:
        text += "；" + "；".join(notes)
    text += f"。用时达 {int(ratio * 100)}%（{fmt(yellow)}）转黄色预警。"
    return Deadline(due_at=due, yellow_at=yellow, explanation=text)


def remaining_text(due_at: dt.datetime | None, now: dt.datetime | None = None) -> tuple[str, str]:
    """("还剩 2 天 3 小时", "ok") or ("已超期 5 小时", "overdue")."""
    if due_at is None:
        return "不计时", "none"
    now = now or timezone.now()
    delta = due_at - now
    overdue = delta.total_seconds() < 0
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        span = f"{days} 天 {hours} 小时"
    elif hours:
        span = f"{hours} 小时 {minutes} 分"
    else:
        span = f"{minutes} 分钟"
    if overdue:
        return f"已超期 {span}", "overdue"
    return f"还剩 {span}", "soon" if seconds < 86400 else "ok"


def seed_calendar_from_package() -> int:
    """Holidays and 调休 working weekends from chinese-calendar, for the years it knows.

    Dates the county entered itself are kept. Returns the number of rows written.
    """
    import chinese_calendar

    county_dates = set(WorkDay.objects.filter(source=WorkDay.Source.COUNTY).values_list("date", flat=True))
    rows: dict[dt.date, WorkDay] = {}
    for day, name in chinese_calendar.holidays.items():
        if day.weekday() < 5 and day not in county_dates:
            rows[day] = WorkDay(date=day, is_workday=False, name=_holiday_name(name), source=WorkDay.Source.PACKAGE)
    for day, name in chinese_calendar.workdays.items():
        if day.weekday() >= 5 and day not in county_dates:
            rows[day] = WorkDay(date=day, is_workday=True, name=f"{_holiday_name(name)}调休上班", source=WorkDay.Source.PACKAGE)
    WorkDay.objects.bulk_create(
        rows.values(), update_conflicts=True, unique_fields=["date"], update_fields=["is_workday", "name", "source"]
    )
    years = {d.year for d in chinese_calendar.holidays}
    # The package's last year may be partial only if it lacks the year's notice; it lists whole years.
    for y in years:
        CalendarYear.objects.update_or_create(year=y, defaults={"source": WorkDay.Source.PACKAGE})
    return len(rows)


_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _holiday_name(name: object) -> str:
    if name is None:
        return ""
    return _HOLIDAY_NAMES.get(str(name), str(name))
