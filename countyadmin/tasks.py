"""Thin Celery tasks of county administration."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def orphans_check() -> dict:
    """Daily (beat): tell administrators about open matters nobody answers for; once a day per center."""
    from .services import orphans_notify

    return orphans_notify()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def import_run(batch_id: int, user_id: int) -> str:
    """A big sheet imported in the background; safe to deliver twice (the batch is claimed first)."""
    from centers.models import User
    from centers.services import DomainError

    from .importer import staff_import_run
    from .models import StaffImport

    batch = StaffImport.objects.get(pk=batch_id)
    try:
        return staff_import_run(batch=batch, by=User.objects.get(pk=user_id)).message
    except DomainError as exc:
        return str(exc)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def recompute_clocks(*, spec: dict, by_id: int | None, reason: str, log_id: int | None = None) -> dict:
    """A settings change that affects many open cases: recompute them (idempotent: a second run
    finds nothing left to change)."""
    from centers.models import User

    from .county_settings import recompute_now

    by = User.objects.filter(pk=by_id).first() if by_id else None
    return recompute_now(spec=spec, by=by, reason=reason, log_id=log_id)
