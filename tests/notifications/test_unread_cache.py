"""The unread badge is cached per user and forgotten by every write of an inbox row.

These tests commit (transaction=True): the count is only cached outside a transaction, as on a
real request."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications import selectors, services
from notifications.models import Notification
from tests.factories import MerchantUserFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _badge(client):
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(reverse("notifications:badge")).content.decode()
    counted = [q for q in ctx.captured_queries if 'FROM "notifications_notification"' in q["sql"]]
    return body, len(counted)


@pytest.fixture
def merchant(client):
    user = MerchantUserFactory()
    client.force_login(user)
    return user


def test_it_counts_once_and_then_reads_the_count_from_the_cache(client, merchant):
    NotificationFactory.create_batch(2, recipient=merchant)
    body, queries = _badge(client)
    assert ">2</span>" in body and queries == 1
    body, queries = _badge(client)
    assert ">2</span>" in body and queries == 0


def test_a_new_notification_shows_at_once(client, merchant):
    _badge(client)
    services.notify(kind="ticket.status", event_key="cache-test:1", recipients=[merchant],
                    context={"service_order_no": "SO20261202-0001", "to_status": "reported"})
    assert Notification.objects.filter(recipient=merchant, channel="in_app").count() == 1
    body, _queries = _badge(client)
    assert ">1</span>" in body


def test_reading_clears_the_badge_at_once(client, merchant):
    first, _second = NotificationFactory.create_batch(2, recipient=merchant)
    _badge(client)
    client.post(reverse("notifications:read", args=[first.pk]))
    assert ">1</span>" in _badge(client)[0]
    client.post(reverse("notifications:read_all"))
    body = _badge(client)[0]
    assert ">0</span>" in body and "d-none" in body


def test_a_row_saved_or_deleted_directly_is_forgotten_too(client, merchant):
    n = NotificationFactory(recipient=merchant)
    assert ">1</span>" in _badge(client)[0]
    n.read_at = timezone.now()
    n.save()
    assert selectors.unread_count(merchant) == 0
    other = NotificationFactory(recipient=merchant)
    assert selectors.unread_count(merchant) == 1
    other.delete()
    assert selectors.unread_count(merchant) == 0


def test_a_count_taken_inside_a_transaction_is_not_kept(merchant):
    with transaction.atomic():
        NotificationFactory(recipient=merchant)
        assert selectors.unread_count(merchant) == 1
        transaction.set_rollback(True)
    assert selectors.unread_count(merchant) == 0
