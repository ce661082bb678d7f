"""Delivery of outbox rows in eager mode: claim once, retries with backoff, failure, quiet hours,
languages, SMS length and what a merchant may read."""

import json
from datetime import datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from notifications import delivery, services, sms, worker
from notifications.models import Notification, WorkerHeartbeat
from notifications.tasks import deliver_notification, deliver_notifications, requeue_stale
from tests.factories import MerchantUserFactory, UserFactory
from tests.notifications.factories import NotificationFactory, PreferenceFactory

pytestmark = pytest.mark.django_db

C = Notification.Channel
S = Notification.Status
SHANGHAI = ZoneInfo("Asia/Shanghai")


def pending(channel=C.EMAIL, **kw):
    kw.setdefault("recipient", MerchantUserFactory(phone="13800001111"))
    return NotificationFactory(channel=channel, status=S.PENDING, next_attempt_at=timezone.now(), **kw)


def test_it_sends_once_when_the_task_runs_twice():
    n = pending()
    assert deliver_notification.delay(n.pk).get() == "sent"
    assert deliver_notification.delay(n.pk).get() == "skipped"
    assert len(mail.outbox) == 1
    n.refresh_from_db()
    assert n.status == S.SENT and n.attempts == 1 and n.sent_at is not None


def test_it_lets_a_redelivered_message_take_back_its_own_row():
    n = pending()
    assert delivery.claim([n.pk], "task-1") == 1
    assert delivery.claim([n.pk], "task-2") == 0
    assert delivery.deliver(n.pk, "task-1") == "sent"
    assert len(mail.outbox) == 1


def test_it_delivers_an_events_rows_in_one_task_each_claimed_once(sms_outbox):
    user = MerchantUserFactory(phone="13800001111")
    rows = [pending(C.EMAIL, recipient=user), pending(C.SMS, recipient=user), pending(C.EMAIL)]
    ids = [n.pk for n in rows]
    delivery.claim([ids[0]], "someone-else")
    outcomes = deliver_notifications.delay(ids).get()
    assert outcomes == {str(ids[1]): "sent", str(ids[2]): "sent"}
    assert len(mail.outbox) == 1 and len(sms_outbox) == 1
    assert deliver_notifications.delay(ids).get() == {}


def test_it_queues_the_rest_of_a_batch_again_when_its_time_is_up(settings):
    settings.NOTIFICATIONS_BATCH_SECONDS = 0
    rows = [pending(), pending()]
    with mock.patch("notifications.delivery.enqueue") as enqueue:
        assert delivery.deliver_many([n.pk for n in rows]) == {}
    enqueue.assert_called_once_with([n.pk for n in rows])
    assert set(Notification.objects.values_list("status", "attempts")) == {(S.PENDING, 0)}


def test_it_retries_with_exponential_backoff_then_fails_keeping_the_error(settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 10
    n = pending()
    with mock.patch.dict(delivery.SENDERS, {C.EMAIL: mock.Mock(side_effect=OSError("SMTP down"))}):
        before = timezone.now()
        assert delivery.deliver(n.pk) == "retry"
        n.refresh_from_db()
        assert n.status == S.PENDING and n.attempts == 1 and "SMTP down" in n.last_error
        assert timedelta(seconds=9) < n.next_attempt_at - before < timedelta(seconds=12)
        # Not due yet: a duplicate or early message does nothing.
        assert delivery.deliver(n.pk) == "skipped"

        Notification.objects.filter(pk=n.pk).update(next_attempt_at=timezone.now())
        assert delivery.deliver(n.pk) == "retry"
        n.refresh_from_db()
        assert timedelta(seconds=19) < n.next_attempt_at - timezone.now() < timedelta(seconds=21)

        Notification.objects.filter(pk=n.pk).update(next_attempt_at=timezone.now())
        assert delivery.deliver(n.pk) == "failed"
    n.refresh_from_db()
    assert n.status == S.FAILED and n.attempts == 3 and n.last_error == "OSError: SMTP down"


def test_it_fails_at_once_on_a_permanent_error():
    n = pending()
    with mock.patch.dict(
        delivery.SENDERS, {C.EMAIL: mock.Mock(side_effect=delivery.PermanentError("HTTP 404"))}
    ):
        assert delivery.deliver(n.pk) == "failed"
    n.refresh_from_db()
    assert n.status == S.FAILED and n.attempts == 1


def test_it_retries_a_failed_delivery_from_the_log(django_capture_on_commit_callbacks):
    n = pending()
    Notification.objects.filter(pk=n.pk).update(status=S.FAILED, attempts=5, last_error="boom")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.retry(n)
    n.refresh_from_db()
    assert n.status == S.SENT and n.attempts == 1
    assert len(mail.outbox) == 1
    assert not services.retry(n)


def test_it_requeues_what_is_still_pending_after_a_minute():
    n = pending()
    Notification.objects.filter(pk=n.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=61))
    fresh = pending()
    assert requeue_stale.delay().get() == 1
    n.refresh_from_db()
    fresh.refresh_from_db()
    assert n.status == S.SENT and fresh.status == S.PENDING
    assert len(mail.outbox) == 1


