"""The inbox and settings pages' actions over the API: mark read (one, all), preferences, and the
delivery log's retry, under the pages' rules."""

import pytest
from rest_framework.test import APIClient

from notifications.models import Notification, NotificationPreference
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1/notifications/"
C = Notification.Channel
S = Notification.Status


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_marks_one_and_all_read(merchant_user, other_merchant_user):
    mine = NotificationFactory.create_batch(3, recipient=merchant_user)
    theirs = NotificationFactory(recipient=other_merchant_user)
    response = api(merchant_user).post(f"{BASE}{mine[0].pk}/read/")
    assert response.status_code == 200 and response.json()["unread"] is False
    assert Notification.objects.unread(merchant_user).count() == 2
    assert api(merchant_user).post(f"{BASE}{theirs.pk}/read/").status_code == 404
    assert api(merchant_user).get(f"{BASE}{mine[0].pk}/read/").status_code == 405
    assert api(merchant_user).post(f"{BASE}read-all/").json() == {"marked": 2}
    assert Notification.objects.unread(merchant_user).count() == 0
    assert Notification.objects.unread(other_merchant_user).count() == 1


def test_it_reads_and_saves_preferences_keeping_in_app_for_merchants(merchant_user):
    client = api(merchant_user)
    before = client.get(f"{BASE}preferences/").json()
    assert "ticket.status" in before["channels"] and "in_app" in before["offered_channels"]
    assert "sla.breach" not in before["channels"]  # a staff-only kind
    response = client.put(f"{BASE}preferences/", {"channels": {"ticket.status": []}, "quiet_start": "22:00",
                                                  "quiet_end": "07:30"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["channels"]["ticket.status"] == ["in_app"]
    assert response.json()["quiet_start"] == "22:00"
    pref = NotificationPreference.objects.get(user=merchant_user)
    assert pref.channels["ticket.status"] == ["in_app"]
    assert set(pref.channels["application.status"]) == set(before["channels"]["application.status"])


@pytest.mark.parametrize("body", [
    {"channels": {}, "quiet_start": "22:00"},
    {"channels": {"sla.breach": ["email"]}},
    {"channels": {"ticket.status": ["pigeon"]}},
    {"channels": {"ticket.status": ["email"]}, "quiet_end": "25:99"},
])
def test_it_refuses_what_the_settings_page_refuses(merchant_user, body):
    response = api(merchant_user).put(f"{BASE}preferences/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert not NotificationPreference.objects.exists()


def test_staff_may_turn_in_app_off(agent):
    response = api(agent).put(f"{BASE}preferences/", {"channels": {"sla.breach": ["email"]}}, format="json")
    assert response.status_code == 200
    assert NotificationPreference.objects.get(user=agent).channels["sla.breach"] == ["email"]


def test_reviewers_retry_a_failed_delivery(reviewer, agent, django_capture_on_commit_callbacks, mailoutbox):
    n = NotificationFactory(channel=C.EMAIL, status=S.FAILED, attempts=5, last_error="gone")
    assert api(agent).post(f"{BASE}deliveries/{n.pk}/retry/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert api(reviewer).post(f"{BASE}deliveries/{n.pk}/retry/").status_code == 202
    n.refresh_from_db()
    assert n.status == S.SENT and len(mailoutbox) == 1
    assert api(reviewer).post(f"{BASE}deliveries/{n.pk}/retry/").status_code == 409


def test_it_unbinds_the_callers_wechat_only(merchant_user, other_merchant_user):
    from notifications import services
    from notifications.models import WechatBinding

    services.bind_wechat(merchant_user, "o-merchant-openid")
    services.bind_wechat(other_merchant_user, "o-other-openid")
    assert api(merchant_user).post(f"{BASE}wechat/unbind/").status_code == 204
    assert list(WechatBinding.objects.values_list("user", flat=True)) == [other_merchant_user.pk]
