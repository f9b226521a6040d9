"""Thin Celery tasks of grid work: they call a service, are idempotent, and retry on transient errors.

Scheduled in the one beat schedule (zongzhi/settings/base.py).
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def create_periodic_sweeps() -> int:
    """县一月一排查、乡镇半月一排查: the sweeps of the period containing today (daily; a period that
    has its sweep is skipped, so a missed day catches up and a second run creates nothing)."""
    from .services import sweeps_create_periodic

    return len(sweeps_create_periodic(today=timezone.localdate()))


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def daily_warnings() -> dict:
    """Each morning: towns hear of their grids without a visit; teams of sweep reports due (deduplicated)."""
    from .services import idle_grids_warn, sweep_reminders

    now = timezone.now()
    return {
        "towns_warned": idle_grids_warn(now=now),
        "sweep_reminders": sweep_reminders(today=timezone.localdate(now)),
    }
