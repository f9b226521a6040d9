"""The API throughput benchmark's smoke run: 10,000 matters, a real gunicorn on loopback, a second
per run, so the script cannot rot (no throughput asserted)."""

from __future__ import annotations

import pytest

from benchmarks.api_throughput import measure
from demo.seeding import volume


@pytest.mark.django_db(transaction=True)
def test_api_throughput_benchmark_smoke_serves_both_views_without_errors(world):
    volume.seed(matters=10_000, open_count=1_000, due_count=0, people=500, log=lambda *_: None)
    result = measure(seconds=1.0, concurrency=2, workers=1)
    assert result["matters"] == 10_000
    assert result["rows_per_page"] == 50
    assert set(result["runs"]) == {"bare", "api_county", "api_town"}
    for run in result["runs"].values():
        assert run["requests"] > 0 and run["errors"] == 0
    assert result["ratio_county"] > 0 and result["ratio_town"] > 0
