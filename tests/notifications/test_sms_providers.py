"""SMS through Alibaba Cloud and Tencent Cloud: the real SDKs against local stand-ins of their APIs.

What a bank relies on: the approved template of the kind in the recipient's language with the
right variables, the provider's message id on the row, throttling and network trouble retried
with backoff, a bad number or template failed at once, and the 70-character rule and quiet hours
as for any SMS.
"""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from notifications import delivery
from notifications.models import Notification
from tests.factories import MerchantUserFactory
from tests.notifications.factories import NotificationFactory, PreferenceFactory

pytestmark = pytest.mark.django_db

C = Notification.Channel
S = Notification.Status

CONTEXT = {
    "service_order_no": "SO20261124-0042",
    "terminal": "SN00000042",
    "from_status": "network_testing",
    "to_status": "ready_for_pickup",
}


def sms_row(phone="13800001111", language="zh-hans", kind="ticket.status", context=None):
    user = MerchantUserFactory(phone=phone, language=language)
    return NotificationFactory(
        recipient=user, channel=C.SMS, status=S.PENDING, next_attempt_at=timezone.now(), kind=kind,
        context=context or CONTEXT,
    )


@pytest.fixture(params=["aliyun", "tencent"])
def provider(request):
    return request.getfixturevalue(request.param)


def _make_due(n):
    Notification.objects.filter(pk=n.pk).update(next_attempt_at=timezone.now())


def test_it_sends_the_approved_aliyun_template_in_each_recipients_language(aliyun):
    zh, en = sms_row(language="zh-hans"), sms_row(phone="13900002222", language="en")
    assert delivery.deliver(zh.pk) == "sent" and delivery.deliver(en.pk) == "sent"

    by_phone = {m["phone"]: m for m in aliyun.sent}
    assert by_phone["13800001111"]["template"] == "SMS_480001"
    assert by_phone["13800001111"]["params"] == {"no": "SO20261124-0042", "status": "待取机"}
    assert by_phone["13800001111"]["text"] == "【浦发示例银行】工单 SO20261124-0042：待取机。"
    assert by_phone["13900002222"]["template"] == "SMS_480002"
    assert by_phone["13900002222"]["body_text"] == "Ticket SO20261124-0042: Ready for pickup."
    zh.refresh_from_db()
    assert zh.status == S.SENT and zh.provider_message_id == by_phone["13800001111"]["biz_id"]
    assert by_phone["13800001111"]["out_id"] == f"notification-{zh.pk}"
    # The SDK signed every call (ACS3-HMAC-SHA256 with the AccessKey ID), once per message.
    assert len(aliyun.requests) == 2
    assert all(r["headers"]["authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAI5tTestKeyId000001,")
               for r in aliyun.requests)


def test_it_sends_the_approved_tencent_template_with_its_variables_in_order(tencent):
    zh, en = sms_row(phone="+86 138-0000-1111", language="zh-hans"), sms_row(phone="13900002222", language="en")
    assert delivery.deliver(zh.pk) == "sent" and delivery.deliver(en.pk) == "sent"

    by_phone = {m["phone"]: m for m in tencent.sent}
    assert by_phone["+8613800001111"]["template"] == "2100001"
    assert by_phone["+8613800001111"]["params"] == ["SO20261124-0042", "待取机"]
    assert by_phone["+8613900002222"]["body_text"] == "Ticket SO20261124-0042: Ready for pickup."
    zh.refresh_from_db()
    assert zh.provider_message_id == by_phone["+8613800001111"]["serial"]
    assert by_phone["+8613800001111"]["session_context"] == f"notification-{zh.pk}"
    assert all("Credential=AKIDtestSecretId000000000000000000001/" in r["headers"]["authorization"]
               for r in tencent.requests)


def test_it_uses_the_default_template_for_a_kind_without_its_own(provider):
    n = sms_row(kind="ticket.comment", language="en")
    assert delivery.deliver(n.pk) == "sent"
    assert provider.sent[0]["body_text"] == "There is news for you in the POS Portal."


def test_it_fails_at_once_when_the_stand_in_cannot_verify_the_signature(provider, settings):
    settings.SMS_ACCESS_KEY_SECRET = "a-wrong-secret"
    n = sms_row()
    assert delivery.deliver(n.pk) == "failed"
    n.refresh_from_db()
    assert n.attempts == 1 and ("SignatureDoesNotMatch" in n.last_error or "AuthFailure.SignatureFailure" in n.last_error)
    assert provider.sent == []


