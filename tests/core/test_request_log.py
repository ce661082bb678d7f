"""One log line per request, with its request id, the user and their role; JSON on demand; the
request id travels into the deliveries the request causes."""

import json
import logging
import logging.config
import uuid

import pytest
from django.core import mail

from notifications.services import notify
from portal.core.logs import RequestIdFilter
from tests.factories import MerchantUserFactory

pytestmark = pytest.mark.django_db


def _request_lines(caplog):
    return [r for r in caplog.records if r.name == "portal.request"]


def test_it_logs_one_line_per_request_with_its_id_user_and_role(client, agent, caplog):
    client.force_login(agent)
    caplog.handler.addFilter(RequestIdFilter())  # what the console handler adds to each line
    with caplog.at_level(logging.INFO, logger="portal.request"):
        response = client.get("/tickets/")
    (record,) = _request_lines(caplog)
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    assert record.request_id == request_id
    assert (record.method, record.path, record.status, record.user_id, record.role) == (
        "GET", "/tickets/", 200, agent.pk, "agent"
    )
    assert record.duration_ms > 0
    assert "GET /tickets/ 200" in record.getMessage() and f"user={agent.pk} role=agent" in record.getMessage()


def test_it_keeps_a_valid_request_id_sent_by_the_proxy_and_replaces_a_bad_one(client):
    mine = uuid.uuid4().hex
    assert client.get("/healthz", HTTP_X_REQUEST_ID=mine)["X-Request-ID"] == mine
    assert client.get("/healthz", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"] != "<script>"


def test_it_logs_anonymous_requests_too(client, caplog):
    with caplog.at_level(logging.INFO, logger="portal.request"):
        client.get("/accounts/login/")
    (record,) = _request_lines(caplog)
    assert record.user_id is None and record.role == "" and "user=- role=-" in record.getMessage()


def test_it_writes_json_lines_when_asked():
    from django.conf import settings

    formatter = logging.config.dictConfigClass({**settings.LOGGING}).configure_formatter(
        settings.LOGGING["formatters"]["json"]
    )
    record = logging.LogRecord("portal.request", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.request_id, record.status, record.user_id = "abc123", 200, 7
    line = json.loads(formatter.format(record))
    assert line["message"] == "GET /x" and line["request_id"] == "abc123" and line["level"] == "INFO"
    assert line["status"] == 200 and line["user_id"] == 7 and line["logger"] == "portal.request"


def test_it_puts_the_request_id_on_the_email_a_request_causes(rf, django_capture_on_commit_callbacks):
    from django_guid import clear_guid, set_guid

    user = MerchantUserFactory(email="m@example.test", phone="")
    set_guid("0123456789abcdef0123456789abcdef")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            notify(kind="ticket.status", event_key="log-test:1", recipients=[user],
                   context={"service_order_no": "SO1", "to_status": "closed"})
    finally:
        clear_guid()
    (message,) = mail.outbox
    assert message.extra_headers["X-Request-ID"] == "0123456789abcdef0123456789abcdef"
