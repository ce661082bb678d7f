"""Integration tests with a REAL Celery worker on Redis and the PostgreSQL test database.

The fixture starts our own redis-server (never the shared one: a test stops it), an SMTP sink, a
webhook receiver and `celery -A portal worker` as a subprocess whose DATABASE_URL points at the
test database; `django_db(transaction=True)` commits the rows so the worker sees them.
"""

import os
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from notifications import services
from notifications.models import Notification
from notifications.services import notify
from portal.celery import app as celery_app
from tests.factories import MerchantUserFactory, UserFactory
from tests.notifications.factories import WebhookSubscriberFactory
from tests.notifications.worker_support import (
    RedisServer,
    SmtpSink,
    WebhookReceiver,
    Worker,
    configure_celery,
    sms_lines,
    wait_for,
)

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)"),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the worker process shares the test database: needs PostgreSQL (set DATABASE_URL)",
    ),
]

S = Notification.Status
NOTIFICATIONS_DOC = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"


def _database_url():
    db = connection.settings_dict
    auth = db["USER"] or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """Our redis-server, SMTP sink, webhook receiver and a worker on the test database."""
    tmp = tmp_path_factory.mktemp("worker")
    redis_server = RedisServer()
    redis_server.start()
    smtp = SmtpSink()
    smtp.start()
    hook = WebhookReceiver()
    hook.start()
    with django_db_blocker.unblock():
        database_url = _database_url()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": "worker-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "0",
        "REDIS_URL": redis_server.url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "SMS_BACKEND": "tests.notifications.worker_support.SlowFileBackend",
        "SMS_FILE_PATH": str(tmp / "sms.log"),
        "SLOW_SMS_FLAG": str(tmp / "slow-sms"),
        "NOTIFICATIONS_RETRY_BASE_SECONDS": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "LOG_LEVEL": "INFO",
    }
    worker = Worker(env, tmp / "worker.log")
    worker.start()

    # This test process publishes to our Redis instead of running tasks in-process. The settings
    # were read with the CELERY_ namespace: celery 5.6 looks those names up first, so set both.
    saved = {"broker_url": celery_app.conf.broker_url, "task_always_eager": celery_app.conf.task_always_eager}
    configure_celery(broker_url=redis_server.url, task_always_eager=False)
    assert celery_app.conf.broker_url == redis_server.url and not celery_app.conf.task_always_eager

    yield type(
        "Stack",
        (),
        {
            "redis": redis_server,
            "smtp": smtp,
            "hook": hook,
            "worker": worker,
            "tmp": tmp,
            "sms_path": env["SMS_FILE_PATH"],
            "slow_flag": env["SLOW_SMS_FLAG"],
        },
    )

    worker.stop()
    configure_celery(**saved)
    hook.stop()
    smtp.stop()
    redis_server.stop()


@pytest.fixture
def fresh(stack):
    stack.smtp.messages.clear()
    stack.hook.requests.clear()
    Path(stack.sms_path).unlink(missing_ok=True)
    Path(stack.slow_flag + ".started").unlink(missing_ok=True)
    return stack


CONTEXT = {
    "service_order_no": "SO20261124-0042",
    "terminal": "SN00000042",
    "from_status": "network_testing",
    "to_status": "ready_for_pickup",
    "note": "internal: board swapped",
}


def _transition(recipients, key):
    """What a ticket transition does: its change and its notifications in one transaction."""
    with transaction.atomic():
        return notify(
            kind="ticket.status",
            event_key=key,
            recipients=recipients,
            context=CONTEXT,
            url="/tickets/SO20261124-0042/",
        )


def _all_sent(n):
    return lambda: Notification.objects.filter(status=S.SENT).count() == n