def test_it_requeues_a_delivery_whose_worker_died_while_sending(settings):
    n = pending()
    assert delivery.claim([n.pk], "killed-task") == 1
    assert services.requeue_stale() == 0
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATIONS_STALE_SENDING_SECONDS + 1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert services.requeue_stale() == 1
    n.refresh_from_db()
    assert n.status == S.SENT and len(mail.outbox) == 1


def _claimed_by_worker(name, beat_ago):
    WorkerHeartbeat.objects.create(
        name=name, started_at=timezone.now(), beat_at=timezone.now() - timedelta(seconds=beat_ago)
    )
    n = pending()
    with mock.patch.object(worker, "_name", name):
        assert delivery.claim([n.pk], f"task-of-{name}") == 1
    return n


def test_it_takes_back_at_once_the_rows_of_a_worker_that_stopped_beating(settings):
    n = _claimed_by_worker("celery@a:1:1", beat_ago=settings.NOTIFICATIONS_WORKER_LOST_SECONDS + 1)
    assert Notification.objects.get(pk=n.pk).claimed_worker == "celery@a:1:1"
    assert services.reclaim_orphans() == 1
    n.refresh_from_db()
    assert n.status == S.SENT and len(mail.outbox) == 1


def test_it_never_takes_a_row_from_a_worker_that_still_beats(settings):
    n = _claimed_by_worker("celery@b:2:2", beat_ago=settings.NOTIFICATIONS_WORKER_LOST_SECONDS - 3)
    assert services.reclaim_orphans() == 0
    assert services.requeue_stale() == 0
    assert Notification.objects.get(pk=n.pk).status == S.SENDING and mail.outbox == []


def test_it_takes_back_the_rows_of_a_worker_whose_heartbeat_is_gone():
    n = pending()
    with mock.patch.object(worker, "_name", "celery@c:3:3"):  # never beat, or said goodbye
        delivery.claim([n.pk], "task-c")
    assert services.requeue_stale() == 1
    assert Notification.objects.get(pk=n.pk).status == S.SENT


def test_it_beats_under_a_name_unique_to_each_start():
    with mock.patch.object(worker, "_name", ""):
        worker.start("celery@host")
        first = worker.identity()
        assert first.startswith("celery@host:") and WorkerHeartbeat.objects.filter(name=first).exists()
        worker.stop()
        assert not WorkerHeartbeat.objects.filter(name=first).exists()


def test_it_holds_sms_during_quiet_hours_and_releases_them_after(sms_outbox):
    user = MerchantUserFactory(phone="13800001111")
    PreferenceFactory(user=user, quiet_start=time(22, 0), quiet_end=time(8, 0))
    night = datetime(2026, 11, 24, 23, 30, tzinfo=SHANGHAI)
    n = pending(channel=C.SMS, recipient=user)
    Notification.objects.filter(pk=n.pk).update(next_attempt_at=night)
    with mock.patch("django.utils.timezone.now", return_value=night):
        assert delivery.deliver(n.pk) == "held"
    n.refresh_from_db()
    assert n.status == S.HELD and n.attempts == 0
    assert n.next_attempt_at == datetime(2026, 11, 25, 8, 0, tzinfo=SHANGHAI)
    assert sms_outbox == []
    with mock.patch("django.utils.timezone.now", return_value=night + timedelta(hours=1)):
        assert services.requeue_stale() == 0
    morning = datetime(2026, 11, 25, 8, 0, 5, tzinfo=SHANGHAI)
    with mock.patch("django.utils.timezone.now", return_value=morning):
        assert services.requeue_stale() == 1
    n.refresh_from_db()
    assert n.status == S.SENT and len(sms_outbox) == 1


@pytest.mark.parametrize(
    ("start", "end", "at", "quiet"),
    [
        (time(22), time(8), time(23), True),
        (time(22), time(8), time(7, 59), True),
        (time(22), time(8), time(8), False),
        (time(12), time(14), time(13), True),
        (time(12), time(14), time(15), False),
    ],
)
def test_it_knows_quiet_hours_across_midnight(start, end, at, quiet):
    pref = PreferenceFactory(quiet_start=start, quiet_end=end)
    now = datetime.combine(datetime(2026, 11, 24).date(), at, tzinfo=SHANGHAI)
    assert (delivery.quiet_until(pref, now) is not None) is quiet


def test_it_sends_email_in_the_recipients_language_with_text_and_html():
    zh = MerchantUserFactory(language="zh-hans")
    en = UserFactory(language="en")
    for user in (zh, en):
        delivery.deliver(pending(recipient=user).pk)
    by_to = {m.to[0]: m for m in mail.outbox}
    zh_mail, en_mail = by_to[zh.email], by_to[en.email]
    assert "故障工单" in zh_mail.subject and "SO20261124-0001" in zh_mail.subject
    assert "Fault ticket SO20261124-0001" in en_mail.subject
    assert "远程诊断" in zh_mail.body and "Remote diagnosis" in en_mail.body
    html, mimetype = en_mail.alternatives[0]
    assert mimetype == "text/html" and "<html" in html and "Remote diagnosis" in html
    assert en_mail.extra_headers["Message-ID"].startswith("<notification-")


