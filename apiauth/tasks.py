from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import IdempotencyRecord


@shared_task(ignore_result=True)
def purge_idempotency() -> int:
    """Forget stored answers older than IDEMPOTENCY_TTL_HOURS (idempotent: a rerun deletes nothing more)."""
    cutoff = timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