def _readme_verifier():
    """The verification recipe exactly as the documentation gives it (docs/notifications.md)."""
    text = NOTIFICATIONS_DOC.read_text(encoding="utf-8")
    section = text[text.index("## Verifying a webhook") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace = {}
    exec(code, namespace)  # noqa: S102 - our own documentation
    return namespace["verify_portal_webhook"]


def test_it_delivers_one_transition_exactly_once_per_recipient_and_channel(fresh):
    zh = MerchantUserFactory(language="zh-hans", phone="13800000001", email="zh@example.test")
    en = UserFactory(language="en", phone="13800000002", email="en@example.test")
    subscriber = WebhookSubscriberFactory(url=fresh.hook.url, kinds=["ticket.status"])
    rows = _transition([zh, en], "ticket-event:1001")
    # in-app ×2, e-mail ×2, SMS for the merchant (staff default: no SMS), one webhook
    assert len(rows) == 6
    wait_for(_all_sent(6), timeout=30, message="six deliveries")

    assert len(fresh.smtp.messages) == 2
    by_to = {m["To"]: m for m in fresh.smtp.messages}
    assert "故障工单 SO20261124-0042" in by_to["zh@example.test"]["Subject"]
    assert "待取机" in by_to["zh@example.test"].get_body(("plain",)).get_content()
    assert by_to["en@example.test"]["Subject"] == "Fault ticket SO20261124-0042: Ready for pickup"
    assert "Ready for pickup" in by_to["en@example.test"].get_body(("html",)).get_content()
    # The internal note reached the agent, never the merchant.
    assert "board swapped" in by_to["en@example.test"].get_body(("plain",)).get_content()
    assert "board swapped" not in by_to["zh@example.test"].get_body(("plain",)).get_content()

    sms = sms_lines(fresh.sms_path)
    assert [m["to"] for m in sms] == ["13800000001"] and len(sms[0]["text"]) <= 70

    assert len(fresh.hook.requests) == 1
    request = fresh.hook.requests[0]
    assert _readme_verifier()(subscriber.secret, request["headers"], request["body"])
    assert not _readme_verifier()("wrong-secret", request["headers"], request["body"])
    assert not _readme_verifier()(subscriber.secret, request["headers"], request["body"] + b" ")


def test_it_sends_once_when_the_task_is_duplicated(fresh):
    user = MerchantUserFactory(phone="13800000003", email="dup@example.test")
    rows = _transition([user], "ticket-event:1002")
    ids = [n.pk for n in rows if n.status == S.PENDING]
    for _ in range(4):
        services.enqueue(ids)
    wait_for(_all_sent(3), timeout=30, message="three deliveries")
    time.sleep(2)  # the duplicates run meanwhile, and do nothing
    assert len(fresh.smtp.messages) == 1
    assert len(sms_lines(fresh.sms_path)) == 1
    assert set(Notification.objects.exclude(channel="in_app").values_list("attempts", flat=True)) == {1}


def test_it_commits_without_the_broker_and_delivers_everything_once_after(fresh):
    fresh.redis.stop()
    try:
        users = [
            MerchantUserFactory(phone=f"1380000010{i}", email=f"outage{i}@example.test") for i in range(3)
        ]
        for i, user in enumerate(users):
            _transition([user], f"ticket-event:20{i}")  # commits even though nothing can be queued
        assert Notification.objects.count() == 9
        assert Notification.objects.filter(status=S.PENDING).count() == 6
    finally:
        fresh.redis.start()
    # A minute later, the requeue job of beat finds them.
    Notification.objects.filter(status=S.PENDING).update(
        next_attempt_at=timezone.now() - timedelta(seconds=61)
    )
    assert services.requeue_stale() == 6
    wait_for(_all_sent(9), timeout=60, message="every delivery after the outage")
    assert sorted(m["To"] for m in fresh.smtp.messages) == [f"outage{i}@example.test" for i in range(3)]
    assert len(sms_lines(fresh.sms_path)) == 3
    # Nothing is left for a later run to send again.
    assert services.requeue_stale(now=timezone.now() + timedelta(minutes=5)) == 0


def test_it_completes_a_killed_workers_delivery_once_after_restart(fresh, settings):
    Path(fresh.slow_flag).touch()
    try:
        user = MerchantUserFactory(phone="13800000200", email="", language="zh-hans")
        rows = _transition([user], "ticket-event:3001")
        sms_row = next(n for n in rows if n.channel == "sms")
        wait_for(lambda: Path(fresh.slow_flag + ".started").exists(), timeout=30, message="the SMS to start")
        assert Notification.objects.get(pk=sms_row.pk).status == S.SENDING
        fresh.worker.kill()  # SIGKILL in the middle of sending: nothing was sent, nothing acknowledged
    finally:
        Path(fresh.slow_flag).unlink(missing_ok=True)
    assert sms_lines(fresh.sms_path) == []
    fresh.worker.start()
    # The requeue job after the stale time (the delivery task's hard limit has long passed by then).
    stale = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS_STALE_SENDING_SECONDS + 1)
    Notification.objects.filter(pk=sms_row.pk).update(claimed_at=stale)
    assert services.requeue_stale() == 1
    wait_for(lambda: Notification.objects.get(pk=sms_row.pk).status == S.SENT, timeout=30, message="the SMS")
    assert [m["to"] for m in sms_lines(fresh.sms_path)] == ["13800000200"]
    assert services.requeue_stale(now=timezone.now() + timedelta(minutes=5)) == 0


