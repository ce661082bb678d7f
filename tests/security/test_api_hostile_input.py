"""Hostile values in every filter, path and body field: a 400 with field errors (or a 404 for a
path), never a 5xx. The fuzz test (test_api_fuzz.py) samples; this pins the known shapes."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import AdminFactory
from tests.security.registry import Owner

pytestmark = pytest.mark.django_db

HOSTILE = [
    "-1.4256924610803157e+274",  # the OverflowError of issue 13
    "99999999999999999999999999",
    "-1",
    "1.5",
    "NaN",
    "a\x00b",
    "名" * 3000,
    "2026-01-01T00:00-16:30",
]
FILTERS = {
    "/api/v1/terminals/": ["merchant", "status"],
    "/api/v1/tickets/": ["branch", "created_after", "created_before", "fault_type", "open", "overdue",
                         "priority", "status", "terminal"],
    "/api/v1/applications/": ["channel", "kind", "status"],
    "/api/v1/notifications/": ["page"],
}


@pytest.fixture
def world():
    owner = Owner()
    owner.ticket  # noqa: B018
    owner.application  # noqa: B018
    return owner


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.mark.parametrize("value", HOSTILE)
def test_it_refuses_a_hostile_filter_with_a_field_error(world, value):
    client = client_for(AdminFactory())
    for path, names in FILTERS.items():
        for name in [*names, "page"]:
            response = client.get(path, {name: value})
            assert response.status_code in (200, 400, 404), (path, name, response.status_code)
            body = response.json()
            if response.status_code == 400:
                assert body["code"] == "invalid" and name in body, (path, name, body)


@pytest.mark.parametrize("value", HOSTILE)
def test_it_answers_a_hostile_path_with_404(world, value):
    client = client_for(AdminFactory())
    for path in ("/api/v1/tickets/{}/", "/api/v1/applications/{}/", "/api/v1/terminals/{}/"):
        response = client.get(path.format(value))
        assert response.status_code == 404, (path, response.status_code)
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("value", ["a\x00b", "名" * 5000, -1, 10**30, 1.5])
def test_it_refuses_a_hostile_body_with_field_errors(world, value):
    client = client_for(world.user)
    response = client.post("/api/v1/tickets/", {"terminal": value, "fault_type": "printer", "symptoms": value},
                           format="json")
    assert response.status_code in (400, 404), response.status_code
    response = client.post("/api/v1/applications/", {
        "kind": "new", "channel": value, "quantity": value, "fee_plan": "purchase", "remarks": value,
    }, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    ticket = world.ticket.service_order_no
    response = client_for(world.agent).post(f"/api/v1/tickets/{ticket}/transition/",
                                            {"to": "remote_diagnosis", "note": value, "version": value},
                                            format="json")
    assert response.status_code in (400, 409), response.status_code
