"""A fault ticket moving through its branch-repair steps (the tickets area's real workflow) reaches
the merchant's people on SMS and WeChat through the real client libraries to the stand-ins: each
step once per person and channel, each in the person's language."""

import pytest

from notifications import services
from notifications.models import Notification
from repairs.workflow import ticket_transition
from tests.factories import MerchantUserFactory
from tests.notifications.factories import PreferenceFactory
from tests.repairs.factories import PATHS, S, fields_for, make_ticket

pytestmark = pytest.mark.django_db

STATUS_NAMES = {
    "zh-hans": {
        S.REMOTE_DIAGNOSIS: "远程诊断中", S.AWAITING_BRANCH: "待到网点", S.READY_FOR_PICKUP: "待取机",
    },
    "en": {
        S.REMOTE_DIAGNOSIS: "Remote diagnosis", S.AWAITING_BRANCH: "Awaiting branch visit",
        S.READY_FOR_PICKUP: "Ready for pickup",
    },
}


@pytest.fixture(params=["aliyun", "tencent"])
def sms_api(request):
    return request.getfixturevalue(request.param)


def test_it_tells_each_person_each_step_once_on_sms_and_wechat_in_their_language(
    sms_api, wechat_api, merchant_user, agent, engineer, django_capture_on_commit_callbacks
):
    owner = merchant_user
    owner.language, owner.phone = "zh-hans", "13800007001"
    owner.save()
    cashier = MerchantUserFactory(merchant=owner.merchant, language="en", phone="13800007002")
    for user, openid in ((owner, "oJourneyOwner000000000001"), (cashier, "oJourneyCashier0000000001")):
        services.bind_wechat(user, openid)
        wechat_api.followers.add(openid)
        PreferenceFactory(user=user, channels={"ticket.status": ["in_app", "sms", "wechat"]})
    people = {"merchant": owner, "agent": agent, "engineer": engineer, "system": None}
    ticket = make_ticket(people, S.REPORTED)
    Notification.objects.all().delete()

    steps = []
    for target, role in PATHS[S.PICKED_UP]:
        ticket.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            event = ticket_transition(ticket=ticket, to=target, actor=people[role], **fields_for(ticket, ticket.status, target))
        if Notification.objects.filter(event_key=f"ticket-event:{event.pk}", recipient=owner, channel="sms").exists():
            steps.append(target)
    assert S.AWAITING_BRANCH in steps and S.READY_FOR_PICKUP in steps

    rows = Notification.objects.filter(recipient__in=[owner, cashier]).exclude(channel="in_app")
    assert rows.count() == 4 * len(steps)  # SMS and WeChat, two people
    assert set(rows.values_list("status", "attempts")) == {("sent", 1)}
    assert all(rows.values_list("provider_message_id", flat=True))

    sms_sent, wechat_sent = sms_api.sent, wechat_api.sent
    assert len(sms_sent) == len(wechat_sent) == 2 * len(steps)
    phone_of = {"zh-hans": ("13800007001", "+8613800007001"), "en": ("13800007002", "+8613800007002")}
    openid_of = {"zh-hans": "oJourneyOwner000000000001", "en": "oJourneyCashier0000000001"}
    for language in ("zh-hans", "en"):
        texts = [m["body_text"] for m in sms_sent if m["phone"] in phone_of[language]]
        statuses = [m["data"]["thing2"] for m in wechat_sent if m["openid"] == openid_of[language]]
        assert len(texts) == len(statuses) == len(steps)
        for step, text, status in zip(steps, texts, statuses, strict=True):
            name = STATUS_NAMES[language].get(step)
            if name:
                assert name in text and status.startswith(name[:19])
            assert ticket.service_order_no in text