def test_it_completes_a_delivery_whose_pool_process_was_killed_at_once(fresh):
    """SIGKILL of the pool process only: the message goes back to the queue (acks_late and
    reject_on_worker_lost) and the redelivery, same task id, takes its own row back at once."""
    Path(fresh.slow_flag).touch()
    user = MerchantUserFactory(phone="13800000300", email="", language="en")
    sms_row = next(n for n in _transition([user], "ticket-event:4001") if n.channel == "sms")
    wait_for(lambda: Path(fresh.slow_flag + ".started").exists(), timeout=30, message="the SMS to start")
    Path(fresh.slow_flag).unlink()
    children = (
        Path(f"/proc/{fresh.worker.proc.pid}/task/{fresh.worker.proc.pid}/children").read_text().split()
    )
    for pid in children:
        os.kill(int(pid), 9)
    wait_for(lambda: Notification.objects.get(pk=sms_row.pk).status == S.SENT, timeout=30, message="the SMS")
    assert [m["to"] for m in sms_lines(fresh.sms_path)] == ["13800000300"]
    assert Notification.objects.get(pk=sms_row.pk).attempts == 2


def test_it_survives_a_broker_outage_while_delivering_and_sends_every_row_once(fresh):
    """Redis dies while the worker is busy and comes back (empty, as after a restart without
    persistence): the same worker process goes on, and every row is sent exactly once."""
    fresh.worker.stop()
    fresh.worker.lean = False  # gossip, mingle and heartbeats on, as the Procfile runs it
    fresh.worker.start()
    subscriber = WebhookSubscriberFactory(url=fresh.hook.url, kinds=["ticket.status"])
    fresh.hook.delay = 0.1
    events = 30
    try:
        for i in range(events):
            user = MerchantUserFactory(phone=f"139{i:08d}", email=f"busy{i}@example.test")
            _transition([user], f"ticket-event:outage-busy-{i}")  # e-mail, SMS and the webhook
        assert Notification.objects.filter(subscriber=subscriber).count() == events
        wait_for(lambda: len(fresh.hook.requests) >= 2, timeout=30, message="the worker to be delivering")
        pid = fresh.worker.proc.pid
        fresh.redis.stop()
        time.sleep(5)  # the worker notices and keeps trying to reconnect
        fresh.redis.start()
    finally:
        fresh.hook.delay = 0
    # The broker lost its queue; the requeue job of beat puts back what is still pending.
    def requeued_all():
        Notification.objects.filter(status=S.PENDING).update(
            next_attempt_at=timezone.now() - timedelta(seconds=61)
        )
        services.requeue_stale()
        return not Notification.objects.exclude(status=S.SENT).exists()

    wait_for(requeued_all, timeout=60, interval=2, message="every delivery after the outage")
    assert fresh.worker.proc.poll() is None and fresh.worker.proc.pid == pid, "the worker exited"
    deliveries = [r["headers"]["X-Portal-Delivery"] for r in fresh.hook.requests]
    assert len(deliveries) == events and len(set(deliveries)) == events
    assert sorted(m["To"] for m in fresh.smtp.messages) == sorted(f"busy{i}@example.test" for i in range(events))
    assert sorted(m["to"] for m in sms_lines(fresh.sms_path)) == sorted(f"139{i:08d}" for i in range(events))


def _p95(values):
    values = sorted(values)
    return values[max(0, round(0.95 * len(values)) - 1)]


