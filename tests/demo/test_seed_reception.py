"""seed_demo's county hall: windows on duty today, visits of every route, the queue, a leader
reception day with a booking and a reminder-bearing appointment, all through the hall's services."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.models import CaseKind
from reception.models import (
    Appointment,
    Duty,
    LeaderBooking,
    LeaderSlot,
    Route,
    Ticket,
    TicketStatus,
    Visit,
    Window,
)
from reception.selectors import hall_overview

pytestmark = pytest.mark.django_db


def seed() -> None:
    call_command("seed_demo", "--towns", "1", "--quiet-logins", stdout=StringIO())


def test_the_demo_hall_is_open_with_a_queue_visits_a_leader_day_and_appointments() -> None:
    seed()
    windows = list(Window.objects.order_by("number"))
    assert [w.number for w in windows] == [1, 2, 3, 4]
    center = windows[0].center
    assert center.region.kind == "county"
    # Every window has a clerk on duty today.
    on_duty = set(Duty.objects.filter(date=timezone.localdate()).values_list("window_id", flat=True))
    assert on_duty == {w.pk for w in windows}
    # One visit per route the hall offers, each opening a case of the matching kind.
    routes = set(Visit.objects.values_list("route", flat=True))
    assert routes >= {Route.PETITION, Route.MEDIATION, Route.ON_THE_SPOT, Route.CONSULTATION, Route.LEGAL_AID,
                      Route.LAW_LITIGATION, Route.COUNSELLING}
    kinds = set(Visit.objects.values_list("cases__kind", flat=True))
    assert {CaseKind.PETITION, CaseKind.DISPUTE, CaseKind.ON_THE_SPOT, CaseKind.COUNSELLING} <= kinds
    group = Visit.objects.get(people_count__gte=5)
    assert group.is_group and group.cases.get().warning_level == "red"
    # The queue: one number being served, the others waiting.
    assert Ticket.objects.filter(status=TicketStatus.CALLED).count() == 1
    assert Ticket.objects.filter(status=TicketStatus.WAITING).count() == 3
    overview = hall_overview(center)
    assert overview["totals"]["taken"] == 4 and overview["totals"]["waiting"] == 3
    # The leader reception day: the group is booked; it and the mediation session have reminders.
    slot = LeaderSlot.objects.get()
    booking = LeaderBooking.objects.get()
    assert booking.slot == slot and booking.case == group.cases.get()
    assert Appointment.objects.filter(purpose="leader").exists()
    assert Appointment.objects.filter(purpose="mediation", at__gt=timezone.now()).exists()


def test_seeding_the_hall_twice_creates_nothing() -> None:
    seed()
    counts = (Window.objects.count(), Visit.objects.count(), Ticket.objects.count(), LeaderSlot.objects.count(),
              Appointment.objects.count())
    seed()
    assert (Window.objects.count(), Visit.objects.count(), Ticket.objects.count(), LeaderSlot.objects.count(),
            Appointment.objects.count()) == counts