def test_it_keeps_sms_within_70_characters(sms_outbox):
    user = MerchantUserFactory(phone="13800001111", language="zh-hans")
    n = pending(
        channel=C.SMS,
        recipient=user,
        context={
            "service_order_no": "SO20261124-0007",
            "to_status": "awaiting_branch",
            "branch": "中国某某银行股份有限公司上海市浦东新区世纪大道特别长名字的第一营业网点" * 2,
            "branch_phone": "021-55550000",
        },
    )
    delivery.deliver(n.pk)
    text = sms_outbox[0]["text"]
    assert len(text) == 70 and text.endswith("…")
    assert sms.fit("短消息") == "短消息"
    assert len(sms.fit("长" * 200)) == 70


def test_it_renders_a_note_to_a_merchant_only_when_it_is_public():
    merchant = MerchantUserFactory(language="en")
    agent = UserFactory(language="en")
    internal = {"service_order_no": "SO1", "to_status": "repairing", "note": "INTERNAL: customer is rude"}
    for_merchant = NotificationFactory(recipient=merchant, context=internal)
    for_agent = NotificationFactory(recipient=agent, context=internal)
    for part in ("body.txt", "body.html", "sms.txt", "subject.txt", "line.txt"):
        assert "INTERNAL" not in delivery.render(for_merchant, part)
    assert "INTERNAL" in delivery.render(for_agent, "body.txt")

    public = NotificationFactory(
        recipient=merchant, context={**internal, "note": "", "public_note": "Bring your ID"}
    )
    assert "Bring your ID" in delivery.render(public, "body.txt")
    flagged = NotificationFactory(
        recipient=merchant, context={**internal, "note": "Fixed", "is_public": True}
    )
    assert "Fixed" in delivery.render(flagged, "body.html")


@pytest.mark.parametrize(
    "kind",
    [
        "ticket.status",
        "ticket.comment",
        "ticket.auto_closed",
        "application.status",
        "sla.breach",
        "maintenance.reminder",
        "deposit.eligible",
        "deposit.deadline",
        "something.new",
    ],
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_renders_every_kind_in_both_languages(kind, language):
    n = NotificationFactory(
        kind=kind,
        recipient=MerchantUserFactory(language=language),
        context={
            "service_order_no": "SO1",
            "terminal": "SN1",
            "number": "AP20261124-0003",
            "to_status": "approved",
            "cleaning_due": True,
            "paper_roll_due": True,
            "paper_roll_days": 30,
            "amount": "500",
            "deadline": "2026-12-31",
            "volume": 10,
            "target": 20,
            "sla_due_at": "2026-11-24 10:00",
        },
    )
    subject = delivery.render_subject(n)
    body = delivery.render(n, "body.txt")
    assert subject and body.strip()
    assert len(delivery.render_sms(n)) <= 70
    if language == "zh-hans":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in subject)


# --- webhooks ----------------------------------------------------------------------------------


@pytest.fixture
def receiver():
    from tests.notifications.worker_support import WebhookReceiver

    r = WebhookReceiver()
    r.start()
    yield r
    r.stop()


def webhook_row(receiver):
    from tests.notifications.factories import WebhookSubscriberFactory

    sub = WebhookSubscriberFactory(url=receiver.url)
    return NotificationFactory(
        recipient=None,
        subscriber=sub,
        channel=C.WEBHOOK,
        status=S.PENDING,
        next_attempt_at=timezone.now(),
        event_key="ticket-event:9",
    )


def test_it_posts_a_signed_webhook(receiver):
    n = webhook_row(receiver)
    assert delivery.deliver(n.pk) == "sent"
    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    assert headers["X-Portal-Event"] == "ticket.status" and headers["X-Portal-Delivery"] == str(n.pk)
    expected = "sha256=" + delivery.sign(n.subscriber.secret, headers["X-Portal-Timestamp"], body)
    assert headers["X-Portal-Signature"] == expected
    payload = json.loads(body)
    assert payload["event"] == "ticket-event:9" and payload["data"]["service_order_no"] == "SO20261124-0001"


@pytest.mark.parametrize(
    ("status", "outcome"), [(500, "retry"), (503, "retry"), (429, "retry"), (404, "failed"), (400, "failed")]
)
def test_it_retries_webhooks_on_5xx_only(receiver, status, outcome):
    receiver.status = status
    n = webhook_row(receiver)
    assert delivery.deliver(n.pk) == outcome
    n.refresh_from_db()
    assert str(status) in n.last_error


def test_it_retries_a_webhook_that_times_out(receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    receiver.delay = 0.5
    n = webhook_row(receiver)
    assert delivery.deliver(n.pk) == "retry"
    n.refresh_from_db()
    assert "timed out" in n.last_error.lower()