def test_it_sends_what_a_killed_worker_held_within_seconds_of_the_kill(fresh):
    """Events committed steadily while the worker runs, is SIGKILLed, and is restarted a second
    later (as systemd's Restart=always does): rows it was sending come back when its heartbeat is
    NOTIFICATIONS_WORKER_LOST_SECONDS old, instead of after the 180 s stale time."""
    subscriber = WebhookSubscriberFactory(url=fresh.hook.url, kinds=["ticket.status"])
    fresh.hook.delay = 0.2
    committed = {}
    publish = []

    def commit(i):
        started = time.time()  # the transaction is a few milliseconds; its commit queues the task
        (row,) = _transition([], f"ticket-event:kill-{i}")
        committed[row.pk] = started
        publish.append(time.time() - started)

    try:
        for i in range(20):  # steady state: 5 events a second
            commit(i)
            time.sleep(0.2)
        killed_at = time.time()
        fresh.worker.kill()
        for i in range(20, 30):  # while it is down
            commit(i)
            time.sleep(0.1)
        fresh.worker.start()
        for i in range(30, 40):  # after its restart
            commit(i)
            time.sleep(0.2)
        wait_for(
            lambda: Notification.objects.filter(subscriber=subscriber, status=S.SENT).count() == 40,
            timeout=60,
            interval=0.5,
            message="every webhook after the kill",
        )
    finally:
        fresh.hook.delay = 0
    sent = {
        pk: at.timestamp()
        for pk, at in Notification.objects.filter(subscriber=subscriber).values_list("pk", "sent_at")
    }
    normal = [sent[pk] - committed[pk] for pk in committed if sent[pk] < killed_at]
    around = [sent[pk] - max(killed_at, committed[pk]) for pk in committed if sent[pk] >= killed_at]
    print(
        f"\nnormal commit→sent: n={len(normal)} p95={_p95(normal):.2f}s max={max(normal):.2f}s; "
        f"around the kill: n={len(around)} p95={_p95(around):.2f}s max={max(around):.2f}s; "
        f"commit+publish max {max(publish):.2f}s"
    )
    assert len(normal) >= 10 and _p95(normal) <= 1.0
    assert around and _p95(around) <= 30
    # Every row reached the receiver; a row the worker was sending when it died may have reached
    # it twice (at most one per delivery in flight, the documented edge), never more.
    deliveries = [int(r["headers"]["X-Portal-Delivery"]) for r in fresh.hook.requests]
    assert set(deliveries) == set(committed)
    assert len(deliveries) - len(set(deliveries)) <= fresh.worker.concurrency


def test_it_follows_one_request_id_from_the_web_log_to_the_worker_mail_and_webhook(fresh, caplog):
    """An agent takes a ticket over the API; the request's id is in its log line, in the worker's
    log lines for the deliveries, and in the e-mail's and the webhook's headers."""
    import logging

    from rest_framework.test import APIClient

    from portal.core.logs import RequestIdFilter
    from tests.repairs.factories import make_ticket

    merchant = MerchantUserFactory(email="follow@example.test", phone="13800000777", language="en")
    agent = UserFactory(role="agent", email="", phone="")
    WebhookSubscriberFactory(url=fresh.hook.url, kinds=[])
    ticket = make_ticket({"merchant": merchant, "agent": agent, "engineer": None})
    wait_for(lambda: not Notification.objects.filter(status__in=[S.PENDING, S.SENDING]).exists(), timeout=30,
             message="the report's own deliveries")
    fresh.smtp.messages.clear()
    fresh.hook.requests.clear()

    client = APIClient()
    client.force_authenticate(agent)
    caplog.handler.addFilter(RequestIdFilter())  # what the console handler adds to each line
    with caplog.at_level(logging.INFO, logger="portal.request"):
        response = client.post(
            f"/api/v1/tickets/{ticket.service_order_no}/transition/", {"to": "remote_diagnosis"}, format="json"
        )
    assert response.status_code == 200, response.content
    request_id = response["X-Request-ID"]
    (line,) = [r for r in caplog.records if r.name == "portal.request"]
    assert line.request_id == request_id and line.path.endswith("/transition/")
    assert line.user_id == agent.pk and line.role == "agent" and line.status == 200

    wait_for(lambda: fresh.smtp.messages and fresh.hook.requests, timeout=30, message="the e-mail and the webhook")
    assert [m["X-Request-ID"] for m in fresh.smtp.messages] == [request_id]
    # (urllib sends it as "X-request-id": header names are case-insensitive)
    assert [{k.lower(): v for k, v in r["headers"].items()}["x-request-id"] for r in fresh.hook.requests] == [
        request_id
    ]
    worker_lines = [line for line in Path(fresh.worker.log_path).read_text().splitlines() if request_id in line]
    assert any("succeeded" in line for line in worker_lines), worker_lines
