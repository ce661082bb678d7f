"""WeChat template messages through wechatpy against a local stand-in of the Official Account API:
the kind's template in the recipient's language with a link to the ticket, the access token shared
by every worker through the cache (fetched once, refreshed once when WeChat refuses it), and the
error codes mapped to retry or failure (43004: the user unfollowed, the channel is switched off
and the user told in-app)."""

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications import delivery, services, wechat
from notifications.models import Notification, WechatBinding
from tests.factories import MerchantUserFactory
from tests.notifications.conftest import OPENID
from tests.notifications.factories import NotificationFactory, PreferenceFactory

pytestmark = pytest.mark.django_db

C = Notification.Channel
S = Notification.Status
CONTEXT = {
    "service_order_no": "SO20261124-0042",
    "terminal": "SN00000042",
    "from_status": "remote_diagnosis",
    "to_status": "awaiting_branch",
}


def bound_user(language="zh-hans", openid=OPENID):
    user = MerchantUserFactory(language=language)
    services.bind_wechat(user, openid)
    return user


def wechat_row(user, kind="ticket.status", context=None):
    return NotificationFactory(
        recipient=user, channel=C.WECHAT, status=S.PENDING, next_attempt_at=timezone.now(), kind=kind,
        context=context or CONTEXT, url="/tickets/SO20261124-0042/",
    )


def test_it_sends_the_kinds_template_with_a_link_to_the_ticket_in_the_recipients_language(wechat_api, settings):
    settings.PORTAL_BASE_URL = "https://pos.example-bank.cn"
    zh = wechat_row(bound_user("zh-hans"))
    assert delivery.deliver(zh.pk) == "sent"
    message = wechat_api.sent[0]
    assert message["openid"] == OPENID and message["template_id"] == "TPL-ticket-zh"
    assert message["url"] == "https://pos.example-bank.cn/tickets/SO20261124-0042/"
    assert message["data"]["character_string1"] == "SO20261124-0042"
    assert message["data"]["thing2"] == "待到网点"
    assert message["data"]["time3"] == timezone.localtime(zh.created_at).strftime("%Y-%m-%d %H:%M")
    assert message["client_msg_id"] == f"notification-{zh.pk}"
    zh.refresh_from_db()
    assert zh.status == S.SENT and zh.provider_message_id == str(message["msgid"])

    services.unbind_wechat(zh.recipient)
    en = wechat_row(bound_user("en"))
    assert delivery.deliver(en.pk) == "sent"
    assert wechat_api.sent[1]["template_id"] == "TPL-ticket-en"
    # "Awaiting branch visit" is 21 characters: a thing field takes 20.
    assert wechat_api.sent[1]["data"]["thing2"] == "Awaiting branch vis…"


def test_it_fills_the_default_template_for_a_kind_without_its_own(wechat_api):
    n = wechat_row(bound_user("en"), kind="ticket.comment")
    assert delivery.deliver(n.pk) == "sent"
    assert wechat_api.sent[0]["template_id"] == "TPL-news"
    assert wechat_api.sent[0]["data"]["thing1"]  # the subject, cut to 20 characters


def test_it_fetches_the_access_token_once_for_many_messages_and_workers(wechat_api):
    user = bound_user()
    for _ in range(3):
        assert delivery.deliver(wechat_row(user).pk) == "sent"
    # Another worker process: its own wechatpy client, the same cache.
    other = wechat.Client(wechat_api.appid, wechat_api.secret, wechat_api.url, 3)
    assert other.access_token in wechat_api.tokens
    assert wechat_api.token_fetches == 1


def test_it_lets_one_worker_fetch_the_token_while_the_others_wait(wechat_api):
    wechat_api.delay = 0.3
    results = []

    def worker():
        client = wechat.Client(wechat_api.appid, wechat_api.secret, wechat_api.url, 3)
        results.append(client.access_token)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and results[0] in wechat_api.tokens
    assert wechat_api.token_fetches == 1


@pytest.mark.parametrize("expire", ["expire_tokens", "revoke_tokens"])  # 42001, 40001
def test_it_refreshes_a_token_wechat_refuses_once_and_sends(wechat_api, expire):
    user = bound_user()
    assert delivery.deliver(wechat_row(user).pk) == "sent"
    getattr(wechat_api, expire)()
    n = wechat_row(user)
    assert delivery.deliver(n.pk) == "sent"
    assert wechat_api.token_fetches == 2 and len(wechat_api.sent) == 2
    n.refresh_from_db()
    assert n.attempts == 1


def test_it_refreshes_only_once_then_retries_later(wechat_api):
    wechat_api.reject_every_token = True
    n = wechat_row(bound_user())
    assert delivery.deliver(n.pk) == "retry"
    n.refresh_from_db()
    assert "40001" in n.last_error and n.status == S.PENDING
    assert wechat_api.token_fetches == 2  # the first token, and one refresh: no loop


