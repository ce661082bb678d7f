"""notify(): the outbox rows of one event, written in the caller's transaction, delivered after commit."""

import pytest
from django.core import mail
from django.db import transaction

from notifications.models import Notification
from notifications.services import notify
from tests.factories import MerchantUserFactory, UserFactory
from tests.notifications.factories import PreferenceFactory, WebhookSubscriberFactory

pytestmark = pytest.mark.django_db

C = Notification.Channel
S = Notification.Status

CONTEXT = {
    "service_order_no": "SO20261124-0007",
    "terminal": "SN123456",
    "from_status": "remote_diagnosis",
    "to_status": "awaiting_branch",
    "branch": "浦东支行",
    "branch_address": "上海市浦东新区世纪大道1号",
    "branch_phone": "021-55550000",
    "branch_hours": "9:00–17:00",
}


def _notify(recipients, key="ticket-event:1", **kw):
    return notify(
        kind="ticket.status",
        event_key=key,
        recipients=recipients,
        context=CONTEXT,
        url="/tickets/SO20261124-0007/",
        **kw,
    )


def test_it_writes_one_row_per_recipient_and_channel(django_capture_on_commit_callbacks):
    merchant = MerchantUserFactory(phone="13800001111")
    agent = UserFactory(phone="")
    with django_capture_on_commit_callbacks(execute=True):
        rows = _notify([merchant, agent, merchant, None])
    got = sorted((n.recipient_id, n.channel) for n in Notification.objects.all())
    assert got == sorted(
        [
            (merchant.pk, C.IN_APP),
            (merchant.pk, C.EMAIL),
            (merchant.pk, C.SMS),
            (agent.pk, C.IN_APP),
            (agent.pk, C.EMAIL),
        ]
    )
    assert len(rows) == 5
    assert set(Notification.objects.values_list("status", flat=True)) == {S.SENT}
    assert len(mail.outbox) == 2


def test_it_writes_nothing_new_and_sends_once_when_called_twice(
    django_capture_on_commit_callbacks, sms_outbox
):
    merchant = MerchantUserFactory(phone="13800001111")
    with django_capture_on_commit_callbacks(execute=True):
        _notify([merchant])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = _notify([merchant])
    assert again == []
    assert callbacks == []
    assert Notification.objects.count() == 3
    assert len(mail.outbox) == 1
    assert len(sms_outbox) == 1


def test_it_adds_only_the_missing_rows_for_a_new_recipient_of_the_same_event(
    django_capture_on_commit_callbacks,
):
    first, second = MerchantUserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _notify([first])
        rows = _notify([first, second])
    assert {n.recipient_id for n in rows} == {second.pk}
    assert Notification.objects.filter(recipient=first).count() == 2


def test_it_writes_in_the_callers_transaction_and_sends_only_after_commit(django_capture_on_commit_callbacks):
    merchant = MerchantUserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _notify([merchant])
    assert Notification.objects.get(channel=C.EMAIL).status == S.PENDING
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert Notification.objects.get(channel=C.EMAIL).status == S.SENT
    assert len(mail.outbox) == 1


def test_it_leaves_no_row_when_the_change_rolls_back():
    merchant = MerchantUserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        _notify([merchant])
        raise RuntimeError("the transition failed")
    assert Notification.objects.count() == 0


def test_it_marks_the_in_app_row_delivered_on_creation():
    merchant = MerchantUserFactory()
    _notify([merchant])
    inbox = Notification.objects.get(channel=C.IN_APP)
    assert inbox.status == S.SENT and inbox.sent_at is not None and inbox.read_at is None


def test_it_follows_preferences_but_merchants_always_get_in_app(django_capture_on_commit_callbacks):
    merchant = MerchantUserFactory(phone="13800001111")
    PreferenceFactory(user=merchant, channels={"ticket.status": ["sms"]})
    agent = UserFactory()
    PreferenceFactory(user=agent, channels={"ticket.status": []})
    with django_capture_on_commit_callbacks(execute=True):
        _notify([merchant, agent])
    assert sorted(Notification.objects.values_list("channel", flat=True)) == [C.IN_APP, C.SMS]


def test_it_skips_channels_without_an_address_and_inactive_users():
    no_email = MerchantUserFactory(email="", phone="")
    gone = MerchantUserFactory(is_active=False)
    _notify([no_email, gone])
    assert list(Notification.objects.values_list("recipient_id", "channel")) == [(no_email.pk, C.IN_APP)]


def test_it_writes_one_webhook_row_per_interested_subscriber():
    wants_all = WebhookSubscriberFactory(kinds=[])
    wants_tickets = WebhookSubscriberFactory(kinds=["ticket.status"])
    WebhookSubscriberFactory(kinds=["application.status"])
    WebhookSubscriberFactory(is_active=False)
    _notify([])
    _notify([], key="ticket-event:1")
    rows = Notification.objects.filter(channel=C.WEBHOOK)
    assert sorted(rows.values_list("subscriber_id", flat=True)) == sorted([wants_all.pk, wants_tickets.pk])


def test_it_writes_a_single_row_once_and_returns_it_with_its_id():
    staff = UserFactory(email="", phone="")  # in-app only: one row, one INSERT of one row
    first = _notify([staff])
    assert [(n.pk, n.channel) for n in first] == [(Notification.objects.get().pk, C.IN_APP)]
    assert _notify([staff]) == []
    assert Notification.objects.count() == 1


def test_it_tells_each_audience_its_own_context_and_webhooks_the_first(django_capture_on_commit_callbacks):
    from notifications.services import notify_audiences

    merchant, agent = MerchantUserFactory(), UserFactory()
    hook = WebhookSubscriberFactory(kinds=[])
    with django_capture_on_commit_callbacks() as callbacks:
        rows = notify_audiences(
            kind="ticket.status", event_key="ticket-event:9", url="/tickets/SO20261124-0007/",
            audiences=[([merchant], {"note": ""}), ([agent, merchant], {"note": "internal"})],
        )
    assert len(callbacks) == 1  # one delivery task for the event
    notes = {(n.recipient_id or n.subscriber_id, n.channel): n.context["note"] for n in rows}
    assert notes == {
        (merchant.pk, C.IN_APP): "", (merchant.pk, C.EMAIL): "",
        (agent.pk, C.IN_APP): "internal", (agent.pk, C.EMAIL): "internal",
        (hook.pk, C.WEBHOOK): "",
    }
    assert all(n.pk for n in rows)
