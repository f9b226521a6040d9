"""/healthz: 200 when the database, the broker and beat's sweep are fine; 503 with the reasons if not."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from cases.models import SweepRun
from zongzhi.celery import app as celery_app

pytestmark = pytest.mark.django_db


def sweep_ran(ago: timedelta) -> None:
    at = timezone.now() - ago
    SweepRun.objects.create(started_at=at, finished_at=at)


def get() -> tuple[int, dict]:
    # No login: load balancers and docker-compose call it anonymously.
    response = Client().get("/healthz")
    return response.status_code, response.json()


def test_all_well_answers_200_with_each_check(settings) -> None:
    settings.SWEEP_INTERVAL_SECONDS = 60
    sweep_ran(timedelta(seconds=30))
    status, body = get()
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"] and body["beat"]["ok"]
    assert body["broker"]["detail"] == "redis"
    assert body["beat"]["last_sweep"] is not None


def test_a_sweep_that_never_ran_answers_503() -> None:
    status, body = get()
    assert status == 503
    assert body["status"] == "fail"
    assert body["beat"] == {"ok": False, "detail": "尚未运行", "last_sweep": None}
    assert body["database"]["ok"] and body["broker"]["ok"]


def test_a_stale_sweep_answers_503(settings) -> None:
    settings.SWEEP_INTERVAL_SECONDS = 60  # allowed age: max(3 periods, 3 minutes)
    sweep_ran(timedelta(minutes=10))
    status, body = get()
    assert status == 503
    assert body["beat"]["ok"] is False
    # The age is read a moment after the row was written: 600 s, or 601 on a loaded machine.
    assert body["beat"]["detail"] in ("600 秒前", "601 秒前", "602 秒前")


def test_only_the_latest_sweep_counts(settings) -> None:
    settings.SWEEP_INTERVAL_SECONDS = 60
    sweep_ran(timedelta(hours=2))
    sweep_ran(timedelta(seconds=5))
    assert get()[0] == 200


def test_an_unreachable_broker_answers_503(monkeypatch) -> None:
    sweep_ran(timedelta(seconds=1))
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    status, body = get()
    assert status == 503
    assert body["broker"]["ok"] is False
    assert body["broker"]["detail"]
    assert body["database"]["ok"] and body["beat"]["ok"]


def test_an_unreachable_database_answers_503_without_asking_for_beat() -> None:
    broken = mock.MagicMock()
    broken.cursor.side_effect = OperationalError("connection refused")
    with mock.patch("zongzhi.health.connection", broken):
        status, body = get()
    assert status == 503
    assert body["database"] == {"ok": False, "detail": "connection refused"}
    assert body["beat"]["ok"] is False
    assert body["beat"]["detail"] == "数据库不可用"


def test_a_failing_sweep_query_is_reported_not_raised() -> None:
    with mock.patch(
        "cases.selectors.last_sweep_at", side_effect=OperationalError("no such table: cases_sweeprun")
    ):
        status, body = get()
    assert status == 503
    assert body["beat"]["ok"] is False
    assert "no such table" in body["beat"]["detail"]


def test_the_container_health_command_exits_by_the_named_checks(settings) -> None:
    """`python -m zongzhi.health beat` is what docker-compose runs for beat (in-process here)."""
    from zongzhi.health import main

    settings.SWEEP_INTERVAL_SECONDS = 60
    assert main(["database", "broker"]) == 0
    assert main(["beat"]) == 1  # no sweep yet
    sweep_ran(timedelta(seconds=2))
    assert main(["beat"]) == 0
    assert main(["nonsense"]) == 2
