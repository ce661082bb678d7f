"""WeChat Official Account (微信公众号): template messages and the OAuth binding, through wechatpy.

wechatpy (1.8) speaks the documented HTTP API; three things are added around it here:

- The base URLs come from WECHAT_API_URL / WECHAT_OAUTH_URL (wechatpy hard-codes the token URL),
  and every HTTP call has a timeout (wechatpy's token and OAuth calls have none).
- The access token lives in Django's cache (Redis in production), shared by every worker and
  kept a little shorter than WeChat says it lives; one worker fetches a new one under a lock in
  the cache while the others wait for it (each fetch makes the previous token stale within
  minutes, and the daily number of fetches is limited).
- A token WeChat calls invalid or expired (40001, 40014, 42001) is dropped — unless another
  worker already replaced it — and the message sent once more with a fresh one. wechatpy's own
  auto_retry is off: it retries for ever.

Each message carries client_msg_id "notification-<id>": WeChat sends one message per openid and
client_msg_id within 10 minutes, so a delivery repeated after a worker died does not reach the
user twice.
"""

import functools
import logging
import time

import requests
from django.conf import settings
from django.core.cache import cache
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException
from wechatpy.oauth import WeChatOAuth
from wechatpy.session import SessionStorage

from notifications.providers import provider_error

log = logging.getLogger(__name__)

# A token WeChat no longer accepts: fetch another one and send again, once.
TOKEN_ERRORS = {40001, 40014, 41001, 42001}
REQUIRE_SUBSCRIBE = 43004  # 需要接收者关注: the user does not follow the Official Account
INVALID_OPENID = 40003
# https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
PERMANENT_ERRORS = {
    INVALID_OPENID,  # 不合法的 OpenID
    REQUIRE_SUBSCRIBE,
    40013,  # 不合法的 AppID
    40037,  # 不合法的模板 ID
    40125,  # 不合法的 AppSecret
    40164,  # 调用接口的 IP 地址不在白名单中
    40029,  # 无效的 OAuth code (binding)
    40163,  # OAuth code 已被使用 (binding)
    43101,  # 用户拒绝接受消息
    47003,  # 模板参数不准确
    48001,  # 接口未授权
}
# The token is dropped from the cache this long before WeChat's expiry.
TOKEN_MARGIN_SECONDS = 300

# WeChat's template fields take values of a type named by the field's prefix, some with a
# length limit (characters): 2023 rules for template messages.
FIELD_LIMITS = {
    "thing": 20,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "phrase": 5,
    "name": 10,
    "phone_number": 17,
    "car_number": 8,
}


def is_configured():
    return bool(settings.WECHAT_APP_ID)


def fit_field(name, value):
    """`value` cut to what WeChat accepts in template field `name` (thing2 → 20 characters)."""
    limit = FIELD_LIMITS.get(name.rstrip("0123456789"))
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"


def is_permanent(errcode):
    return errcode in PERMANENT_ERRORS


class CacheStorage(SessionStorage):
    """wechatpy's session storage on Django's cache: one access token for every worker."""

    prefix = "wechat:"

    def get(self, key, default=None):
        return cache.get(self.prefix + key, default)

    def set(self, key, value, ttl=None):
        if value is None:
            return
        timeout = max(int(ttl) - TOKEN_MARGIN_SECONDS, 30) if ttl else None
        cache.set(self.prefix + key, value, timeout=timeout)

    def delete(self, key):
        cache.delete(self.prefix + key)


class _TimeoutSession(requests.Session):
    def __init__(self, timeout):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method, url, *args, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


class Client(WeChatClient):
    """wechatpy's client on our base URL, with the token shared in the cache."""

    def __init__(self, appid, secret, api_url, timeout):
        super().__init__(appid, secret, session=CacheStorage(), timeout=timeout, auto_retry=False)
        self.api_url = api_url.rstrip("/")
        self.API_BASE_URL = self.api_url + "/cgi-bin/"
        self._http = _TimeoutSession(timeout)

    @property
    def lock_key(self):
        return f"{CacheStorage.prefix}{self.access_token_key}:lock"

    def fetch_access_token(self):
        """A new token, fetched by one worker at a time; the others wait for it (a few seconds)."""
        if cache.add(self.lock_key, "1", timeout=int(self.timeout or 10) + 5):
            try:
                return self._fetch_access_token(
                    url=self.api_url + "/cgi-bin/token",
                    params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
                )
            finally:
                cache.delete(self.lock_key)
        deadline = time.monotonic() + (self.timeout or 10)
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if self.session.get(self.access_token_key):
                self.expires_at = None  # another worker's token: the cache's expiry governs it
                return None
        raise provider_error("", "timed out waiting for another worker's access token", is_permanent)

    def drop_token(self, token):
        """Forget `token` unless another worker has already put a newer one in the cache."""
        if self.session.get(self.access_token_key) == token:
            self.session.delete(self.access_token_key)
        self.expires_at = None


@functools.lru_cache(maxsize=4)
def _client(appid, secret, api_url, timeout):
    return Client(appid, secret, api_url, timeout)


def client():
    return _client(
        settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, settings.WECHAT_API_URL, settings.WECHAT_TIMEOUT_SECONDS
    )


def _error(exc):
    if isinstance(exc, WeChatClientException | WeChatOAuthException) and exc.errcode is not None:
        return provider_error(exc.errcode, exc.errmsg, is_permanent)
    return provider_error("", f"{type(exc).__name__}: {exc}", is_permanent)


def send_template(*, openid, template_id, data, url, client_msg_id):
    """Send one template message; WeChat's msgid. Raises PermanentError (errcode kept in the
    message and in `.errcode`) or TransientError."""
    wechat = client()
    payload = {
        "touser": openid,
        "template_id": template_id,
        "url": url,
        "data": {name: {"value": value} for name, value in data.items()},
        "client_msg_id": client_msg_id,
    }
    for attempt in (1, 2):
        token = None
        try:
            token = wechat.access_token
            result = wechat.post("message/template/send", params={"access_token": token}, data=payload)
            return str(result.get("msgid", ""))
        except WeChatClientException as exc:
            if exc.errcode in TOKEN_ERRORS and attempt == 1:
                log.info("WeChat refused the access token (%s): fetching a new one", exc.errcode)
                wechat.drop_token(token)
                continue
            error = _error(exc)
            error.errcode = exc.errcode
            raise error from exc
        except requests.RequestException as exc:
            raise _error(exc) from exc


# --- binding (OAuth 2.0, snsapi_base: the openid only, no consent screen) ---------------------


class OAuth(WeChatOAuth):
    def __init__(self, redirect_uri, state=""):
        super().__init__(settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, redirect_uri, "snsapi_base", state)
        self.OAUTH_BASE_URL = settings.WECHAT_OAUTH_URL.rstrip("/") + "/connect/"
        self.API_BASE_URL = settings.WECHAT_API_URL.rstrip("/") + "/"
        self._http = _TimeoutSession(settings.WECHAT_TIMEOUT_SECONDS)


def authorize_url(redirect_uri, state):
    """Where the phone goes (the QR code): WeChat asks nothing and comes back with a code."""
    return OAuth(redirect_uri, state).authorize_url


def openid_for_code(code, redirect_uri):
    """The openid of the WeChat user who scanned, for the `code` WeChat handed the callback."""
    try:
        return OAuth(redirect_uri).fetch_access_token(code)["openid"]
    except (WeChatOAuthException, requests.RequestException, KeyError, ValueError) as exc:
        raise _error(exc) from exc
