"""The sweep benchmark's smoke run: 10,000 matters, so the script cannot rot (no timing asserted)."""

from __future__ import annotations

import pytest

from benchmarks.sweep_bench import arrange, measure
from cases.models import OverdueEvent
from demo.seeding import volume


@pytest.mark.django_db
def test_sweep_benchmark_smoke_escalates_exactly_the_due_cases(world):
    volume.seed(matters=10_000, open_count=1_000, due_count=0, people=500, log=lambda *_: None)
    arranged = arrange(open_target=800, due=50)
    assert arranged == {"open": 800, "due": 50}
    result = measure()
    assert result["examined"] == 50
    assert result["escalated"] + OverdueEvent.objects.filter(action="top_level_red").count() == 50
    again = measure()
    assert again["examined"] == 0 and again["escalated"] == 0
