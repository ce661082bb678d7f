import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from repairs.models import FaultTicket
from terminals.models import Deregistration, Terminal
from tests.factories import ActiveTerminalFactory, TerminalFactory

pytestmark = pytest.mark.django_db
LIST = "/api/v1/terminals/"


def _api(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def _url(terminal, suffix=""):
    return f"{LIST}{terminal.serial_number}/{suffix}"


def _ticket(terminal, n=1, status="reported"):
    # One open ticket per terminal (the tickets area's rule): the others are closed ones.
    return FaultTicket.objects.create(
        service_order_no=f"SO20261124-{n:04d}", terminal=terminal, merchant=terminal.merchant,
        fault_type="printer", symptoms="no paper feed", status=status,
    )


def test_it_lists_only_the_callers_terminals(merchant_user, terminal, other_merchant_user):
    ActiveTerminalFactory(merchant=other_merchant_user.merchant)
    data = _api(merchant_user).get(LIST).json()
    assert [t["serial_number"] for t in data["results"]] == [terminal.serial_number]
    assert data["results"][0]["channel"] == "BANK" and data["results"][0]["status"] == "active"


def test_it_filters_by_status_and_merchant(agent, terminal, stock_terminal, other_merchant_user):
    other = ActiveTerminalFactory(merchant=other_merchant_user.merchant)
    api = _api(agent)
    assert [t["serial_number"] for t in api.get(LIST, {"status": "in_stock"}).json()["results"]] == [
        stock_terminal.serial_number
    ]
    results = api.get(LIST, {"merchant": other.merchant_id}).json()["results"]
    assert [t["serial_number"] for t in results] == [other.serial_number]


def test_it_answers_401_without_credentials(terminal):
    assert APIClient().get(LIST).status_code in (401, 403)


def test_it_authenticates_with_a_token(merchant_user, terminal):
    from tests.factories import PASSWORD

    token = APIClient().post("/api/v1/auth/token/", {"username": merchant_user.username, "password": PASSWORD}).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")
    assert client.get(_url(terminal)).status_code == 200


def test_it_shows_a_terminal_with_its_tickets(merchant_user, terminal):
    _ticket(terminal)
    data = _api(merchant_user).get(_url(terminal)).json()
    assert data["serial_number"] == terminal.serial_number
    assert data["tickets"] == [
        {"service_order_no": "SO20261124-0001", "status": "reported", "fault_type": "printer",
         "created_at": data["tickets"][0]["created_at"]}
    ]


def test_it_answers_404_for_another_merchants_terminal(other_merchant_user, terminal):
    api = _api(other_merchant_user)
    assert api.get(_url(terminal)).status_code == 404
    assert api.get(f"{LIST}NOSUCHSERIAL/").status_code == 404


def test_it_runs_the_same_queries_for_5_and_200_terminals(agent, django_assert_max_num_queries):
    for n in range(5):
        _ticket(ActiveTerminalFactory(), n)
    api = _api(agent)
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(LIST, {"status": "active"}).status_code == 200
    small = len(ctx.captured_queries)
    for _ in range(195):
        ActiveTerminalFactory()
    with django_assert_max_num_queries(small):
        assert len(api.get(LIST, {"status": "active"}).json()["results"]) == 25


def test_it_keeps_the_detail_query_count_flat(agent, terminal, django_assert_max_num_queries):
    _ticket(terminal)
    api = _api(agent)
    with CaptureQueriesContext(connection) as ctx:
        api.get(_url(terminal))
    for n in range(2, 30):
        _ticket(terminal, n, status="closed")
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        assert len(api.get(_url(terminal)).json()["tickets"]) == 29


# --- Deregistration ------------------------------------------------------------------------------


def test_it_records_a_deregistration(reviewer, terminal):
    response = _api(reviewer).post(
        _url(terminal, "deregistration/"),
        {"method": "destroyed", "certificate_number": "XH-2026-0042", "witness": "刘审核", "date": "2026-03-01"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["method"], body["terminal_status"], body["date"]) == ("destroyed", "destroyed", "2026-03-01")
    assert body["recorded_by"] == reviewer.username
    terminal.refresh_from_db()
    assert terminal.status == Terminal.Status.DESTROYED


def test_it_defaults_the_date_to_today(reviewer, terminal):
    response = _api(reviewer).post(
        _url(terminal, "deregistration/"), {"method": "returned", "certificate_number": "R1", "witness": "W"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["date"] == timezone.localdate().isoformat()


def test_it_answers_400_with_field_errors(reviewer, terminal):
    response = _api(reviewer).post(_url(terminal, "deregistration/"), {"method": "melted"}, format="json")
    assert response.status_code == 400
    # The one error body: detail, code, and each field's errors as a list.
    body = response.json()
    assert set(body) == {"detail", "code", "method", "certificate_number", "witness"}
    assert body["code"] == "invalid" and all(isinstance(body[f], list) for f in ("method", "witness"))
    assert not Deregistration.objects.exists()


def test_it_answers_409_when_not_allowed_now(reviewer, terminal):
    api = _api(reviewer)
    data = {"method": "destroyed", "certificate_number": "C1", "witness": "W"}
    assert api.post(_url(terminal, "deregistration/"), data, format="json").status_code == 201
    response = api.post(_url(terminal, "deregistration/"), data, format="json")
    assert response.status_code == 409
    assert "cannot be deregistered" in response.json()["detail"]
    assert Deregistration.objects.count() == 1


def test_it_answers_404_to_merchants_and_for_unknown_terminals(merchant_user, reviewer, terminal):
    data = {"method": "returned", "certificate_number": "C1", "witness": "W"}
    assert _api(merchant_user).post(_url(terminal, "deregistration/"), data, format="json").status_code == 404
    unknown = TerminalFactory.build(serial_number="NOSUCH00001")
    assert _api(reviewer).post(_url(unknown, "deregistration/"), data, format="json").status_code == 404
    assert not Deregistration.objects.exists()


def test_it_answers_403_to_staff_who_do_not_manage_the_inventory(agent, terminal):
    data = {"method": "returned", "certificate_number": "C1", "witness": "W"}
    assert _api(agent).post(_url(terminal, "deregistration/"), data, format="json").status_code == 403
    assert not Deregistration.objects.exists()


def test_it_documents_the_endpoints(agent):
    client = _api(agent)
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert "/api/v1/terminals/{serial_number}/deregistration/" in paths
    post = paths["/api/v1/terminals/{serial_number}/deregistration/"]["post"]
    assert {"201", "400", "403", "404", "409"} <= set(post["responses"])
    params = {p["name"] for p in paths["/api/v1/terminals/"]["get"]["parameters"]}
    assert {"status", "merchant"} <= params
