from django.db import migrations


def forwards(apps, schema_editor):
    from cases.defaults import seed_rules

    seed_rules(apps.get_model("cases", "ClockRule"))
    apps.get_model("cases", "WarningPolicy").objects.get_or_create(pk=1)
    _seed_calendar(apps)


def _seed_calendar(apps):
    """Holidays and 调休 from chinese-calendar for the years it knows."""
    import chinese_calendar

    from cases.clocks import _holiday_name

    WorkDay = apps.get_model("cases", "WorkDay")
    CalendarYear = apps.get_model("cases", "CalendarYear")
    rows = {}
    for day, name in chinese_calendar.holidays.items():
        if day.weekday() < 5:
            rows[day] = WorkDay(date=day, is_workday=False, name=_holiday_name(name), source="package")
    for day, name in chinese_calendar.workdays.items():
        if day.weekday() >= 5:
            rows[day] = WorkDay(date=day, is_workday=True, name=f"{_holiday_name(name)}调休上班", source="package")
    WorkDay.objects.bulk_create(rows.values(), ignore_conflicts=True)
    for year in {d.year for d in chinese_calendar.holidays}:
        CalendarYear.objects.get_or_create(year=year, defaults={"source": "package"})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
