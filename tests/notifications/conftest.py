"""The providers' stand-ins, started per test, and the settings that point the portal at them."""

import pytest
from django.core.cache import cache

from tests.notifications.standins import AliyunSms, TencentSms, Wechat

SIGN = "浦发示例银行"

# The approved templates, worded as the kinds' sms.txt (docs/notifications.md "SMS and WeChat").
ALIYUN_TEMPLATES = {
    "SMS_480001": "工单 ${no}：${status}。",
    "SMS_480002": "Ticket ${no}: ${status}.",
    "SMS_480009": "POS 门户有您的新消息。",
    "SMS_480010": "There is news for you in the POS Portal.",
}
TENCENT_TEMPLATES = {
    "2100001": "工单 {1}：{2}。",
    "2100002": "Ticket {1}: {2}.",
    "2100009": "POS 门户有您的新消息。",
    "2100010": "There is news for you in the POS Portal.",
}
WECHAT_TEMPLATES = {
    "TPL-ticket-zh": ["character_string1", "thing2", "time3"],
    "TPL-ticket-en": ["character_string1", "thing2", "time3"],
    "TPL-news": ["thing1", "time2"],
}
WECHAT_SETTINGS = {
    "ticket.status": {
        "zh-hans": {"id": "TPL-ticket-zh", "fields": {"character_string1": "no", "thing2": "status", "time3": "time"}},
        "en": {"id": "TPL-ticket-en", "fields": {"character_string1": "no", "thing2": "status", "time3": "time"}},
    },
    "default": {"id": "TPL-news", "fields": {"thing1": "subject", "time2": "time"}},
}
APPID = "wx5f3a9c1e7b2d4068"
OPENID = "oW7xk5dQ2hYfA9mPzR3tLbN8sUcE"


@pytest.fixture
def aliyun(settings):
    stand_in = AliyunSms(
        access_keys={"LTAI5tTestKeyId000001": "aliyun-test-secret-0001"}, signs=[SIGN], templates=ALIYUN_TEMPLATES
    ).start()
    settings.SMS_BACKEND = "notifications.sms.AliyunBackend"
    settings.SMS_ENDPOINT = stand_in.url
    settings.SMS_ACCESS_KEY_ID = "LTAI5tTestKeyId000001"
    settings.SMS_ACCESS_KEY_SECRET = "aliyun-test-secret-0001"
    settings.SMS_SIGN_NAME = SIGN
    settings.SMS_TIMEOUT_SECONDS = 3
    settings.SMS_TEMPLATES = {
        "ticket.status": {"zh-hans": "SMS_480001", "en": "SMS_480002"},
        "default": {"zh-hans": "SMS_480009", "en": "SMS_480010"},
    }
    yield stand_in
    stand_in.stop()


@pytest.fixture
def tencent(settings):
    stand_in = TencentSms(
        secrets={"AKIDtestSecretId000000000000000000001": "tencent-test-secret-key-0001"},
        apps=["1400812345"],
        signs=[SIGN],
        templates=TENCENT_TEMPLATES,
    ).start()
    settings.SMS_BACKEND = "notifications.sms.TencentBackend"
    settings.SMS_ENDPOINT = stand_in.url
    settings.SMS_ACCESS_KEY_ID = "AKIDtestSecretId000000000000000000001"
    settings.SMS_ACCESS_KEY_SECRET = "tencent-test-secret-key-0001"
    settings.SMS_TENCENT_SDK_APP_ID = "1400812345"
    settings.SMS_SIGN_NAME = SIGN
    settings.SMS_TIMEOUT_SECONDS = 3
    settings.SMS_TEMPLATES = {
        "ticket.status": {"zh-hans": "2100001", "en": "2100002"},
        "default": {"zh-hans": "2100009", "en": "2100010"},
    }
    yield stand_in
    stand_in.stop()


@pytest.fixture
def wechat_api(settings):
    """The Official Account's API; OPENID follows it. The token cache starts empty."""
    stand_in = Wechat(
        appid=APPID, secret="wechat-test-app-secret-0001", templates=WECHAT_TEMPLATES, followers=[OPENID],
        phone_openid=OPENID,
    ).start()
    settings.WECHAT_APP_ID = APPID
    settings.WECHAT_APP_SECRET = "wechat-test-app-secret-0001"
    settings.WECHAT_API_URL = stand_in.url
    settings.WECHAT_OAUTH_URL = stand_in.url
    settings.WECHAT_TIMEOUT_SECONDS = 3
    settings.WECHAT_TEMPLATES = WECHAT_SETTINGS
    cache.clear()
    yield stand_in
    stand_in.stop()
    cache.clear()
