"""Thin Celery tasks: they take ids, call a service, are idempotent, and retry on transient errors."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError, transaction
from django.utils import timezone

from .models import Notification


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def sweep() -> dict:
    """Beat runs this every SWEEP_INTERVAL_SECONDS; safe to run twice or at once (see services.sweep)."""
    from django.conf import settings

    from .services import sweep as run_sweep

    run = run_sweep(batch_size=settings.SWEEP_BATCH_SIZE)
    return {"escalated": run.escalated, "yellow": run.turned_yellow, "red": run.turned_red}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def send_notifications(limit: int = 500) -> int:
    """Send every unsent SMS notification once: each row is claimed by a guarded update first."""
    from .senders import get_sender

    sender = get_sender()
    sent = 0
    pending = list(
        Notification.objects.filter(sms=True, sent_at__isnull=True).order_by("created_at").values_list("pk", flat=True)[:limit]
    )
    for pk in pending:
        with transaction.atomic():
            claimed = Notification.objects.filter(pk=pk, sent_at__isnull=True).update(sent_at=timezone.now())
            if not claimed:
                continue  # another worker sent it
            n = Notification.objects.select_related("user").get(pk=pk)
            sender.send(user=n.user, title=n.title, body=n.body)
            sent += 1
    return sent


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def export_cases(*, user_id: int, filters: dict, description: str, token: str) -> int:
    """A large case-list export (see services.case_export_start); idempotent by its token."""
    import datetime as dt

    from centers.models import User

    from .selectors import CaseFilters
    from .services import case_export_run

    user = User.objects.get(pk=user_id)
    values = dict(filters)
    for key in ("created_from", "created_to"):
        if values.get(key):
            values[key] = dt.date.fromisoformat(values[key])
    return case_export_run(user=user, filters=CaseFilters(**values), description=description, token=token)
