"""The big screen's starting state: rollups brought up to date and the safety index computed, so
`make run` shows figures at once (the beat keeps both fresh afterwards). Keep this step last:
it summarises what the steps before it created. Idempotent: a second run recomputes the same."""

from __future__ import annotations

from .context import SeedContext


def seed(ctx: SeedContext) -> None:
    from dashboards import rollups, safety

    rollups.refresh_all()
    safety.compute_current()
