"""The OpenAPI contract: schemathesis against the schema with a town token, bounded examples.

Every operation is called with generated valid and invalid input (a bounded number of examples
each, so the suite stays fast); no call may answer 5xx, and every answer must match the schema
(status codes, content type, headers, body). Data from another town is present all along, so a
generated id that happens to hit it must answer 404 like any other missing record.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apiauth.models import ApiToken
from cases.models import Case

CHECKS = [
    not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
    response_schema_conformance,
]


# Loaded once at collection: generating the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture
def keep_test_connection():
    """The WSGI app closes the database connection after each request (as under gunicorn); the
    test's transaction lives on that connection, so keep it open, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def town_a_key(api, new_case, med, keep_test_connection) -> str:
    """Town A's token, with cases and mediations of both towns present."""
    from mediation.models import ConsentWay
    from mediation.services import mediation_assign, mediation_consent

    # Generous rate for the generated calls; the limit itself is tested in test_auth.
    ApiToken.objects.filter(pk=api.token_a.pk).update(rate_per_minute=100_000)
    for region in (api.grid_a, api.town_a, api.village_a):
        new_case(region=region, by=api.town_a_dispatcher if region == api.town_a else None)
    new_case(region=api.grid_b, by=api.town_b_dispatcher)
    for town, mediator, dispatcher in (
        ("a", med.mediator_a, api.town_a_dispatcher), ("b", med.mediator_b, api.town_b_dispatcher)
    ):
        m = mediation_assign(case=med.dispute(town), by=dispatcher, mediator=mediator)
        mediation_consent(mediation=m, by=mediator.user, way=ConsentWay.APPLICATION)
    return api.key_a


def test_schema_is_served_with_chinese_descriptions_and_docs_page(client):
    r = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    doc = r.json()
    assert "令牌" in doc["info"]["description"]
    assert doc["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    post = doc["paths"]["/api/v1/cases/"]["post"]
    assert post["summary"] == "登记事项（幂等）"
    assert {"400", "401", "409", "422", "429"} <= set(post["responses"])
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) >= {"code", "detail", "errors"}
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=6, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_api_conforms_to_its_schema_and_never_fails_with_5xx(case, town_a_key):
    case.call_and_validate(headers={"Authorization": f"Token {town_a_key}"}, checks=CHECKS)


@pytest.mark.django_db
def test_generated_calls_never_touched_another_towns_case(town_a_key, api):
    """A guard for the test above: the other town's case stays unchanged (checked after a short run)."""
    theirs = Case.objects.get(region=api.grid_b, mediation__isnull=True)
    from mediation.models import Mediation, Session

    their_mediation = Mediation.objects.get(case__region=api.grid_b)
    for op, pk in (
        ("/api/v1/cases/{id}/", theirs.pk), ("/api/v1/cases/{id}/accept/", theirs.pk),
        ("/api/v1/mediations/{id}/", their_mediation.pk), ("/api/v1/mediations/{id}/sign/", their_mediation.pk),
    ):
        path = op.format(id=pk)
        from rest_framework.test import APIClient

        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {api.key_a}")
        r = c.post(path, {}, format="json") if op.endswith(("accept/", "sign/")) else c.get(path)
        assert r.status_code == 404
    theirs.refresh_from_db()
    assert theirs.version == 1
    assert not Session.objects.filter(mediation=their_mediation).exists()
