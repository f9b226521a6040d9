"""Patrol sweeps (排查): the periodic task, the per-grid completion report, reminders and the no-visit warning."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings

from cases.models import Notification
from grids import services, tasks
from grids.models import HazardType, Rhythm, Severity, Sweep, SweepTask, TeamRole
from tests.factories import staff

from .conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def gw2(gw):
    """`gw` plus grid B's worker (周北), so both towns have a team."""
    from centers.models import Role

    gw.grid_worker_b = staff("grid_worker_b", Role.GRID_WORKER, center=gw.village_b_center, full_name="周北")
    services.grid_team_member_add(
        grid=gw.grid_b, by=gw.town_b_dispatcher, role=TeamRole.GRID_WORKER, user=gw.grid_worker_b
    )
    return gw


def test_beat_runs_the_sweep_and_warning_tasks_from_the_one_schedule():
    from zongzhi.celery import app

    by_task = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "grids.tasks.create_periodic_sweeps" in by_task and "grids.tasks.daily_warnings" in by_task
    app.loader.import_default_modules()
    assert {"grids.tasks.create_periodic_sweeps", "grids.tasks.daily_warnings"} <= set(app.tasks)


def test_county_monthly_and_town_half_monthly_sweeps_are_created_once_per_period(gw2):
    with time_machine.travel(at(2026, 11, 16, 0, 15), tick=False):
        assert tasks.create_periodic_sweeps() == 3
        assert tasks.create_periodic_sweeps() == 0  # the same period again: nothing new
    county = Sweep.objects.get(rhythm=Rhythm.MONTHLY)
    assert county.region == gw2.county and county.created_by is None
    assert (county.period_start, county.due_on) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert county.title == "凤岭县2026年11月矛盾纠纷和安全隐患排查"
    assert set(county.tasks.values_list("grid_id", flat=True)) == {gw2.grid_a.pk, gw2.grid_b.pk}
    towns = Sweep.objects.filter(rhythm=Rhythm.HALF_MONTHLY).order_by("region__path")
    assert [(s.region, s.period_start, s.due_on) for s in towns] == [
        (gw2.town_a, dt.date(2026, 11, 16), dt.date(2026, 11, 30)),
        (gw2.town_b, dt.date(2026, 11, 16), dt.date(2026, 11, 30)),
    ]
    assert towns[0].title == "城关街道2026年11月下半月排查"
    assert list(towns[0].tasks.values_list("grid_id", flat=True)) == [gw2.grid_a.pk]
    # Each grid worker hears of the county's sweep and of their own town's, not the other town's.
    titles_a = set(
        Notification.objects.filter(user=gw2.grid_worker_a, kind="sweep").values_list("title", flat=True)
    )
    assert titles_a == {f"新的排查任务：{county.title}", f"新的排查任务：{towns[0].title}"}
    # The first half of December gets its own town sweeps; the county's month is new too.
    with time_machine.travel(at(2026, 12, 1, 0, 15), tick=False):
        assert tasks.create_periodic_sweeps() == 3
    assert Sweep.objects.filter(period_start=dt.date(2026, 12, 1), rhythm=Rhythm.HALF_MONTHLY).count() == 2


def test_completion_report_per_grid_links_what_the_grid_reported(gw2, client_for):
    with time_machine.travel(at(2026, 11, 16, 0, 15), tick=False):
        tasks.create_periodic_sweeps()
    county = Sweep.objects.get(rhythm=Rhythm.MONTHLY)
    task_a = county.tasks.get(grid=gw2.grid_a)
    with time_machine.travel(
        at(2026, 11, 10, 9, 0), tick=False
    ):  # before the town sweep, inside the county's
        dispute = services.dispute_report(
            by=gw2.grid_worker_a, grid=gw2.grid_a, category="neighbour", title="排水纠纷"
        )
    with time_machine.travel(at(2026, 11, 17, 9, 0), tick=False):
        hazard = services.hazard_report(
            by=gw2.grid_worker_a,
            grid=gw2.grid_a,
            hazard_type=HazardType.FIRE,
            severity=Severity.GENERAL,
            place="3栋",
        )
        services.dispute_report(by=gw2.grid_worker_b, grid=gw2.grid_b, category="land", title="宅基地纠纷")
    worker = client_for(gw2.grid_worker_a)
    with time_machine.travel(at(2026, 11, 18, 9, 0), tick=False):
        # The worker sees the task on today's page, and the form offers what the grid reported.
        today = worker.get("/grids/").content.decode()
        assert county.title in today and f"/grids/sweeps/tasks/{task_a.pk}/" in today
        body = worker.get(f"/grids/sweeps/tasks/{task_a.pk}/").content.decode()
        assert dispute.tracking_no in body and hazard.case.tracking_no in body and "宅基地纠纷" not in body
        r = worker.post(f"/grids/sweeps/tasks/{task_a.pk}/", {"households_checked": "", "summary": ""})
        assert r.status_code == 400
        r = worker.post(
            f"/grids/sweeps/tasks/{task_a.pk}/",
            {
                "households_checked": "120",
                "other_findings": "1",
                "summary": "走访120户，发现纠纷1起、隐患1处，当场劝离占道摊贩1处",
                "cases": [str(dispute.pk), str(hazard.case.pk)],
            },
        )
        assert r.status_code == 302
    task_a.refresh_from_db()
    assert task_a.completed_by == gw2.grid_worker_a and task_a.completed_at == at(2026, 11, 18, 9, 0)
    assert task_a.households_checked == 120 and task_a.findings_count == 3
    assert set(task_a.cases.values_list("pk", flat=True)) == {dispute.pk, hazard.case.pk}
    # The county's report: 1 of 2 grids done (50%), findings and households summed.
    county_page = client_for(gw2.county_dispatcher).get(f"/grids/sweeps/{county.pk}/").content.decode()
    assert "50.0%" in county_page and "走访120户" in county_page and "未填报" in county_page
    assert ">120<" in county_page and ">3<" in county_page
    # Town B sees the county's sweep, but only its own grid's row; it cannot open grid A's task.
    outsider = client_for(gw2.outsider)
    body = outsider.get(f"/grids/sweeps/{county.pk}/").content.decode()
    assert "走访120户" not in body and "未填报" in body
    assert outsider.get(f"/grids/sweeps/tasks/{task_a.pk}/").status_code == 404
    r = outsider.post(f"/grids/sweeps/tasks/{task_a.pk}/", {"households_checked": "1", "summary": "x"})
    assert r.status_code == 404
    # A case from another grid cannot be linked.
    with pytest.raises(services.DomainError, match="只能关联本网格"):
        services.sweep_task_complete(
            task=task_a,
            by=gw2.grid_worker_a,
            households_checked=1,
            summary="x",
            case_ids=[services.Case.objects.get(title="宅基地纠纷").pk],
        )


