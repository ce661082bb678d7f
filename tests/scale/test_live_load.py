"""50 clients on the main pages of a live server for a bounded time: not one 5xx.

CI keeps it short (SCALE_LOAD_SECONDS, default 10 s); bench/run.sh measures the same pages at
full size under gunicorn. The data is a small bulk load (the shape of the full one).
"""

import os
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 50
SECONDS = float(os.environ.get("SCALE_LOAD_SECONDS", "10"))


def session_cookie(user):
    c = Client()
    c.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={c.cookies[settings.SESSION_COOKIE_NAME].value}"


@pytest.fixture
def world():
    from bench.bulk import load
    from portal.accounts.models import User
    from repairs.models import FaultTicket

    load(scale=0.002, seed=3, log=lambda msg: None)
    merchant = User.objects.filter(role="merchant", is_merchant_owner=True).order_by("pk").first()
    agent = User.objects.filter(role="agent").order_by("pk").first()
    engineer = User.objects.filter(role="engineer").order_by("pk").first()
    ticket = FaultTicket.objects.filter(merchant_id=merchant.merchant_id).order_by("pk").first()
    other = FaultTicket.objects.order_by("-pk").first()
    token = Token.objects.create(user=agent).key
    as_merchant, as_agent, as_engineer = (
        {"Cookie": session_cookie(u)} for u in (merchant, agent, engineer)
    )
    return [
        ("/", as_merchant), ("/tickets/", as_merchant), (f"/tickets/{ticket.service_order_no}/", as_merchant),
        ("/terminals/mine/", as_merchant), ("/applications/", as_merchant), ("/notifications/", as_merchant),
        ("/", as_agent), ("/tickets/?queue=open&status=remote_diagnosis", as_agent), ("/tickets/", as_engineer),
        (f"/track/?no={other.service_order_no}&tag={other.terminal.tag_number}", {}), ("/accounts/login/", {}),
        ("/healthz", {}), ("/api/v1/tickets/", {"Authorization": f"Token {token}"}),
    ]


@pytest.fixture
def short_lived_connections():
    # Every request of the live server runs in a new thread with its own connection: close it at
    # the end of the request, so 50 clients never hold more than 50 of the server's 100 slots.
    params = connections.settings["default"]
    original = params.get("CONN_MAX_AGE", 0)
    params["CONN_MAX_AGE"] = 0
    yield
    params["CONN_MAX_AGE"] = original


def test_50_clients_get_no_server_error(live_server, world, short_lived_connections):
    deadline = time.monotonic() + SECONDS
    statuses = Counter()
    failures = []
    lock = threading.Lock()

    def client(n):
        i = n
        while time.monotonic() < deadline:
            path, headers = world[i % len(world)]
            i += 1
            request = urllib.request.Request(live_server.url + path, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except Exception as exc:  # noqa: BLE001 - a refused or dropped connection counts
                with lock:
                    failures.append(f"{path}: {exc!r}")
                continue
            with lock:
                statuses[(path, status)] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 60)

    errors = {k: v for k, v in statuses.items() if k[1] >= 500}
    assert not errors, errors
    assert not failures, failures[:5]
    total = sum(statuses.values())
    assert total >= CLIENTS, statuses
    # Every page answered as it should for its visitor (tracking may be rate-limited: 429).
    assert {status for (_path, status) in statuses} <= {200, 429}, statuses
