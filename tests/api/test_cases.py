"""Cases over the API: the jurisdiction gate, idempotent registration, versions, actions, errors."""

from __future__ import annotations

import uuid

import pytest

from apiauth.models import IdempotencyRecord
from cases.models import Case, CaseAssignment, Status, TimelineEntry, WarningLevel

pytestmark = pytest.mark.django_db

NEW = {"category": "labour", "title": "欠薪 12 人", "region": "430124001001", "people_count": 12}


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


# --- Jurisdiction ---------------------------------------------------------------------------


def test_town_token_lists_its_own_cases_and_never_another_towns(api, new_case):
    mine = new_case(region=api.grid_a)
    theirs = new_case(region=api.grid_b, by=api.town_b_dispatcher)
    assert ids(api.a.get("/api/v1/cases/")) == {mine.pk}
    assert ids(api.b.get("/api/v1/cases/")) == {theirs.pk}
    # Not by filter either: a foreign tracking number, region or center filters to nothing.
    assert ids(api.a.get("/api/v1/cases/", {"tracking_no": theirs.tracking_no})) == set()
    assert ids(api.a.get("/api/v1/cases/", {"region": api.town_b.code})) == set()
    assert ids(api.a.get("/api/v1/cases/", {"owning_center": theirs.owning_center_id})) == set()
    assert ids(api.a.get("/api/v1/timeline/")) == set(mine.timeline.values_list("pk", flat=True))


def test_town_token_cannot_read_guess_or_write_another_towns_case(api, new_case):
    theirs = new_case(region=api.grid_b, by=api.town_b_dispatcher)
    missing = Case.objects.order_by("-pk").first().pk + 1000
    for pk in (theirs.pk, missing):
        # "not yours" and "not there" answer alike
        r = api.a.get(f"/api/v1/cases/{pk}/")
        assert r.status_code == 404
        assert r.json() == {"code": "not_found", "detail": "未找到该记录，或您无权查看。", "errors": {}}
    assert api.a.patch(f"/api/v1/cases/{theirs.pk}/", {"title": "x", "version": 1}, format="json").status_code == 404
    assert api.a.post(f"/api/v1/cases/{theirs.pk}/accept/", {}, format="json").status_code == 404
    assert api.a.post(f"/api/v1/cases/{theirs.pk}/comment/", {"text": "x"}, format="json").status_code == 404
    assert api.a.get(f"/api/v1/cases/{theirs.pk}/timeline/").status_code == 404
    # Registering in the other town's area is refused on the field, without saying whether it exists.
    r = api.a.post("/api/v1/cases/", {**NEW, "region": api.grid_b.code}, format="json")
    assert r.status_code == 400
    assert "不在您的辖区内" in r.json()["errors"]["region"][0]
    theirs.refresh_from_db()
    assert theirs.version == 1 and theirs.status == Status.REGISTERED


def test_another_towns_external_id_is_never_returned(api, new_case):
    key = uuid.uuid4()
    r = api.b.post("/api/v1/cases/", {**NEW, "region": api.grid_b.code, "external_id": str(key)}, format="json")
    assert r.status_code == 201
    r = api.a.post("/api/v1/cases/", {**NEW, "external_id": str(key)}, format="json")
    assert r.status_code == 409
    assert "tracking_no" not in r.json()
    assert Case.objects.filter(external_id=key).count() == 1


# --- Registration and idempotency -----------------------------------------------------------


def test_registered_case_gets_number_owner_clock_and_masked_parties(api):
    body = {
        **NEW,
        "region": api.grid_a.code,
        "has_casualty": True,
        "parties": [{"name": "张三", "id_number": "430124199001011236", "phone": "13812345678"}],
    }
    r = api.a.post("/api/v1/cases/", body, format="json")
    assert r.status_code == 201, r.json()
    data = r.json()
    case = Case.objects.get(pk=data["id"])
    assert r["Location"].endswith(f"/api/v1/cases/{case.pk}/")
    assert r["ETag"] == '"1"'
    assert data["tracking_no"] == case.tracking_no and data["channel"] == "lower_center"
    assert case.owning_center == api.village_a_center and case.registered_by == api.user_a
    assert data["warning_level"] == WarningLevel.RED and case.due_at is not None
    assert data["parties"] == [
        {"name": "张三", "role": "applicant", "kind": "individual",
         "id_number_masked": case.parties.get().person.id_number_masked, "phone_masked": "138****5678"}
    ]
    assert "430124199001011236" not in r.content.decode()
    assert TimelineEntry.objects.filter(case=case, action="register", actor=api.user_a).exists()


