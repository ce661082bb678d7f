"""An API transition costs a fixed, small number of queries, however many people it notifies."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from notifications.models import Notification
from repairs.models import FaultTicket
from tests.factories import EngineerFactory, MerchantUserFactory
from tests.notifications.factories import PreferenceFactory, WebhookSubscriberFactory
from tests.repairs.factories import fields_for

pytestmark = pytest.mark.django_db
S = FaultTicket.Status

# (from, to, who, queries) with token authentication, as the benchmark calls it. The typical step
# is 11 in production: token, the locked ticket (the visibility check too), the step's own write,
# the ticket, the event, recipients with their preferences, webhook subscribers, the outbox
# INSERT, and the answer's events, network tests and repair request. Here the test's transaction
# turns the transition's into a savepoint: 2 more. Taking a terminal in or handing it over also
# moves the terminal (terminals.services: a read, a savepoint, its lock, update and event); handing
# it over also asks whether a loaner is still out with the merchant (repairs.loans: one query).
SAVEPOINT = 2
STEPS = [
    (S.REMOTE_DIAGNOSIS, S.AWAITING_BRANCH, "agent", 11 + SAVEPOINT),
    (S.AWAITING_BRANCH, S.AT_BRANCH, "engineer", 17 + SAVEPOINT),
    (S.REPAIRING, S.NETWORK_TESTING, "engineer", 11 + SAVEPOINT),
    (S.NETWORK_TESTING, S.REPAIRING, "engineer", 11 + SAVEPOINT),
    (S.READY_FOR_PICKUP, S.PICKED_UP, "engineer", 19 + SAVEPOINT),
]


def transition(user, ticket, to):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    body = {"to": to, **fields_for(ticket, ticket.status, to)}
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(f"/api/v1/tickets/{ticket.service_order_no}/transition/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == to
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("source", "target", "who", "limit"), STEPS)
def test_it_makes_an_api_transition_in_few_queries_whoever_it_notifies(
    people, ticket_at, source, target, who, limit, django_capture_on_commit_callbacks
):
    few, many = ticket_at(source), ticket_at(source)
    with django_capture_on_commit_callbacks() as callbacks:
        small = transition(people[who], few, target)
    assert small <= limit
    assert len(callbacks) <= 1  # one delivery task for the whole event

    # More people to tell: merchant users (some with preferences), engineers of the branch, a
    # bank system.
    for i in range(4):
        user = MerchantUserFactory(merchant=people["merchant"].merchant, phone=f"1380000{i:04d}")
        if i % 2:
            PreferenceFactory(user=user, channels={"ticket.status": ["in_app", "sms"]})
    EngineerFactory.create_batch(2, branch=people["engineer"].branch)
    WebhookSubscriberFactory(kinds=[])
    before = Notification.objects.count()
    with django_capture_on_commit_callbacks() as callbacks:
        assert transition(people[who], many, target) == small
    assert Notification.objects.count() - before > 5
    assert len(callbacks) == 1
