"""The 12345 import benchmark's smoke run: 10,000 rows through the import page's service path,
checking the import report (no timing asserted), so the script cannot rot."""

from __future__ import annotations

import pytest

from benchmarks.import_12345 import measure
from cases.models import Case, Channel
from petitions.models import ImportBatch
from tests.petitions.places import add_villages


@pytest.mark.django_db
@pytest.mark.slow
def test_import_12345_benchmark_smoke_reports_bad_rows_imports_good_ones_and_reimports_nothing(world):
    add_villages(world, per_town=10)
    r = measure(10_000)
    assert r["problems"] == []
    assert r["rows"] == 10_000 and r["rows_per_s"] > 0
    # 1% bad rows, each reported with the reason naming its fault; the others imported once.
    assert (r["report"]["good"], r["report"]["bad"], r["report"]["imported"]) == (9_900, 100, 9_900)
    assert r["report"]["bad_by_field"] == {"phone": 20, "reported_at": 20, "town": 20, "title": 20, "people_count": 20}
    assert r["reimport"] == {"imported": 0, "existing": 9_900, "bad": 100}
    assert Case.objects.filter(channel=Channel.HOTLINE_12345).count() == 9_900
    assert ImportBatch.objects.filter(source="hotline_12345", status="done").count() == 2
    # 5% planted cross-channel duplicates: the figures are computed against them.
    f = r["fusion"]
    assert f["planted"] == 500 and f["planted_missing"] == 0
    assert f["recall"] >= 0.85 and f["precision"] >= 0.9, f
    lists = r["lists"]
    assert lists["repeat_callers_match"] and lists["claimants_match"], lists
    assert lists["repeat_callers"] >= 3 and lists["claimants"] >= 3
