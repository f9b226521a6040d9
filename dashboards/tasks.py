"""Celery tasks of the dashboards (scheduled in zongzhi/settings/base.py CELERY_BEAT_SCHEDULE).

Thin and idempotent: each calls a service that takes its own lock, so a refresh delivered twice
or run by two workers at once does the work once.
"""

from __future__ import annotations

from celery import shared_task

from . import rollups


@shared_task(acks_late=True)
def refresh_rollups() -> dict:
    """Incremental refresh of every rollup (every ROLLUP_REFRESH_SECONDS)."""
    out = rollups.refresh_all()
    return {name: {"mode": r.mode, "changed": r.changed, "ms": r.ms} for name, r in out.items()}


@shared_task(acks_late=True)
def rebuild_rollups() -> dict:
    """Nightly full rebuild: catches what no `updated_at` announced (deleted rows, edited visits)."""
    out = rollups.rebuild_all()
    return {name: {"mode": r.mode, "changed": r.changed, "ms": r.ms} for name, r in out.items()}


@shared_task(acks_late=True)
def compute_safety_index() -> int:
    """平安指数 of every region for the current and previous month, quarter and year."""
    from . import safety

    return safety.compute_current()
