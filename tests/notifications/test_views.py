"""The notification centre, the unread badge, preferences, the staff delivery log and the API."""

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, NotificationPreference
from tests.factories import MerchantUserFactory, UserFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

C = Notification.Channel
S = Notification.Status


def test_it_lists_the_users_own_notifications_newest_first(
    merchant_client, merchant_user, other_merchant_user
):
    NotificationFactory(
        recipient=merchant_user, context={"service_order_no": "SO-OLD", "to_status": "reported"}
    )
    NotificationFactory(
        recipient=merchant_user, context={"service_order_no": "SO-NEW", "to_status": "closed"}
    )
    NotificationFactory(recipient=other_merchant_user, context={"service_order_no": "SO-OTHER"})
    NotificationFactory(recipient=merchant_user, channel=C.EMAIL, context={"service_order_no": "SO-MAIL"})
    body = merchant_client.get(reverse("notifications:inbox")).content.decode()
    assert body.index("SO-NEW") < body.index("SO-OLD")
    assert "SO-OTHER" not in body and "SO-MAIL" not in body


def test_it_renders_the_inbox_in_the_users_language(client):
    user = MerchantUserFactory(language="zh-hans")
    NotificationFactory(recipient=user)
    client.force_login(user)
    body = client.get(reverse("notifications:inbox")).content.decode()
    assert "故障工单 SO20261124-0001" in body and "远程诊断中" in body


@pytest.mark.parametrize("size", [3, 30])
def test_it_keeps_the_inbox_queries_constant(
    merchant_client, merchant_user, django_assert_max_num_queries, size
):
    NotificationFactory.create_batch(size, recipient=merchant_user)
    with django_assert_max_num_queries(12):
        assert merchant_client.get(reverse("notifications:inbox")).status_code == 200


def test_it_shows_the_unread_count_in_the_navigation(merchant_client, merchant_user):
    NotificationFactory.create_batch(2, recipient=merchant_user)
    NotificationFactory(recipient=merchant_user, read_at=timezone.now())
    body = merchant_client.get(reverse("notifications:preferences")).content.decode()
    assert 'data-testid="unread-count"' in body and ">2</span>" in body
    badge = merchant_client.get(reverse("notifications:badge")).content.decode()
    assert ">2</span>" in badge


def test_it_marks_one_and_all_read_by_post_only(merchant_client, merchant_user, other_merchant_user):
    mine = NotificationFactory.create_batch(3, recipient=merchant_user)
    theirs = NotificationFactory(recipient=other_merchant_user)
    assert merchant_client.get(reverse("notifications:read", args=[mine[0].pk])).status_code == 405
    merchant_client.post(reverse("notifications:read", args=[mine[0].pk]))
    assert Notification.objects.unread(merchant_user).count() == 2
    assert merchant_client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    merchant_client.post(reverse("notifications:read_all"))
    assert Notification.objects.unread(merchant_user).count() == 0
    assert Notification.objects.unread(other_merchant_user).count() == 1


def test_it_opens_a_notification_marking_it_read(merchant_client, merchant_user):
    n = NotificationFactory(recipient=merchant_user, url="/tickets/SO1/")
    response = merchant_client.post(reverse("notifications:open", args=[n.pk]))
    assert response.status_code == 302 and response.url == "/tickets/SO1/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_it_saves_preferences_keeping_in_app_for_merchants(merchant_client, merchant_user):
    response = merchant_client.post(
        reverse("notifications:preferences"),
        {
            "ticket.status__sms": "on",
            "quiet_start": "22:00",
            "quiet_end": "07:30",
        },
    )
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=merchant_user)
    assert pref.channels["ticket.status"] == ["in_app", "sms"]
    assert pref.channels["application.status"] == ["in_app"]
    assert "sla.breach" not in pref.channels
    assert str(pref.quiet_start) == "22:00:00"
    page = merchant_client.get(reverse("notifications:preferences")).content.decode()
    assert 'name="ticket.status__in_app"' in page


def test_it_refuses_half_quiet_hours(merchant_client):
    response = merchant_client.post(reverse("notifications:preferences"), {"quiet_start": "22:00"})
    assert response.status_code == 200
    assert not NotificationPreference.objects.exists()


def test_it_lets_staff_turn_in_app_off(agent_client, agent):
    agent_client.post(reverse("notifications:preferences"), {"sla.breach__email": "on"})
    assert NotificationPreference.objects.get(user=agent).channels["sla.breach"] == ["email"]


