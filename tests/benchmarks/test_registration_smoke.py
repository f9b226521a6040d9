"""The registration benchmark's smoke run: 10,000 matters and people, a few registrations per
scenario through the real form (no timing asserted), so the script cannot rot."""

from __future__ import annotations

import pytest

from benchmarks.registration_bench import LOOKUPS, SCENARIOS, arrange, measure, people_on_file, summary
from cases.models import Person
from demo.seeding import volume
from reception.models import Visit


@pytest.mark.django_db
def test_registration_benchmark_smoke_registers_new_and_returning_visitors(world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    volume.seed(matters=10_000, open_count=500, due_count=0, people=10_000, log=lambda *_: None)
    assert Person.objects.count() == 10_000
    desk = arrange()
    samples = measure(desk, 3)
    assert {k: len(v) for k, v in samples.items()} == {k: 3 for k in (*SCENARIOS, *LOOKUPS)}
    assert Visit.objects.count() == 1 + 3 * 3  # the warm-up and three per scenario
    # Returning visitors were recognised: no new person for them, only for the new ones.
    assert Person.objects.count() == 10_000 + 1 + 3
    known = {idn for _name, idn, _phone in people_on_file(5)}
    assert len(known) == 5
    assert set(summary(samples["new"])) == {"p50", "p95", "n"}
