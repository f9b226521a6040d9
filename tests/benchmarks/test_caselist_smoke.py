"""The case-list benchmark's smoke run: 10,000 matters, so the script cannot rot (no timing asserted)."""

from __future__ import annotations

import pytest

from benchmarks.caselist_bench import measure
from cases.models import RevealLog
from demo.seeding import volume


@pytest.mark.django_db
def test_caselist_benchmark_smoke_measures_every_page_and_exports(world):
    volume.seed(matters=10_000, open_count=1_000, due_count=0, people=500, log=lambda *_: None)
    result = measure(repeat=1, export_rows=500)
    assert result["matters"] == 10_000
    assert set(result["pages"]) >= {"county, no filter", "town, no filter", "town dispatcher's queue"}
    assert all(ms > 0 for ms in result["pages"].values())
    assert result["export_rows"] >= 500 and result["export_bytes"] > 0
    assert RevealLog.objects.filter(what=RevealLog.What.EXPORT, row_count=result["export_rows"]).exists()
