"""The queue: numbers, calling order, waiting times, and no number called twice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from centers.models import DepartmentKind
from centers.services import DomainError
from reception.models import Ticket, TicketStatus, Window
from reception.selectors import hall_overview
from reception.services import duty_set, ticket_call_next, ticket_finish, ticket_no_show, ticket_take


@pytest.mark.django_db
def test_numbers_count_up_per_queue_letter(hall):
    a1 = ticket_take(by=hall.clerk, center=hall.center)
    a2 = ticket_take(by=hall.clerk, center=hall.center)
    f1 = ticket_take(by=hall.clerk, center=hall.center, department=DepartmentKind.PETITION)
    g1 = ticket_take(by=hall.clerk, center=hall.center, window=hall.w2, people_count=3)
    assert [a1.number, a2.number, f1.number, g1.number] == ["A001", "A002", "F001", "G001"]
    assert g1.department == DepartmentKind.HRSS and g1.people_count == 3


@pytest.mark.django_db
def test_a_window_calls_its_own_its_departments_and_general_numbers_in_taking_order(hall):
    t0 = timezone.now()
    general = ticket_take(by=hall.clerk, center=hall.center, now=t0)
    hrss = ticket_take(
        by=hall.clerk, center=hall.center, department=DepartmentKind.HRSS, now=t0 + dt.timedelta(seconds=1)
    )
    petition = ticket_take(
        by=hall.clerk, center=hall.center, window=hall.w1, now=t0 + dt.timedelta(seconds=2)
    )
    first = ticket_call_next(by=hall.clerk, window=hall.w1, now=t0 + dt.timedelta(minutes=5))
    assert first == general and first.called_by == hall.clerk and first.called_window == hall.w1
    assert first.wait_seconds == 300
    second = ticket_call_next(by=hall.clerk, window=hall.w1, now=t0 + dt.timedelta(minutes=9))
    assert second == petition  # the HRSS number is not window 1's
    assert Ticket.objects.get(pk=general.pk).status == TicketStatus.DONE  # finished when the next was called
    assert ticket_call_next(by=hall.clerk, window=hall.w1) is None
    assert ticket_call_next(by=hall.clerk2, window=hall.w2) == hrss


@pytest.mark.django_db
def test_only_the_clerk_on_duty_or_the_supervisor_may_call(hall):
    ticket_take(by=hall.clerk, center=hall.center)
    with pytest.raises(DomainError, match="值班"):
        ticket_call_next(by=hall.clerk2, window=hall.w1)
    assert ticket_call_next(by=hall.supervisor, window=hall.w1) is not None


@pytest.mark.django_db
def test_no_show_and_finish_need_a_called_number(hall):
    t = ticket_take(by=hall.clerk, center=hall.center)
    with pytest.raises(DomainError, match="不在办理中"):
        ticket_finish(by=hall.clerk, ticket=t)
    called = ticket_call_next(by=hall.clerk, window=hall.w1)
    assert ticket_no_show(by=hall.clerk, ticket=called).status == TicketStatus.NO_SHOW
    with pytest.raises(DomainError):
        ticket_no_show(by=hall.clerk, ticket=called)


@pytest.mark.django_db
def test_hall_overview_counts_queues_and_waits_in_the_database(hall, django_assert_max_num_queries):
    # A fixed hour of today's service day: "today" must not cross midnight (CI runs at any hour).
    t_now = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(11, 0)))
    t0 = t_now - dt.timedelta(minutes=30)
    for i in range(3):
        ticket_take(
            by=hall.clerk,
            center=hall.center,
            department=DepartmentKind.PETITION,
            now=t0 + dt.timedelta(minutes=i),
        )
    ticket_take(by=hall.clerk, center=hall.center, window=hall.w2, now=t0)
    ticket_call_next(by=hall.clerk, window=hall.w1, now=t0 + dt.timedelta(minutes=10))
    with django_assert_max_num_queries(10):
        data = hall_overview(hall.center, now=t_now)
    rows = {r.window.number: r for r in data["rows"]}
    assert rows[1].waiting == 2 and rows[1].called_today == 1 and rows[1].avg_wait_min == 10.0
    assert rows[1].serving == "F001" and [u.username for u in rows[1].clerks] == ["clerk"]
    assert rows[2].waiting == 1 and rows[2].oldest_wait_min >= 30
    assert data["totals"]["taken"] == 4 and data["totals"]["waiting"] == 3


@pytest.mark.django_db(transaction=True)
def test_two_clerks_calling_at_once_never_get_the_same_number(hall):
    """Four windows of one department call concurrently from 20 waiting numbers: each number once."""
    windows = [hall.w1]
    for n in (3, 4, 5):
        w = Window.objects.create(
            center=hall.center, number=n, name=f"信访窗口{n}", department=DepartmentKind.PETITION
        )
        duty_set(by=hall.supervisor, window=w, date=timezone.localdate(), users=[hall.clerk])
        windows.append(w)
    for _ in range(20):
        ticket_take(by=hall.clerk, center=hall.center, department=DepartmentKind.PETITION)
    called: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(windows))
    lock = threading.Lock()

    def work(window: Window) -> None:
        try:
            barrier.wait()
            while (t := ticket_call_next(by=hall.clerk, window=window)) is not None:
                with lock:
                    called.append((window.pk, t.number))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(w,)) for w in windows]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    numbers = [n for _, n in called]
    assert len(numbers) == 20 and len(set(numbers)) == 20
    assert Ticket.objects.filter(status=TicketStatus.WAITING).count() == 0
    # Each called number was claimed by exactly the window that reports it.
    for window_pk, number in called:
        assert Ticket.objects.get(number=number).called_window_id == window_pk
