"""seed_demo's mediation step: committees, mediators and matters at every stage, once."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command

from cases.models import Status
from mediation.models import (
    Agreement,
    Confirmation,
    Mediation,
    MediationCommittee,
    Mediator,
    Outcome,
    Referral,
)

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--towns", "1", "--quiet-logins", stdout=out)
    return out.getvalue()


def test_the_demo_has_mediations_at_every_stage_and_a_second_run_adds_nothing():
    started = time.monotonic()
    seed()
    assert time.monotonic() - started < 30
    assert MediationCommittee.objects.filter(kind="professional").count() == 5
    assert Mediator.objects.count() == 4
    statuses = set(Mediation.objects.values_list("case__status", flat=True))
    assert {Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED} <= statuses
    assert set(Mediation.objects.values_list("outcome", flat=True)) == {Outcome.PENDING, Outcome.SUCCESS, Outcome.FAILED}
    assert Agreement.objects.filter(confirmation=Confirmation.CONFIRMED).exists()
    assert Referral.objects.filter(reported_at__isnull=False).exists()
    assert Referral.objects.filter(kind="police", case__mediation__isnull=True).exists()
    counts = (Mediation.objects.count(), Referral.objects.count(), MediationCommittee.objects.count())
    out = seed()
    assert (Mediation.objects.count(), Referral.objects.count(), MediationCommittee.objects.count()) == counts
    assert "无（数据已存在）" in out
