"""/metrics: Prometheus figures for an authorised scraper only; 404 to anyone else."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import delivery
from notifications.models import Notification, WorkerHeartbeat
from tests.factories import MerchantUserFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-scraper-token"
S = Notification.Status


@pytest.fixture
def scraper(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return lambda **extra: client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **extra)


def _value(text, line_start):
    (line,) = [line for line in text.splitlines() if line.startswith(line_start + " ")]
    return float(line.rsplit(" ", 1)[1])


def test_it_is_not_found_without_a_token_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_it_is_not_found_for_a_wrong_or_missing_token(client, scraper, admin_user):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 404
    client.force_login(admin_user)  # a signed-in administrator is no scraper either
    assert client.get("/metrics").status_code == 404


def test_it_answers_only_from_the_allowed_addresses_when_they_are_set(scraper, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.7"]
    assert scraper(REMOTE_ADDR="127.0.0.1").status_code == 404
    assert scraper(REMOTE_ADDR="10.1.2.3").status_code == 200
    assert scraper(REMOTE_ADDR="192.0.2.7").status_code == 200


def test_it_reports_the_outbox_deliveries_heartbeats_and_requests(scraper, client):
    user = MerchantUserFactory(phone="13800002222")
    old = NotificationFactory(recipient=user, channel="email", status=S.PENDING, next_attempt_at=timezone.now())
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=7))
    NotificationFactory(recipient=user, channel="sms", status=S.HELD, next_attempt_at=timezone.now())
    sent = NotificationFactory(recipient=user, channel="sms", status=S.PENDING, next_attempt_at=timezone.now())
    assert delivery.deliver(sent.pk) == "sent"
    WorkerHeartbeat.objects.create(name="celery@w1:42:1", started_at=timezone.now(), beat_at=timezone.now())
    client.get("/healthz")

    response = scraper()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert _value(text, 'portal_outbox_rows{channel="email",status="pending"}') == 1
    assert _value(text, 'portal_outbox_rows{channel="sms",status="held"}') == 1
    assert 7 * 60 <= _value(text, 'portal_outbox_oldest_pending_age_seconds{channel="email"}') < 8 * 60
    assert _value(text, 'portal_outbox_oldest_pending_age_seconds{channel="sms"}') == 0  # held on purpose
    assert _value(text, 'portal_notifications_delivered_total{channel="sms",outcome="sent"}') >= 1
    assert 'portal_notifications_delivered_total{channel="webhook",outcome="failed"}' in text
    assert abs(_value(text, 'portal_worker_heartbeat_timestamp_seconds{worker="celery@w1:42:1"}')
               - timezone.now().timestamp()) < 60
    # django-prometheus: requests by view and the database's queries
    assert 'django_http_responses_total_by_status_view_method_total{method="GET",status="200",view="healthz"}' in text
    assert "django_db_execute_total" in text


def test_it_reports_the_celery_queue_lengths_from_redis(scraper, settings):
    import redis

    from tests.notifications.worker_support import RedisServer

    server = RedisServer()  # our own, never the shared one
    server.start()
    try:
        settings.REDIS_URL = server.url
        client = redis.Redis.from_url(server.url)
        client.rpush("deliveries", "a", "b", "c")
        text = scraper().content.decode()
        assert _value(text, "portal_broker_up") == 1
        assert _value(text, 'portal_celery_queue_length{queue="deliveries"}') == 3
        assert _value(text, 'portal_celery_queue_length{queue="celery"}') == 0
        server.stop()
        assert _value(scraper().content.decode(), "portal_broker_up") == 0  # and still 200
    finally:
        server.stop()
