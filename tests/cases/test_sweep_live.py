"""The sweep in real processes: a real worker and beat, and two sweeps at once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from cases import services
from cases.models import Case, ClockRule, LimitUnit, Notification, OverdueEvent, TimelineEntry, WarningLevel
from tests.livecelery import live_celery, wait_for  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.mark.live_celery
def test_village_case_escalates_to_town_and_turns_red_with_real_worker_and_beat(cw, make_case, live_celery):  # noqa: F811
    ClockRule.objects.filter(kind="", status="registered").update(limit=1, unit=LimitUnit.MINUTES)
    # Registered 55 s ago with a one-minute limit: due in about 5 s.
    case = make_case(now=timezone.now() - dt.timedelta(seconds=55))
    assert case.owning_center == cw.c_village_a and case.warning_level == WarningLevel.GREEN
    live_celery.start("worker")
    live_celery.start("beat")
    try:
        wait_for(
            lambda: Case.objects.filter(pk=case.pk, owning_center=cw.c_town_a).exists(),
            timeout=90,
            what="escalation by the beat-driven sweep",
        )
    except AssertionError:
        print(live_celery.log("worker")[-4000:], live_celery.log("beat")[-2000:])
        raise
    case.refresh_from_db()
    assert case.level == "town" and case.warning_level == WarningLevel.RED
    assert case.timeline.filter(action="overdue").count() == 1
    assert Notification.objects.filter(user=cw.town_a_dispatcher, case=case, kind="escalated").count() == 1
    # The SMS went out through the sender exactly once (the notification row is marked sent).
    wait_for(
        lambda: Notification.objects.filter(case=case, kind="escalated", sent_at__isnull=False).exists(),
        timeout=30,
        what="the notification to be sent",
    )


def _run_concurrently(fn, n: int = 2):
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def target():
        try:
            barrier.wait()
            fn()
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the test
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=target) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise errors[0]


def test_two_sweeps_at_once_escalate_each_case_once_and_notify_once(cw, make_case):
    past = timezone.now() - dt.timedelta(days=10)
    cases = [make_case(now=past, title=f"排水纠纷 {i}") for i in range(30)]
    _run_concurrently(lambda: services.sweep(batch_size=7), n=2)
    for case in cases:
        case.refresh_from_db()
        assert case.owning_center == cw.c_town_a
        assert OverdueEvent.objects.filter(case=case).count() == 1
        assert TimelineEntry.objects.filter(case=case, action="overdue").count() == 1
        assert (
            Notification.objects.filter(case=case, kind="escalated", user=cw.town_a_dispatcher).count() == 1
        )


def test_concurrent_registrations_never_share_a_tracking_number(cw, make_case):
    def register_some():
        for i in range(10):
            make_case(title=f"并发登记 {i}")

    _run_concurrently(register_some, n=4)
    numbers = list(Case.objects.values_list("tracking_no", flat=True))
    assert len(numbers) == 40 and len(set(numbers)) == 40
