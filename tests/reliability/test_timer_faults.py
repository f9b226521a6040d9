"""Faults in the timers (issue 10): a worker killed mid-sweep, Redis restarted under the worker and
beat, the same task delivered twice. Each ends with every due escalation done exactly once and no
notification lost or doubled.

They use a real worker and beat (tests/livecelery.py). The Redis test runs a private
`redis-server` on a free port and never touches the shared one.
"""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest
from django.db.models import Count
from django.utils import timezone

from cases.models import Case, Notification, OverdueEvent, TimelineEntry
from tests.livecelery import LiveCelery, live_celery, live_env, wait_for  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live_celery]


def _due_cases(cw, make_case, n: int) -> list[int]:
    past = timezone.now() - dt.timedelta(days=10)
    return [make_case(now=past, title=f"超期测试 {i}").pk for i in range(n)]


def _assert_each_escalated_once(cw, ids: list[int]) -> None:
    """One overdue event, one timeline row, now owned by the town, one inbox row per person."""
    assert Case.objects.filter(pk__in=ids, owning_center=cw.c_town_a).count() == len(ids)
    events = dict(
        OverdueEvent.objects.filter(case_id__in=ids).values("case_id").annotate(n=Count("pk")).values_list("case_id", "n")
    )
    assert events == {pk: 1 for pk in ids}
    rows = dict(
        TimelineEntry.objects.filter(case_id__in=ids, action="overdue")
        .values("case_id").annotate(n=Count("pk")).values_list("case_id", "n")
    )
    assert rows == {pk: 1 for pk in ids}
    per_case = dict(
        Notification.objects.filter(case_id__in=ids, kind="escalated", user=cw.town_a_dispatcher)
        .values("case_id").annotate(n=Count("pk")).values_list("case_id", "n")
    )
    assert per_case == {pk: 1 for pk in ids}  # none lost, none doubled


def _all_sent(ids: list[int]) -> bool:
    qs = Notification.objects.filter(case_id__in=ids, sms=True)
    return qs.exists() and not qs.filter(sent_at__isnull=True).exists()


def _show_logs(live: LiveCelery) -> None:
    print(live.log("worker")[-4000:], live.log("beat")[-2000:])


def test_a_worker_killed_in_the_middle_of_a_sweep_loses_nothing(cw, make_case, live_celery):  # noqa: F811
    ids = _due_cases(cw, make_case, 60)
    # Small sweep transactions so that a kill lands between two committed batches.
    live_celery.env["SWEEP_BATCH_SIZE"] = "3"
    live_celery.start("worker")
    live_celery.start("beat")
    try:
        # Kill the worker with SIGKILL as soon as part of the work is committed.
        wait_for(
            lambda: 0 < OverdueEvent.objects.filter(case_id__in=ids).count() < len(ids),
            timeout=90, interval=0.02, what="a sweep half done",
        )
        live_celery.kill("worker", signal.SIGKILL)
        done_at_kill = OverdueEvent.objects.filter(case_id__in=ids).count()
        assert 0 < done_at_kill < len(ids)
        time.sleep(2)  # beat keeps sending sweeps into the queue while no worker runs
        assert OverdueEvent.objects.filter(case_id__in=ids).count() == done_at_kill
        live_celery.start("worker")
        wait_for(
            lambda: OverdueEvent.objects.filter(case_id__in=ids).count() == len(ids),
            timeout=120, what="the restarted worker to catch up",
        )
        wait_for(lambda: _all_sent(ids), timeout=60, what="every SMS notification to be sent")
    except AssertionError:
        _show_logs(live_celery)
        raise
    _assert_each_escalated_once(cw, ids)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_server(port: int, tmp) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0,
             timeout=20, interval=0.1, what="private redis-server")
    return proc


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server on PATH")
def test_redis_restarted_under_the_worker_and_beat_loses_no_escalation(cw, make_case, tmp_path):
    port = _free_port()
    redis = _redis_server(port, tmp_path)
    live = LiveCelery(env=live_env(tmp_path, redis_url=f"redis://127.0.0.1:{port}/0"), tmp=tmp_path)
    try:
        live.start("worker")
        live.start("beat")
        first = _due_cases(cw, make_case, 5)
        wait_for(lambda: OverdueEvent.objects.filter(case_id__in=first).count() == 5, timeout=90,
                 what="escalation before the Redis restart")
        # Redis goes away (its queue with it: nothing saved) while matters fall due.
        redis.send_signal(signal.SIGKILL)
        redis.wait(timeout=10)
        second = _due_cases(cw, make_case, 5)
        time.sleep(3)
        assert not OverdueEvent.objects.filter(case_id__in=second).exists()
        redis = _redis_server(port, tmp_path)
        # Worker and beat reconnect by themselves; the next sweep catches up.
        wait_for(lambda: OverdueEvent.objects.filter(case_id__in=second).count() == 5, timeout=120,
                 what="catch-up after Redis came back")
        wait_for(lambda: _all_sent(first + second), timeout=60, what="every SMS notification to be sent")
    except AssertionError:
        _show_logs(live)
        raise
    finally:
        live.stop()
        if redis.poll() is None:
            redis.terminate()
            redis.wait(timeout=10)
    _assert_each_escalated_once(cw, first + second)


def test_the_same_tasks_delivered_twice_act_once(cw, make_case, live_celery):  # noqa: F811
    from cases import tasks

    ids = _due_cases(cw, make_case, 8)
    live_celery.start("worker")  # no beat: only the messages sent here run
    queue = live_celery.env["CELERY_QUEUE"]
    sweep_id, send_id = str(uuid.uuid4()), str(uuid.uuid4())
    for _ in range(2):  # at-least-once delivery: the very same message twice
        tasks.sweep.apply_async(queue=queue, task_id=sweep_id)
    try:
        wait_for(lambda: OverdueEvent.objects.filter(case_id__in=ids).count() == 8, timeout=90,
                 what="the duplicated sweep to run")
        # The sweep's own on_commit sends went to the default queue, not ours: send twice by hand.
        for _ in range(2):
            tasks.send_notifications.apply_async(queue=queue, task_id=send_id)
        wait_for(lambda: _all_sent(ids), timeout=60, what="the duplicated send to run")
        for task_id in (sweep_id, send_id):
            wait_for(lambda task_id=task_id: live_celery.log("worker").count(f"[{task_id}] succeeded") == 2,
                     timeout=60, what="both deliveries of each task to finish")
    except AssertionError:
        _show_logs(live_celery)
        raise
    _assert_each_escalated_once(cw, ids)
    sent_lines = [line for line in live_celery.log("worker").splitlines() if "SMS to" in line]
    # Every SMS went out exactly once, though its task ran twice (and the sweep queued sends too).
    assert len(sent_lines) == Notification.objects.filter(case_id__in=ids, sms=True).count()