@pytest.mark.parametrize(
    ("stand_in", "fault"),
    [
        ("aliyun", "isv.BUSINESS_LIMIT_CONTROL"),
        ("aliyun", "Throttling.User"),
        ("aliyun", "isp.SYSTEM_ERROR"),
        ("aliyun", "drop"),
        ("tencent", "RequestLimitExceeded"),
        ("tencent", "LimitExceeded.PhoneNumberThirtySecondLimit"),
        ("tencent", "InternalError.Timeout"),
        ("tencent", "drop"),
    ],
)
def test_it_retries_throttling_and_network_failures_with_backoff(request, settings, stand_in, fault):
    api = request.getfixturevalue(stand_in)
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 20
    n = sms_row()
    api.fail_next(fault)
    before = timezone.now()
    assert delivery.deliver(n.pk) == "retry"
    n.refresh_from_db()
    assert n.status == S.PENDING and n.attempts == 1
    assert timedelta(seconds=19) < n.next_attempt_at - before < timedelta(seconds=22)
    assert fault in n.last_error or fault == "drop"
    assert delivery.deliver(n.pk) == "skipped"  # not due yet
    _make_due(n)
    assert delivery.deliver(n.pk) == "sent"
    n.refresh_from_db()
    assert n.attempts == 2 and n.provider_message_id and len(api.sent) == 1


def test_it_retries_when_the_provider_is_unreachable(provider, settings):
    provider.stop()
    n = sms_row()
    assert delivery.deliver(n.pk) == "retry"
    n.refresh_from_db()
    assert n.status == S.PENDING and n.last_error


def test_it_meets_the_providers_own_frequency_control_and_retries(provider):
    provider.per_number_per_minute = provider.per_number_per_30s = 1
    first, second = sms_row(phone="13800009999"), sms_row(phone="13800009999")
    assert delivery.deliver(first.pk) == "sent"
    assert delivery.deliver(second.pk) == "retry"
    second.refresh_from_db()
    assert "isv.BUSINESS_LIMIT_CONTROL" in second.last_error or "ThirtySecondLimit" in second.last_error
    assert len(provider.sent) == 1


@pytest.mark.parametrize("stand_in", ["aliyun", "tencent"])
def test_it_fails_a_bad_number_permanently(request, stand_in):
    api = request.getfixturevalue(stand_in)
    n = sms_row(phone="1234567890")
    assert delivery.deliver(n.pk) == "failed"
    n.refresh_from_db()
    assert n.status == S.FAILED and n.attempts == 1 and n.next_attempt_at is None
    assert "isv.MOBILE_NUMBER_ILLEGAL" in n.last_error or "InvalidParameterValue.IncorrectPhoneNumber" in n.last_error
    assert api.sent == []


def test_it_fails_an_unapproved_template_permanently(provider, settings):
    settings.SMS_TEMPLATES = {"ticket.status": "SMS_999999" if provider.__class__.__name__ == "AliyunSms" else "999999"}
    n = sms_row()
    assert delivery.deliver(n.pk) == "failed"
    n.refresh_from_db()
    assert "isv.SMS_TEMPLATE_ILLEGAL" in n.last_error or "FailedOperation.TemplateIncorrectOrUnapproved" in n.last_error


def test_it_fails_a_template_whose_variables_do_not_match_permanently(provider):
    # The bank registered a template with a third variable the portal does not fill.
    for code in ("SMS_480001", "2100001"):
        if code in provider.templates:
            provider.templates[code] = "工单 ${no}：${status}，网点 ${branch}。" if code[0] == "S" else "工单 {1}：{2}，网点 {3}。"
    n = sms_row()
    assert delivery.deliver(n.pk) == "failed"
    error = Notification.objects.get(pk=n.pk).last_error
    assert "isv.TEMPLATE_MISSING_PARAMETERS" in error or "TemplateParamSetNotMatchApprovedTemplate" in error


def test_it_fails_a_kind_with_no_template_configured_without_calling_the_provider(provider, settings):
    settings.SMS_TEMPLATES = {}
    n = sms_row()
    assert delivery.deliver(n.pk) == "failed"
    assert "no approved template" in Notification.objects.get(pk=n.pk).last_error
    assert provider.requests == []


def test_it_keeps_the_message_within_70_characters_by_shortening_a_variable(provider):
    context = {**CONTEXT, "to_status": "escalated_to_the_regional_engineering_centre_for_board_level_repair_and_testing"}
    n = sms_row(language="en", context=context)
    assert delivery.deliver(n.pk) == "sent"
    message = provider.sent[0]
    assert len(message["body_text"]) <= 70
    assert "SO20261124-0042" in message["body_text"] and "…" in message["body_text"]


def test_it_holds_an_sms_during_quiet_hours_without_calling_the_provider(provider):
    n = sms_row()
    now = timezone.localtime(timezone.now(), timezone.get_fixed_timezone(480))
    start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    if end < start and not (start <= now.time() or now.time() < end):  # pragma: no cover - midnight edge
        start, end = time(0, 0), time(23, 59)
    PreferenceFactory(user=n.recipient, quiet_start=start, quiet_end=end)
    assert delivery.deliver(n.pk) == "held"
    assert provider.requests == []
