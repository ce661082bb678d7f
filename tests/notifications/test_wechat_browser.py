"""Binding and unbinding WeChat in Chromium: the merchant opens the WeChat page from their profile
and sees a QR code of WeChat's authorize URL; a phone (a second browser, not signed in) opens it,
the WeChat stand-in sends it back to our callback with a code, the callback binds the openid; the
merchant's page notices by itself; WeChat is then offered in the settings; unbinding ends it."""

import re
from urllib.parse import urlsplit

import pytest
import segno

from notifications.models import NotificationPreference, WechatBinding
from tests.factories import PASSWORD, MerchantUserFactory
from tests.notifications.conftest import OPENID

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_binds_wechat_by_qr_code_and_unbinds_it(page, login, live_server, wechat_api, settings, _playwright_browser):
    settings.PORTAL_BASE_URL = live_server.url
    wechat_api.oauth_domain = urlsplit(live_server.url).hostname
    user = MerchantUserFactory(username="wxmerchant", language="en", phone="13800008001")
    login("wxmerchant", PASSWORD)

    page.goto("/accounts/profile/")
    page.get_by_test_id("wechat-link").click()
    qr = page.get_by_test_id("wechat-qr")
    qr.wait_for(state="visible")
    url = page.get_by_test_id("wechat-authorize").get_attribute("href")
    assert url.startswith(wechat_api.url + "/connect/oauth2/authorize?appid=")
    # The QR code the merchant sees is that very URL.
    expected = segno.make(url, error="m", micro=False).svg_inline(scale=4, lineclass=None, border=2)
    assert re.search(r' d="([^"]+)"', qr.evaluate("e => e.outerHTML")).group(1) == re.search(
        r' d="([^"]+)"', expected
    ).group(1)

    phone = _playwright_browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844},
        user_agent="Mozilla/5.0 (iPhone) MicroMessenger/8.0.50",
    )
    try:
        scanned = phone.new_page()
        scanned.goto(url)
        assert scanned.url.startswith(live_server.url + "/notifications/wechat/callback/?code=")
        assert "now receives the portal notifications of" in scanned.get_by_test_id("wechat-bound-phone").inner_text()
    finally:
        phone.close()
    assert WechatBinding.objects.get(user=user).openid == OPENID

    # The page polls, then reloads itself once the phone has bound.
    page.get_by_test_id("wechat-bound").wait_for(state="visible", timeout=15_000)
    assert page.get_by_test_id("wechat-qr").count() == 0

    page.get_by_role("link", name="Notification settings").first.click()
    box = page.locator("input[name='ticket.status__wechat']")
    assert box.is_enabled()
    box.check()
    page.get_by_role("button", name="Save").click()
    assert page.locator("input[name='ticket.status__wechat']").is_checked()
    assert "wechat" in NotificationPreference.objects.get(user=user).channels["ticket.status"]

    page.goto("/notifications/wechat/")
    page.get_by_test_id("wechat-unbind").click()
    page.get_by_test_id("wechat-qr").wait_for(state="visible")
    assert "no longer receive notifications on WeChat" in page.locator(".alert").first.inner_text()
    assert not WechatBinding.objects.filter(user=user).exists()
    page.goto("/notifications/settings/")
    assert page.locator("input[name='ticket.status__wechat']").is_disabled()