# --- the staff delivery log ------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["merchant_client", "agent_client", "engineer_client"])
def test_it_shows_the_delivery_log_only_to_reviewers_and_admins(request, fixture):
    c = request.getfixturevalue(fixture)
    assert c.get(reverse("notifications:log")).status_code == 403


def test_it_filters_the_delivery_log(reviewer_client):
    alice = MerchantUserFactory(username="alice-log")
    NotificationFactory(
        recipient=alice, channel=C.EMAIL, status=S.FAILED, kind="ticket.status", event_key="ev:failed"
    )
    NotificationFactory(
        recipient=alice, channel=C.SMS, status=S.SENT, kind="application.status", event_key="ev:sms"
    )
    NotificationFactory(channel=C.EMAIL, status=S.SENT, event_key="ev:other")
    url = reverse("notifications:log")
    assert "ev:failed" in reviewer_client.get(url, {"status": "failed"}).content.decode()
    body = reviewer_client.get(url, {"channel": "sms"}).content.decode()
    assert "ev:sms" in body and "ev:failed" not in body
    body = reviewer_client.get(url, {"recipient": "alice-log", "kind": "ticket.status"}).content.decode()
    assert "ev:failed" in body and "ev:sms" not in body and "ev:other" not in body


@pytest.mark.parametrize("size", [3, 30])
def test_it_keeps_the_delivery_log_queries_constant(reviewer_client, django_assert_max_num_queries, size):
    NotificationFactory.create_batch(size, channel=C.EMAIL)
    with django_assert_max_num_queries(12):
        assert reviewer_client.get(reverse("notifications:log")).status_code == 200


def test_it_shows_details_and_retries_a_failed_delivery(
    reviewer_client, django_capture_on_commit_callbacks, mailoutbox
):
    n = NotificationFactory(
        channel=C.EMAIL, status=S.FAILED, attempts=5, last_error="SMTPServerDisconnected: gone"
    )
    detail = reviewer_client.get(reverse("notifications:log_detail", args=[n.pk])).content.decode()
    assert "SMTPServerDisconnected" in detail and 'data-testid="retry"' in detail
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer_client.post(reverse("notifications:log_retry", args=[n.pk]))
    assert response.status_code == 302
    n.refresh_from_db()
    assert n.status == S.SENT and len(mailoutbox) == 1


def test_it_lists_the_callers_notifications_in_the_api(client):
    user = UserFactory(language="en")
    other = UserFactory()
    NotificationFactory(recipient=user, context={"service_order_no": "SO-A", "to_status": "reported"})
    NotificationFactory(recipient=user, context={"service_order_no": "SO-B", "to_status": "closed"})
    NotificationFactory(recipient=other)
    client.force_login(user)
    data = client.get("/api/v1/notifications/").json()
    assert data["count"] == 2
    first = data["results"][0]
    assert "SO-B" in first["subject"] and first["unread"] is True and first["url"]
    assert client.logout() is None
    assert client.get("/api/v1/notifications/").status_code in (401, 403)


def test_it_renders_each_preview_once_per_content_and_language(client, monkeypatch):
    """The inbox's subjects and lines come from fragments keyed by what they show: a second visit
    renders none, and another ticket or another language is rendered afresh, never served stale."""
    from notifications import delivery

    english, chinese = MerchantUserFactory(language="en"), MerchantUserFactory(language="zh-hans")
    for user in (english, chinese):
        NotificationFactory(recipient=user, context={"service_order_no": "SO-SEEN", "to_status": "closed"})
    client.force_login(english)
    assert "SO-SEEN" in client.get(reverse("notifications:inbox")).content.decode()

    rendered = []
    real = delivery.render_preview
    monkeypatch.setattr(delivery, "render_preview", lambda n, lang=None: rendered.append(n.pk) or real(n, lang))
    body = client.get(reverse("notifications:inbox")).content.decode()
    assert "Fault ticket SO-SEEN" in body and rendered == []

    fresh = NotificationFactory(recipient=english, context={"service_order_no": "SO-FRESH", "to_status": "closed"})
    body = client.get(reverse("notifications:inbox")).content.decode()
    assert "SO-FRESH" in body and "SO-SEEN" in body and rendered == [fresh.pk]
    subjects = [n["subject"] for n in client.get("/api/v1/notifications/").json()["results"]]
    assert len(subjects) == 2 and "SO-FRESH" in subjects[0] and "SO-SEEN" in subjects[1]
    assert rendered == [fresh.pk]  # the API's page reads the same fragments

    client.force_login(chinese)
    body = client.get(reverse("notifications:inbox")).content.decode()
    assert "故障工单 SO-SEEN" in body and len(rendered) == 2