def test_only_managers_start_a_sweep_and_its_scope_is_checked(gw2, client_for):
    r = client_for(gw2.grid_worker_a).get("/grids/sweeps/new/")
    assert r.status_code == 403
    c = client_for(gw2.town_a_dispatcher)
    body = c.get("/grids/sweeps/new/").content.decode()
    assert "城关街道" in body and "白沙镇" not in body
    r = c.post(
        "/grids/sweeps/new/",
        {"region": gw2.town_b.pk, "rhythm": "special", "period_start": "2026-11-20", "due_on": "2026-11-25"},
    )
    assert r.status_code == 400 and not Sweep.objects.exists()
    r = c.post(
        "/grids/sweeps/new/",
        {"region": gw2.town_a.pk, "rhythm": "monthly", "period_start": "2026-11-20", "due_on": "2026-11-25"},
    )
    assert r.status_code == 400 and "须为县" in r.content.decode()
    r = c.post(
        "/grids/sweeps/new/",
        {"region": gw2.town_a.pk, "rhythm": "special", "period_start": "2026-11-20", "due_on": "2026-11-19"},
    )
    assert r.status_code == 400 and "完成时限不能早于开始日期" in r.content.decode()
    r = c.post(
        "/grids/sweeps/new/",
        {
            "region": gw2.town_a.pk,
            "rhythm": "special",
            "title": "燃气安全专项排查",
            "focus": "餐饮店燃气瓶",
            "period_start": "2026-11-20",
            "due_on": "2026-11-25",
        },
    )
    sweep = Sweep.objects.get()
    assert r.status_code == 302 and sweep.created_by == gw2.town_a_dispatcher
    assert list(sweep.tasks.values_list("grid_id", flat=True)) == [gw2.grid_a.pk]


def test_sweep_reports_due_are_reminded_once(gw2):
    with time_machine.travel(at(2026, 11, 16, 0, 15), tick=False):
        tasks.create_periodic_sweeps()
    town_a = Sweep.objects.get(region=gw2.town_a)
    SweepTask.objects.filter(sweep__region=gw2.town_b).update(completed_at=at(2026, 11, 28, 9, 0))
    with time_machine.travel(at(2026, 11, 28, 8, 0), tick=False):
        tasks.daily_warnings()
    assert not Notification.objects.filter(kind="sweep_due").exists()  # due on the 30th: not yet
    with time_machine.travel(at(2026, 11, 29, 8, 0), tick=False):
        tasks.daily_warnings()
        tasks.daily_warnings()
    reminders = Notification.objects.filter(kind="sweep_due")
    # Grid A's worker: the county's and the town's task. Grid B's town task is filed; the county's is not.
    assert sorted(reminders.values_list("user__username", flat=True)) == [
        "grid_worker_b",
        "village_a_worker",
        "village_a_worker",
    ]
    task_url = f"/grids/sweeps/tasks/{town_a.tasks.get().pk}/"
    assert reminders.filter(user=gw2.grid_worker_a, url=task_url).count() == 1


def test_town_is_warned_of_grids_without_a_visit_once_a_day(gw2):
    with time_machine.travel(at(2026, 11, 20, 10, 0), tick=False):
        services.visit_log(by=gw2.grid_worker_a, grid=gw2.grid_a, household="李大爷", address="5栋")
    with time_machine.travel(at(2026, 11, 26, 8, 0), tick=False):
        assert services.idle_grids_warn(now=at(2026, 11, 26, 8, 0), days=7) == 1  # only town B
        services.idle_grids_warn(now=at(2026, 11, 26, 8, 0), days=7)
    notes = Notification.objects.filter(kind="idle_grids")
    assert list(notes.values_list("user__username", flat=True)) == ["town_b_dispatcher"]
    note = notes.get()
    assert note.title == "1 个网格超过 7 天未入户走访" and "石桥村第1网格" in note.body
    assert note.url == f"/grids/figures/?region={gw2.town_b.pk}&idle_days=7"
    # Eight days after the visit grid A is idle too: town A is warned the next morning.
    with time_machine.travel(at(2026, 11, 28, 8, 0), tick=False):
        assert services.idle_grids_warn(now=at(2026, 11, 28, 8, 0), days=7) == 2
    assert Notification.objects.filter(kind="idle_grids", user=gw2.town_a_dispatcher).count() == 1
    assert Notification.objects.filter(kind="idle_grids", user=gw2.town_b_dispatcher).count() == 2
