"""Thin Celery tasks: ids in, a service call, idempotent."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def sweep_summons() -> int:
    """Beat runs this with the case sweep; chases summoned units past their due time (once each)."""
    from .services import summons_sweep

    return summons_sweep()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def send_appointment_reminders() -> int:
    """Beat runs this with the sweep: SMS reminders of appointments that are due, once each."""
    from .services import appointment_reminders_sweep

    return appointment_reminders_sweep()