@pytest.mark.parametrize(("fault", "code"), [(45009, "45009"), (-1, "-1"), ("drop", "")])
def test_it_retries_throttling_busy_and_network_failures(wechat_api, settings, fault, code):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 20
    user = bound_user()
    wechat.client().access_token  # noqa: B018 - the token first, so the fault hits the send
    n = wechat_row(user)
    wechat_api.fail_next(fault)
    assert delivery.deliver(n.pk) == "retry"
    n.refresh_from_db()
    assert n.status == S.PENDING and code in n.last_error
    assert n.next_attempt_at - timezone.now() > timedelta(seconds=15)
    Notification.objects.filter(pk=n.pk).update(next_attempt_at=timezone.now())
    assert delivery.deliver(n.pk) == "sent"


def test_it_switches_the_channel_off_and_tells_the_user_in_app_when_they_unfollowed(wechat_api):
    user = bound_user()
    PreferenceFactory(user=user, channels={"ticket.status": ["in_app", "wechat"]})
    wechat_api.followers.clear()
    n = wechat_row(user)
    assert delivery.deliver(n.pk) == "failed"
    n.refresh_from_db()
    assert "43004" in n.last_error and n.attempts == 1
    binding = WechatBinding.objects.get(user=user)
    assert binding.disabled_at is not None and "43004" in binding.disabled_reason
    told = Notification.objects.get(recipient=user, kind="wechat.unreachable")
    assert told.channel == C.IN_APP and told.read_at is None and told.url == "/notifications/wechat/"
    assert "Official Account" in delivery.render_preview(told, "en")["line"]
    assert "公众号" in delivery.render_preview(told, "zh-hans")["line"]

    # Told once; and the next events no longer go to WeChat.
    assert delivery.deliver(wechat_row(user).pk) == "failed"
    assert Notification.objects.filter(recipient=user, kind="wechat.unreachable").count() == 1
    with transaction.atomic():
        rows = services.notify(kind="ticket.status", event_key="ticket-event:77", recipients=[user], context=CONTEXT)
    assert [r.channel for r in rows] == [C.IN_APP]

    # Following again and scanning again brings it back.
    wechat_api.followers.add(OPENID)
    services.bind_wechat(user, OPENID)
    with transaction.atomic():
        rows = services.notify(kind="ticket.status", event_key="ticket-event:78", recipients=[user], context=CONTEXT)
    assert sorted(r.channel for r in rows) == [C.IN_APP, C.WECHAT]


@pytest.mark.parametrize(
    ("break_it", "code"),
    [
        (lambda s: s.templates.clear(), "40037"),  # the template was deleted from the account
        (lambda s: s.templates.update({"TPL-ticket-zh": ["character_string1", "thing2", "time3", "thing4"]}), "47003"),
    ],
)
def test_it_fails_a_template_wechat_rejects_permanently(wechat_api, break_it, code):
    break_it(wechat_api)
    n = wechat_row(bound_user())
    assert delivery.deliver(n.pk) == "failed"
    assert code in Notification.objects.get(pk=n.pk).last_error


def test_it_fails_without_a_binding_or_a_template(wechat_api, settings):
    n = wechat_row(MerchantUserFactory())
    assert delivery.deliver(n.pk) == "failed"
    assert "no WeChat account bound" in Notification.objects.get(pk=n.pk).last_error
    settings.WECHAT_TEMPLATES = {}
    n = wechat_row(bound_user())
    assert delivery.deliver(n.pk) == "failed"
    assert "no approved template" in Notification.objects.get(pk=n.pk).last_error
    assert wechat_api.sent == []


def test_it_offers_wechat_only_to_bound_users_who_chose_it(wechat_api, settings, django_assert_num_queries):
    chose, unbound, default = bound_user(), MerchantUserFactory(), bound_user(openid="oOtherOpenid00000000000000")
    PreferenceFactory(user=chose, channels={"ticket.status": ["in_app", "wechat"]})
    PreferenceFactory(user=unbound, channels={"ticket.status": ["in_app", "wechat"]})
    with transaction.atomic():
        rows = services.notify(
            kind="ticket.status", event_key="ticket-event:90", recipients=[chose, unbound, default], context=CONTEXT
        )
    wechat_rows = [r.recipient_id for r in rows if r.channel == C.WECHAT]
    assert wechat_rows == [chose.pk]
    settings.WECHAT_APP_ID = ""
    with transaction.atomic():
        rows = services.notify(kind="ticket.status", event_key="ticket-event:91", recipients=[chose], context=CONTEXT)
    assert C.WECHAT not in [r.channel for r in rows]
