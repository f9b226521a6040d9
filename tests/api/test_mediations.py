"""Mediations over the API: the town token's scope, the lifecycle through mediation.services,
idempotent POSTs, and the feed carrying every change."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.models import Case, Satisfaction, Status, TimelineEntry
from mediation.models import Agreement, ConsentWay, Mediation, Outcome, Performance, Session
from mediation.services import mediation_assign, mediation_consent

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def pinned():
    """A fixed working morning (sessions must be recorded after they happen, agreements dated)."""
    with time_machine.travel(dt.datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI), tick=True):
        yield


def results(r) -> list[dict]:
    assert r.status_code == 200, r.content
    return r.json()["results"]


def in_progress(med, town: str = "a", title: str = "楼上漏水致楼下受损") -> Mediation:
    mediator = med.mediator_a if town == "a" else med.mediator_b
    dispatcher = med.api.town_a_dispatcher if town == "a" else med.api.town_b_dispatcher
    m = mediation_assign(case=med.dispute(town, title), by=dispatcher, mediator=mediator)
    return mediation_consent(mediation=m, by=mediator.user, way=ConsentWay.APPLICATION)


def session_body(**kw) -> dict:
    body = {
        "held_at": "2026-11-24T09:00:00+08:00", "place": "城关街道调解室", "participants": "王秀兰、陈建军、调解员李调解",
        "record": "双方陈述，调解员释法说理。", "result": "continue",
    }
    body.update(kw)
    return body


def test_town_token_cannot_read_guess_or_write_another_towns_mediations(pinned, med):
    api = med.api
    mine = in_progress(med, "a")
    theirs = in_progress(med, "b", "白沙镇宅基地纠纷")
    theirs_version = Case.objects.get(pk=theirs.pk).version

    rows = results(api.a.get("/api/v1/mediations/"))
    assert [r["case"]["id"] for r in rows] == [mine.pk]
    assert rows[0]["mediator_name"] == "李调解" and rows[0]["consent_way"] == ConsentWay.APPLICATION
    assert "430124198506124565" not in api.a.get("/api/v1/mediations/").content.decode()
    assert [r["case"]["id"] for r in results(api.b.get("/api/v1/mediations/"))] == [theirs.pk]
    # Filters cannot widen the scope.
    assert results(api.a.get("/api/v1/mediations/", {"mediator": med.mediator_b.pk})) == []
    assert results(api.a.get("/api/v1/mediations/", {"committee": med.committee_b.pk})) == []

    # Reading or acting on the other town's mediation answers as for one that does not exist.
    missing = Case.objects.order_by("-pk").first().pk + 1000
    for pk in (theirs.pk, missing):
        assert api.a.get(f"/api/v1/mediations/{pk}/").status_code == 404
        assert api.a.post(f"/api/v1/mediations/{pk}/record-session/", session_body(), format="json").status_code == 404
        assert api.a.post(f"/api/v1/mediations/{pk}/sign/", {}, format="json").status_code == 404
    # Handing the other town's dispute to mediation: the case is not found in the caller's scope.
    other_dispute = med.dispute("b", "白沙镇另一起纠纷")
    r = api.a.post("/api/v1/mediations/", {"case": other_dispute.pk, "mediator": med.mediator_a.pk}, format="json")
    assert r.status_code == 400 and "case" in r.json()["errors"], r.json()
    # … nor can it hand its own dispute to the other town's mediator.
    own_dispute = med.dispute("a", "城关另一起纠纷")
    r = api.a.post("/api/v1/mediations/", {"case": own_dispute.pk, "mediator": med.mediator_b.pk}, format="json")
    assert r.status_code == 400 and "mediator" in r.json()["errors"], r.json()
    assert [m["id"] for m in results(api.a.get("/api/v1/mediators/"))] == [med.mediator_a.pk]

    assert not Mediation.objects.filter(pk__in=[other_dispute.pk, own_dispute.pk]).exists()
    assert Case.objects.get(pk=theirs.pk).version == theirs_version
    assert not Session.objects.filter(mediation=theirs).exists()


def test_a_mediation_runs_from_assignment_to_follow_up_through_the_mediation_services(pinned, med):
    api = med.api
    case = med.dispute("a")
    r = api.a.post("/api/v1/mediations/", {"case": case.pk, "mediator": med.mediator_a.pk}, format="json")
    assert r.status_code == 201, r.json()
    assert r["Location"].endswith(f"/api/v1/mediations/{case.pk}/")
    body = r.json()
    assert body["case"]["status"] == Status.ASSIGNED and body["outcome"] == Outcome.PENDING
    assert body["committee_name"] == "城关街道人民调解委员会" and body["agreement"] is None and body["referral"] is None
    # Handed over once: a second hand-over is refused with a field message.
    r = api.a.post("/api/v1/mediations/", {"case": case.pk, "mediator": med.mediator_a.pk}, format="json")
    assert r.status_code == 400 and "case" in r.json()["errors"]

    url = f"/api/v1/mediations/{case.pk}"
    etag = api.a.get(f"{url}/")["ETag"]
    r = api.a.post(f"{url}/consent/", {"way": "application", "note": "双方书面申请"}, format="json", HTTP_IF_MATCH=etag)
    assert r.status_code == 200, r.json()
    assert r.json()["case"]["status"] == Status.IN_PROGRESS
    # A copy read before the consent is stale now: refused, nothing recorded.
    r = api.a.post(f"{url}/record-session/", session_body(), format="json", HTTP_IF_MATCH=etag)
    assert r.status_code == 412
    assert not Session.objects.filter(mediation_id=case.pk).exists()

    # Bad input: field messages, nothing written.
    r = api.a.post(f"{url}/record-session/", session_body(record="  ", held_at="yesterday"), format="json")
    assert r.status_code == 400 and {"record", "held_at"} <= set(r.json()["errors"])
    r = api.a.post(f"{url}/record-session/", session_body(held_at="2026-11-25T09:00:00+08:00"), format="json")
    assert r.status_code == 400 and "晚于现在" in r.json()["detail"]
    r = api.a.post(f"{url}/sign/", {}, format="json")
    assert r.status_code == 400 and "起草" in r.json()["detail"]

    r = api.a.post(f"{url}/record-session/", session_body(result="agreed"), format="json")
    assert r.status_code == 200, r.json()
    assert [(s["number"], s["result"]) for s in r.json()["sessions"]] == [(1, "agreed")]
    r = api.a.post(
        f"{url}/draft-agreement/",
        {"facts": "5 楼水管爆裂致 4 楼受损。", "terms": "陈建军赔偿王秀兰维修费 8,000 元\n当场付清", "amount": "8000.00"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["agreement"]["status"] == "draft"
    r = api.a.post(f"{url}/sign/", {}, format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["outcome"] == Outcome.SUCCESS and body["case"]["status"] == Status.RESOLVED
    assert body["agreement"]["status"] == "signed" and "调字〔2026〕0001号" in body["agreement"]["number"]
    # Judicial confirmation: a court of the county only; then the court's ruling.
    from centers.models import DepartmentKind
    from tests.factories import UnitFactory

    court = UnitFactory(region=api.county, kind=DepartmentKind.COURT, name="凤岭县人民法院")
    r = api.a.post(f"{url}/confirmation-apply/", {"court": api.police_a.pk, "applied_on": "2026-11-24"}, format="json")
    assert r.status_code == 400 and "court" in r.json()["errors"]
    r = api.a.post(f"{url}/confirmation-apply/", {"court": court.pk, "applied_on": "2026-11-24"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["agreement"]["confirmation"] == "applied"
    r = api.a.post(
        f"{url}/confirmation-record/",
        {"confirmed": True, "decided_on": "2026-11-24", "court_ref": "（2026）湘0124民特1号"}, format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["agreement"]["confirmation"] == "confirmed"
    assert r.json()["agreement"]["confirmation_court_name"] == "凤岭县人民法院"
    r = api.a.post(f"{url}/follow-up/", {"performance": "full", "satisfaction": "satisfied"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["case"]["status"] == Status.CLOSED

    agreement = Agreement.objects.get(pk=case.pk)
    assert agreement.performance == Performance.FULL
    assert Case.objects.get(pk=case.pk).satisfaction == Satisfaction.SATISFIED
    actions = list(TimelineEntry.objects.filter(case_id=case.pk).order_by("at", "pk").values_list("action", flat=True))
    assert actions[-8:] == [
        "mediation_assign", "mediation_consent", "mediation_session", "mediation_draft", "mediation_sign",
        "mediation_confirmation", "mediation_confirmation", "mediation_follow_up",
    ]
    # A referral's report is refused for a plain dispute.
    r = api.a.post(f"{url}/report/", {"text": "结果"}, format="json")
    assert r.status_code in (400, 403)


def test_retried_posts_with_the_same_key_create_one_mediation_and_one_session(pinned, med):
    api = med.api
    case = med.dispute("a")
    body = {"case": case.pk, "mediator": med.mediator_a.pk}
    first = api.a.post("/api/v1/mediations/", body, format="json", HTTP_IDEMPOTENCY_KEY="assign-1")
    again = api.a.post("/api/v1/mediations/", body, format="json", HTTP_IDEMPOTENCY_KEY="assign-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Mediation.objects.filter(pk=case.pk).count() == 1
    assert TimelineEntry.objects.filter(case_id=case.pk, action="mediation_assign").count() == 1

    mediation_consent(mediation=Mediation.objects.get(pk=case.pk), by=med.mediator_a.user, way=ConsentWay.ORAL)
    url = f"/api/v1/mediations/{case.pk}/record-session/"
    first = api.a.post(url, session_body(), format="json", HTTP_IDEMPOTENCY_KEY="session-1")
    again = api.a.post(url, session_body(), format="json", HTTP_IDEMPOTENCY_KEY="session-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert Session.objects.filter(mediation_id=case.pk).count() == 1
    # The same key for a different request is refused; a new key records a second session.
    r = api.a.post(url, session_body(place="东门社区"), format="json", HTTP_IDEMPOTENCY_KEY="session-1")
    assert r.status_code == 422
    r = api.a.post(url, session_body(), format="json", HTTP_IDEMPOTENCY_KEY="session-2")
    assert r.status_code == 200 and [s["number"] for s in r.json()["sessions"]] == [1, 2]
    # Another town's token cannot replay town A's key into town A's mediation.
    assert api.b.post(url, session_body(), format="json", HTTP_IDEMPOTENCY_KEY="session-1").status_code == 404


def test_failed_mediation_is_routed_to_a_court_in_the_county(pinned, med):
    from centers.models import DepartmentKind
    from tests.factories import UnitFactory

    api = med.api
    court = UnitFactory(region=api.county, kind=DepartmentKind.COURT, name="凤岭县人民法院")
    m = in_progress(med, "a")
    url = f"/api/v1/mediations/{m.pk}/fail/"
    r = api.a.post(url, {"reason": "", "unit": 10**9}, format="json")
    assert r.status_code == 400 and {"reason", "unit"} <= set(r.json()["errors"])
    # A police station does not take a suit: the service refuses, nothing changes.
    r = api.a.post(url, {"reason": "双方分歧较大", "route_on": "litigation", "unit": api.police_b.pk}, format="json")
    assert r.status_code == 400 and "不是本县可受理" in r.json()["detail"], r.json()
    assert Mediation.objects.get(pk=m.pk).outcome == Outcome.PENDING
    r = api.a.post(url, {"reason": "双方分歧较大", "route_on": "litigation", "unit": court.pk}, format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["outcome"] == Outcome.FAILED and body["route_unit"] == court.pk
    assert body["case"]["owning_unit"] == court.pk
