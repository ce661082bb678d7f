"""Binding WeChat: the QR code of the binding page is WeChat's OAuth authorize URL; the phone that
follows it comes back to the callback with a code, exchanged (wechatpy, against the stand-in) for
the openid of the WeChat account that scanned; the state is single-use. Then preferences and
unbinding."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from notifications import services
from notifications.models import NotificationPreference, WechatBinding
from tests.notifications.conftest import APPID, OPENID

pytestmark = pytest.mark.django_db


def authorize_url(response):
    match = re.search(r'href="([^"]+)" data-testid="wechat-authorize"', response.content.decode())
    return unescape(match.group(1))


def scan(url):
    """What the phone does: open the authorize URL in WeChat, land on our callback."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    target = urlsplit(answer.headers["Location"])
    return Client().get(f"{target.path}?{target.query}")  # the phone is not signed in


def test_it_shows_a_qr_code_of_the_wechat_authorize_url(merchant_client, wechat_api, settings):
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    response = merchant_client.get(reverse("notifications:wechat"))
    assert response.status_code == 200
    assert b'data-testid="wechat-qr"' in response.content and b"<svg" in response.content
    url = urlsplit(authorize_url(response))
    assert f"{url.scheme}://{url.netloc}" == wechat_api.url and url.path == "/connect/oauth2/authorize"
    query = parse_qs(url.query)
    assert query["appid"] == [APPID] and query["scope"] == ["snsapi_base"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/notifications/wechat/callback/"]
    assert re.fullmatch(r"[0-9a-f]{32}", query["state"][0])
    assert url.fragment == "wechat_redirect"


def test_it_binds_the_account_that_scanned_and_the_page_reloads(merchant_client, merchant_user, wechat_api):
    merchant_user.language = "zh-hans"
    merchant_user.save()
    page = merchant_client.get(reverse("notifications:wechat"))
    status = merchant_client.get(reverse("notifications:wechat_status"))
    assert status.status_code == 204 and "HX-Refresh" not in status

    phone = scan(authorize_url(page))
    assert phone.status_code == 200
    assert "微信已绑定" in phone.content.decode()  # the merchant's language (zh-hans)
    binding = WechatBinding.objects.get(user=merchant_user)
    assert binding.openid == OPENID and binding.is_active

    assert merchant_client.get(reverse("notifications:wechat_status"))["HX-Refresh"] == "true"
    page = merchant_client.get(reverse("notifications:wechat"))
    assert b'data-testid="wechat-bound"' in page.content and b"wechat-qr" not in page.content


def test_it_refuses_a_state_twice_unknown_or_without_a_code(merchant_client, merchant_user, wechat_api):
    url = authorize_url(merchant_client.get(reverse("notifications:wechat")))
    unused = parse_qs(urlsplit(authorize_url(merchant_client.get(reverse("notifications:wechat")))).query)["state"][0]
    answer = requests.get(url, allow_redirects=False, timeout=5)
    callback = urlsplit(answer.headers["Location"])
    phone = Client()
    assert phone.get(f"{callback.path}?{callback.query}").status_code == 200
    again = phone.get(f"{callback.path}?{callback.query}")
    assert again.status_code == 400 and b"wechat-error" in again.content
    assert phone.get(reverse("notifications:wechat_callback"), {"state": "f" * 32, "code": "x"}).status_code == 400
    assert phone.get(reverse("notifications:wechat_callback")).status_code == 400
    assert phone.get(reverse("notifications:wechat_callback"), {"state": unused}).status_code == 400  # no code
    assert WechatBinding.objects.count() == 1


def test_it_says_when_wechat_refuses_the_code(merchant_client, merchant_user, wechat_api):
    state = parse_qs(urlsplit(authorize_url(merchant_client.get(reverse("notifications:wechat")))).query)["state"][0]
    response = Client().get(reverse("notifications:wechat_callback"), {"state": state, "code": "not-a-code"})
    assert response.status_code == 400 and "40029" in response.content.decode()
    assert not WechatBinding.objects.exists()


def test_it_says_when_wechat_cannot_be_reached(merchant_client, merchant_user, wechat_api):
    url = authorize_url(merchant_client.get(reverse("notifications:wechat")))
    callback = urlsplit(requests.get(url, allow_redirects=False, timeout=5).headers["Location"])
    wechat_api.fail_next("drop")
    response = Client().get(f"{callback.path}?{callback.query}")
    assert response.status_code == 503 and b"wechat-error" in response.content
    assert not WechatBinding.objects.exists()


def test_it_moves_a_wechat_account_to_the_user_who_scanned_last(merchant_client, other_merchant_user, wechat_api):
    services.bind_wechat(other_merchant_user, OPENID)
    scan(authorize_url(merchant_client.get(reverse("notifications:wechat"))))
    assert list(WechatBinding.objects.values_list("user__username", flat=True)) == ["alice"]


def test_it_unbinds_only_by_post(merchant_client, merchant_user, other_merchant_user, wechat_api):
    services.bind_wechat(merchant_user, OPENID)
    services.bind_wechat(other_merchant_user, "oAnotherOpenid0000000000000")
    assert merchant_client.get(reverse("notifications:wechat_unbind")).status_code == 405
    response = merchant_client.post(reverse("notifications:wechat_unbind"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("notifications:wechat")
    assert b'data-testid="wechat-qr"' in response.content
    assert list(WechatBinding.objects.values_list("user__username", flat=True)) == ["mallory"]


def test_it_offers_wechat_in_the_preferences_once_bound(merchant_client, merchant_user, wechat_api):
    page = merchant_client.get(reverse("notifications:preferences")).content.decode()
    assert "<th class=\"text-center\">WeChat</th>" in page and 'data-testid="wechat-unbound"' in page
    assert re.search(r'name="ticket.status__wechat"[^>]*disabled', page)

    services.bind_wechat(merchant_user, OPENID)
    page = merchant_client.get(reverse("notifications:preferences")).content.decode()
    assert not re.search(r'name="ticket.status__wechat"[^>]*disabled', page)
    response = merchant_client.post(
        reverse("notifications:preferences"), {"ticket.status__wechat": "on", "ticket.status__sms": "on"}
    )
    assert response.status_code == 302
    chosen = NotificationPreference.objects.get(user=merchant_user).channels["ticket.status"]
    assert sorted(chosen) == ["in_app", "sms", "wechat"]


def test_it_hides_wechat_while_the_portal_has_no_official_account(merchant_client, merchant_user, settings):
    settings.WECHAT_APP_ID = ""
    assert b"wechat-off" in merchant_client.get(reverse("notifications:wechat")).content
    assert "ticket.status__wechat" not in merchant_client.get(reverse("notifications:preferences")).content.decode()
    assert Client().get(reverse("notifications:wechat_callback"), {"state": "a" * 32}).status_code == 404


def test_it_links_the_profile_to_the_binding_page(merchant_client):
    page = merchant_client.get(reverse("accounts:profile")).content.decode()
    assert reverse("notifications:wechat") in page
