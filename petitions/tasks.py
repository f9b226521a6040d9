"""Thin Celery tasks: they take ids and call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task
def import_run(batch_id: int, user_id: int) -> dict:
    """Import a previewed file in the background (big files); safe to run twice (record numbers)."""
    from centers.models import User

    from .models import ImportBatch
    from .services import DomainError
    from .services import import_run as run

    batch = ImportBatch.objects.get(pk=batch_id)
    try:
        batch = run(batch=batch, by=User.objects.get(pk=user_id))
    except DomainError as exc:  # already running or done: nothing to do
        return {"skipped": str(exc)}
    return {"imported": batch.imported_rows, "fused": batch.fused_rows}
