"""The load benchmark's smoke run: a tiny data set, a few users of each kind, a few seconds of
locust against a real gunicorn on loopback, so the script cannot rot (no figure asserted beyond
"every kind of request was made, and none failed")."""

from __future__ import annotations

import pytest

from benchmarks.load_bench import measure
from cases.models import Case, TimelineEntry
from demo.seeding import volume
from mediation.models import Session
from reception.models import Visit


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_load_benchmark_smoke_runs_every_kind_of_user_without_errors(world):
    volume.seed(matters=2_000, open_count=400, due_count=0, people=300, log=lambda *_: None)
    counts = {"clerks": 2, "mediators": 2, "screens": 1, "api_clients": 2}
    result = measure(
        seconds=6, baseline_seconds=3, warmup_seconds=2, workers=1, think=0.1, counts=counts, per_mediator=2
    )
    print(result)
    endpoints = result["mixed"]["endpoints"]
    for name in (
        "POST /reception/register/", "GET /reception/lookup/", "POST /mediation/[id]/sessions/new/",
        "GET /dashboards/screen/data/", "GET /api/v1/cases/ (sync)", "GET /api/v1/mediations/ (sync)",
        "GET /api/v1/timeline/ (sync)",
    ):
        assert endpoints[name]["requests"] > 0, name
    assert result["errors"] == 0, result["mixed"]["failures"] + result["baseline"]["failures"]
    assert result["baseline"]["endpoints"]["GET /bench/bare/"]["requests"] > 0
    assert result["rps_ratio"] > 0
    # The requests did their work: visits registered, sessions recorded, through the services.
    assert Visit.objects.filter(registered_by__username__startswith="bench_load_clerk_").exists()
    assert Session.objects.filter(recorded_by__username__startswith="bench_load_mediator_").exists()
    assert TimelineEntry.objects.filter(action="mediation_session").exists()
    assert Case.objects.count() > 2_000
