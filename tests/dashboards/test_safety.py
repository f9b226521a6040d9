"""The safety index (平安指数) against a hand computation, its editable weights and its pages."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from cases import services
from cases.models import CaseKind, Channel
from cases.services import NotAllowed
from centers.models import Region
from dashboards import safety
from dashboards.models import PeriodKind, SafetyIndex, SafetyIndicator
from petitions.models import FlagKind, Petition, PetitionFlag
from tests.dashboards.conftest import owner, to_in_progress

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 1)


def at(day: int, hour: int = 10) -> dt.datetime:
    from cases.metrics import LOCAL

    return dt.datetime(2026, 3, day, hour, 0, tzinfo=LOCAL)


@pytest.fixture
def march(dw, register):
    """Town A, 20,000 residents, in March 2026: 8 matters, 7 of them resolved, 1 red, 2 petitions
    (one flagged by the petitions app as a repeat), 1 from 110. Town B: nothing."""
    Region.objects.filter(pk=dw.town_a.pk).update(population=20_000)
    Region.objects.filter(pk=dw.town_b.pk).update(population=10_000)
    made = []
    with time_machine.travel(at(3), tick=False):
        for i in range(4):
            made.append(register(region=dw.grid_a, title=f"纠纷{i}"))
        made.append(register(region=dw.grid_a, title="伤人纠纷", has_casualty=True))
        made.append(register(region=dw.grid_a, channel=Channel.POLICE_110, title="110 转来纠纷"))
        made.append(
            register(region=dw.grid_a, kind=CaseKind.PETITION, channel=Channel.ONLINE, title="信访一")
        )
        made.append(
            register(region=dw.grid_a, kind=CaseKind.PETITION, channel=Channel.ONLINE, title="信访二")
        )
        petition = Petition.objects.create(case=made[-1], request="再次反映", reported_at=at(3))
        PetitionFlag.objects.create(
            petition=petition, kind=FlagKind.REPEATED, reason="同一事项再次信访", created_at=at(3)
        )
    with time_machine.travel(at(10), tick=False):
        for case in made[:7]:
            case = to_in_progress(dw, case)
            services.case_resolve(case=case, by=owner(dw, case), comment="化解")
    # A matter in April does not count in March.
    with time_machine.travel(dt.datetime(2026, 4, 2, 9, tzinfo=at(1).tzinfo), tick=False):
        register(region=dw.grid_a, title="四月纠纷")
    return made


def test_safety_index_equals_a_hand_computation(dw, march):
    with time_machine.travel(dt.datetime(2026, 4, 5, 8, tzinfo=at(1).tzinfo), tick=False):
        written = safety.compute(PeriodKind.MONTH, MARCH)
    assert written == Region.objects.filter(kind__in=safety.INDEX_KINDS).count()
    index = SafetyIndex.objects.get(region=dw.town_a, period_kind=PeriodKind.MONTH, period_start=MARCH)

    # By hand. 31 days, 20,000 residents: per 1,000 residents per year = n × 1000 × 365 / (20000 × 31).
    factor = 1000 * 365 / (20_000 * 31)
    disputes = 6 * factor  # 6 matters of kind 矛盾纠纷 (the 110 one included)
    incidents = 1 * factor
    petitions = 2 * factor
    red = 1 * factor
    resolution = 7 / 8 * 100  # 87.5 %
    repeat = 1 / 2 * 100  # 50 %
    # Scores: (worst − value) / (worst − best) × 100, clamped to 0–100; defaults best/worst:
    s_disputes = (30 - disputes) / 30 * 100
    s_incidents = (10 - incidents) / 10 * 100
    s_petitions = (10 - petitions) / 10 * 100
    s_red = (5 - red) / 5 * 100
    s_resolution = (80 - resolution) / (80 - 100) * 100  # 37.5
    s_repeat = max(0.0, (30 - repeat) / 30 * 100)  # past the zero-score value 30 %: clamped to 0
    expected = (
        25 * s_disputes + 15 * s_incidents + 15 * s_petitions + 15 * s_red + 20 * s_resolution + 10 * s_repeat
    ) / (25 + 15 + 15 + 15 + 20 + 10)
    assert float(index.value) == pytest.approx(round(expected, 1))
    assert s_repeat == 0.0 and s_resolution == pytest.approx(37.5)
    c = index.components
    assert c["disputes"]["value"] == pytest.approx(disputes)
    assert c["resolution"]["score"] == pytest.approx(37.5)
    assert c["repeat"]["value"] == pytest.approx(50.0) and c["repeat"]["score"] == pytest.approx(0.0)
    assert c["_basis"] == {
        "population": 20_000,
        "days": 31,
        "counts": {"received": 8, "resolved": 7, "disputes": 6, "incidents": 1, "petitions": 2, "red": 1},
    }
    # Town B had nothing: every incidence is 0 (full marks); 化解率 and 重复信访率 have no basis and stay out.
    b = SafetyIndex.objects.get(region=dw.town_b, period_kind=PeriodKind.MONTH, period_start=MARCH)
    assert b.components["resolution"]["score"] is None and b.components["repeat"]["score"] is None
    assert float(b.value) == pytest.approx(100.0)
    # The county sums its towns (population of the county region itself: set to both towns').
    county = SafetyIndex.objects.get(region=dw.county, period_kind=PeriodKind.MONTH, period_start=MARCH)
    assert county.components["_basis"]["counts"]["received"] == 8


def test_a_running_period_is_annualised_by_its_days_so_far(dw, march):
    with time_machine.travel(at(10, 20), tick=False):
        safety.compute(PeriodKind.MONTH, MARCH)
    index = SafetyIndex.objects.get(region=dw.town_a, period_kind=PeriodKind.MONTH, period_start=MARCH)
    assert index.components["_basis"]["days"] == 10
    assert index.components["disputes"]["value"] == pytest.approx(6 * 1000 * 365 / (20_000 * 10))


def test_the_county_edits_weights_and_the_index_follows(
    dw, march, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    from dashboards import tasks

    # The recomputation after the change is a Celery task: run it in place.
    monkeypatch.setattr(tasks.compute_safety_index, "delay", lambda: tasks.compute_safety_index())
    with time_machine.travel(dt.datetime(2026, 4, 5, 8, tzinfo=at(1).tzinfo), tick=False):
        safety.compute(PeriodKind.MONTH, MARCH)
        old = SafetyIndex.objects.get(
            region=dw.town_a, period_kind=PeriodKind.MONTH, period_start=MARCH
        ).value
        # A town dispatcher may read the weights but not change them.
        page = client_for(dw.town_a_dispatcher).get(reverse("dashboards:safety_weights"))
        assert page.status_code == 200 and "只有县级中心领导可以修改" in page.content.decode()
        assert (
            client_for(dw.town_a_dispatcher).post(reverse("dashboards:safety_weights"), {}).status_code == 403
        )
        with pytest.raises(NotAllowed):
            safety.safety_indicators_update(by=dw.town_a_dispatcher, data={})
        # The county leader puts all weight on 化解率 (37.5 points for town A).
        form = {}
        for i in SafetyIndicator.objects.all():
            form[f"{i.code}-weight"] = "100" if i.code == "resolution" else "0"
            form[f"{i.code}-best"] = str(i.best)
            form[f"{i.code}-worst"] = str(i.worst)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            r = client_for(dw.county_leader).post(reverse("dashboards:safety_weights"), form)
        assert r.status_code == 302 and len(callbacks) == 1
    new = SafetyIndex.objects.get(region=dw.town_a, period_kind=PeriodKind.MONTH, period_start=MARCH)
    assert float(new.value) == pytest.approx(37.5) != float(old)
    assert new.components["resolution"]["weight"] == 100.0 and new.components["disputes"]["weight"] == 0.0


def test_weights_are_validated_with_clear_messages(dw, client_for):
    c = client_for(dw.county_leader)
    form = {}
    for i in SafetyIndicator.objects.all():
        form[f"{i.code}-weight"] = str(i.weight)
        form[f"{i.code}-best"] = str(i.best)
        form[f"{i.code}-worst"] = str(i.worst)
    bad = dict(form, **{"disputes-weight": "abc"})
    r = c.post(reverse("dashboards:safety_weights"), bad)
    assert r.status_code == 400 and "须为数字" in r.content.decode()
    same = dict(form, **{"red-best": "5"})
    r = c.post(reverse("dashboards:safety_weights"), same)
    assert r.status_code == 400 and "满分值与零分值不能相同" in r.content.decode()
    zero = {k: ("0" if k.endswith("-weight") else v) for k, v in form.items()}
    r = c.post(reverse("dashboards:safety_weights"), zero)
    assert r.status_code == 400 and "之和须大于 0" in r.content.decode()
    assert SafetyIndicator.objects.get(code="disputes").weight == 25  # nothing half-written


def test_safety_pages_show_only_the_users_places(dw, march, client_for):
    with time_machine.travel(dt.datetime(2026, 4, 5, 8, tzinfo=at(1).tzinfo), tick=False):
        safety.compute(PeriodKind.MONTH, MARCH)
        a = SafetyIndex.objects.get(region=dw.town_a, period_kind=PeriodKind.MONTH, period_start=MARCH)
        b = SafetyIndex.objects.get(region=dw.town_b, period_kind=PeriodKind.MONTH, period_start=MARCH)
        county_page = client_for(dw.county_leader).get(reverse("dashboards:safety")).content.decode()
        assert "城关街道" in county_page and "白沙镇" in county_page and "2026年3月" in county_page
        town = client_for(dw.town_a_dispatcher)
        page = town.get(reverse("dashboards:safety")).content.decode()
        assert "城关街道" in page and "白沙镇" not in page
        assert town.get(reverse("dashboards:safety_detail", args=[a.pk])).status_code == 200
        assert town.get(reverse("dashboards:safety_detail", args=[b.pk])).status_code == 404
