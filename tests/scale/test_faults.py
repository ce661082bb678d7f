"""PostgreSQL briefly unreachable: /healthz says 503 while it is, and the portal recovers by
itself when it is back, without a restart. The outage is a TCP proxy between the portal and the
shared PostgreSQL server that the test cuts and mends (the server itself is never stopped)."""

import time

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from tests.conftest import requires_postgres
from tests.scale.proxy import TcpProxy
from tests.security.registry import Owner

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def line():
    """The default connection, rerouted through a proxy for the test."""
    params = connection.settings_dict
    original = params["HOST"], params["PORT"]
    proxy = TcpProxy(params["HOST"] or "127.0.0.1", params["PORT"] or 5432).start()
    connection.close()
    params["HOST"], params["PORT"] = "127.0.0.1", str(proxy.port)
    yield proxy
    proxy.stop()
    connection.close()
    params["HOST"], params["PORT"] = original


def test_it_reports_the_outage_and_recovers_without_a_restart(client, line):
    owner = Owner()
    owner.ticket  # noqa: B018
    token = Token.objects.create(user=owner.user).key
    api = {"HTTP_AUTHORIZATION": f"Token {token}"}

    response = client.get("/healthz")
    assert response.status_code == 200
    assert connection.connection.info.port == line.port  # really through the proxy

    line.stop()
    started = time.monotonic()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert time.monotonic() - started < 6  # connect_timeout bounds how long a probe can hang
    assert client.get("/healthz").status_code == 503  # and stays so while the line is cut

    line.start()
    for _ in range(20):
        response = client.get("/healthz")
        if response.status_code == 200:
            break
        time.sleep(0.25)
    assert response.status_code == 200, response.json()
    response = client.get("/api/v1/tickets/", **api)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