def test_retried_post_with_the_same_external_id_creates_one_case(api):
    body = {**NEW, "external_id": str(uuid.uuid4())}
    first = api.a.post("/api/v1/cases/", body, format="json")
    again = api.a.post("/api/v1/cases/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert Case.objects.filter(external_id=body["external_id"]).count() == 1


def test_retried_post_with_the_same_idempotency_key_creates_one_case(api):
    key = str(uuid.uuid4())
    first = api.a.post("/api/v1/cases/", NEW, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = api.a.post("/api/v1/cases/", NEW, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert again.json() == first.json() and again["Location"] == first["Location"]
    assert Case.objects.filter(title=NEW["title"]).count() == 1
    # The same key on a different request is refused, not replayed.
    r = api.a.post("/api/v1/cases/", {**NEW, "title": "另一件事"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    # Keys are per account: town B's identical key is its own.
    r = api.b.post("/api/v1/cases/", {**NEW, "region": api.grid_b.code}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert r.status_code == 201
    assert Case.objects.filter(title=NEW["title"]).count() == 2


def test_a_failed_request_does_not_burn_its_idempotency_key(api):
    key = str(uuid.uuid4())
    r = api.a.post("/api/v1/cases/", {**NEW, "title": ""}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert r.status_code == 400
    assert not IdempotencyRecord.objects.filter(key=key).exists()
    r = api.a.post("/api/v1/cases/", NEW, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert r.status_code == 201


def test_retried_action_with_the_same_key_runs_once(api, new_case):
    case = new_case()
    key = str(uuid.uuid4())
    for _ in range(2):
        r = api.a.post(f"/api/v1/cases/{case.pk}/comment/", {"text": "已电话联系双方"}, format="json",
                       HTTP_IDEMPOTENCY_KEY=key)
        assert r.status_code == 201
    assert TimelineEntry.objects.filter(case=case, action="comment").count() == 1


# --- Field-level errors ---------------------------------------------------------------------


def test_bad_input_answers_field_level_messages_and_saves_nothing(api):
    body = {
        "title": "", "category": "nonsense", "region": api.grid_a.code, "people_count": 0,
        "parties": [{"name": "李四", "phone": "12345"}, {"name": "王五", "id_number": "430124199001011238"}],
    }
    before = Case.objects.count()
    r = api.a.post("/api/v1/cases/", body, format="json")
    assert r.status_code == 400
    data = r.json()
    assert data["code"] == "invalid" and data["detail"]
    errors = data["errors"]
    assert set(errors) == {"title", "category", "people_count", "parties.0.phone", "parties.1.id_number"}
    assert "校验位" in errors["parties.1.id_number"][0]
    assert Case.objects.count() == before


def test_malformed_cursor_and_page_size_are_field_errors(api):
    r = api.a.get("/api/v1/cases/", {"cursor": "not-a-cursor", "page_size": 0})
    assert r.status_code == 400
    assert set(r.json()["errors"]) <= {"cursor", "page_size"} and r.json()["errors"]


# --- Versions and ETags ---------------------------------------------------------------------


def test_update_on_a_stale_copy_is_refused_with_409_or_412(api, new_case):
    case = new_case(region=api.town_a, by=api.town_a_dispatcher)  # owned by town A's center
    url = f"/api/v1/cases/{case.pk}/"
    r = api.a.get(url)
    etag = r["ETag"]
    assert etag == '"1"'
    assert api.a.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    # Someone changes it on the page meanwhile.
    from cases.services import case_update

    case_update(case=case, by=api.town_a_dispatcher, expected_version=1, title="已更新的摘要")

    r = api.a.patch(url, {"title": "我的修改"}, format="json", HTTP_IF_MATCH=etag)
    assert r.status_code == 412 and r.json()["current_version"] == 2
    r = api.a.patch(url, {"title": "我的修改", "version": 1}, format="json")
    assert r.status_code == 409 and r.json()["current_version"] == 2
    r = api.a.patch(url, {"title": "我的修改"}, format="json")
    assert r.status_code == 428
    case.refresh_from_db()
    assert case.title == "已更新的摘要" and case.version == 2

    r = api.a.patch(url, {"title": "我的修改", "amount": "1200.50"}, format="json", HTTP_IF_MATCH='"2"')
    assert r.status_code == 200, r.json()
    assert r["ETag"] == '"3"' and r.json()["title"] == "我的修改" and r.json()["amount"] == "1200.50"

    # A village station's case is readable by the town's system but edited by the village.
    village_case = new_case()
    r = api.a.patch(f"/api/v1/cases/{village_case.pk}/", {"title": "x", "version": 1}, format="json")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"


# --- Lifecycle actions ----------------------------------------------------------------------


def test_lifecycle_over_the_api_goes_through_the_case_engine(api, new_case):
    case = new_case(region=api.town_a, by=api.town_a_dispatcher)  # owned by town A's center
    base = f"/api/v1/cases/{case.pk}"
    r = api.a.get(f"{base}/")
    assert "accept" in r.json()["allowed_actions"]

    r = api.a.post(f"{base}/accept/", {"version": 1}, format="json")
    assert r.status_code == 200 and r.json()["status"] == Status.ACCEPTED and r["ETag"] == '"2"'

    r = api.a.post(f"{base}/assign/", {"users": [api.town_a_dispatcher.pk], "version": 2}, format="json")
    assert r.status_code == 200, r.json()
    assert CaseAssignment.objects.filter(case=case, user=api.town_a_dispatcher, is_active=True).exists()

    r = api.a.post(f"{base}/start/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == Status.IN_PROGRESS

    r = api.a.post(f"{base}/resolve/", {}, format="json")
    assert r.status_code == 400 and "comment" in r.json()["errors"]

    r = api.a.post(f"{base}/resolve/", {"comment": "双方达成和解", "version": 3}, format="json")
    assert r.status_code == 409  # version 3 is stale: start made it 4

    r = api.a.post(f"{base}/resolve/", {"comment": "双方达成和解"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == Status.RESOLVED

    r = api.a.post(f"{base}/close/", {"satisfaction": "satisfied"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == Status.CLOSED
    actions = list(TimelineEntry.objects.filter(case=case).order_by("at", "pk").values_list("action", flat=True))
    assert actions == ["register", "accept", "assign", "start", "resolve", "close"]

    r = api.a.get(f"{base}/timeline/")
    assert [e["action"] for e in r.json()["results"]] == actions

    # An action the state does not allow is a domain error, with nothing changed.
    r = api.a.post(f"{base}/accept/", {}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "domain_error"


def test_escalation_over_the_api_moves_the_case_up_and_out_of_sight_of_nobody(api, new_case):
    case = new_case(region=api.grid_a)  # owned by village A's station
    r = api.a.post(f"/api/v1/cases/{case.pk}/escalate/", {"comment": "村级调解不成"}, format="json")
    # Town A's system owns neither the village's case nor is ABOVE it: the engine refuses.
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"

    case2 = new_case(region=api.town_a, by=api.town_a_dispatcher)
    r = api.a.post(f"/api/v1/cases/{case2.pk}/escalate/", {"comment": "涉及多部门"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["owning_center"] == api.county_center.pk and r.json()["level"] == "county"
    # Still visible to town A (its place lies in town A's area).
    assert api.a.get(f"/api/v1/cases/{case2.pk}/").status_code == 200


def test_the_list_answers_exactly_what_the_case_serializer_says(api, new_case):
    """The list reads rows with .values() for speed; it must not drift from CaseSerializer."""
    import datetime as dt
    from decimal import Decimal

    from cases.apis import CaseSerializer
    from cases.services import case_transfer, case_update

    new_case(region=api.grid_a)
    case = new_case(region=api.town_a, by=api.town_a_dispatcher, amount=Decimal("1234.5"),
                    occurred_at=dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC), external_id=uuid.uuid4())
    case_update(case=case, by=api.town_a_dispatcher, expected_version=1, risk_note="情绪激动")
    case = Case.objects.get(pk=case.pk)
    from cases.services import case_accept

    case = case_accept(case=case, by=api.town_a_dispatcher)
    case_transfer(case=case, by=api.town_a_dispatcher, unit=api.police_a, comment="派出所处置")
    rows = api.a.get("/api/v1/cases/").json()["results"]
    qs = Case.objects.select_related("region", "town", "owning_center", "owning_unit").order_by("sync_txid", "id")
    assert rows == [dict(CaseSerializer(c).data) for c in qs]
    assert any(r["owning_unit_name"] == api.police_a.name and r["amount"] == "1234.50" for r in rows)
