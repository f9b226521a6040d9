"""The dashboard benchmark's smoke run: 10,000 matters, so the script cannot rot (no timing asserted)."""

from __future__ import annotations

import pytest

from benchmarks.dashboard_bench import measure
from demo.seeding import volume


@pytest.mark.django_db
def test_dashboard_benchmark_smoke_measures_the_endpoint_and_keeps_rollups_equal(world):
    volume.seed(matters=10_000, open_count=1_000, due_count=0, people=500, log=lambda *_: None)
    result = measure(repeat=2, writes=200)
    print(result)
    assert result["matters"] == 10_000
    assert result["group_by_ms"] > 0 and result["endpoint_ms"] > 0 and result["ratio"] > 0
    assert result["equal_before"] is True and result["equal_after"] is True
    assert result["refresh_mode"] == "incremental"
    assert result["refresh_changed"] >= sum(result["writes"].values()) == 200
    assert result["age_seconds"] is not None and result["age_seconds"] < 60
