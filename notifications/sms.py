"""SMS: a small backend interface; the provider is chosen by the SMS_BACKEND setting.

A backend subclasses BaseBackend and implements `send(phone, text)`, raising on failure (the
delivery retries), or `send_message(message)` returning the provider's message id. Development
uses ConsoleBackend (the log) or FileBackend (one JSON line per message in SMS_FILE_PATH).

Chinese providers send only templates the bank registered and had approved, filled with
variables: AliyunBackend (Alibaba Cloud SMS) and TencentBackend (Tencent Cloud SMS) send the
template of SMS_TEMPLATES for the kind and language, its variables the kind's params.txt, through
the providers' own SDKs. Their error codes decide between a retry (throttling, balance, the
provider's or the network's fault) and a final failure (bad number, template or signature).
"""

import functools
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from notifications.providers import provider_error

log = logging.getLogger(__name__)

ELLIPSIS = "…"


def fit(text, limit=None):
    """The message cut to the SMS limit (70 characters: one Chinese SMS), ending in … when cut."""
    limit = limit or settings.SMS_MAX_CHARS
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def fit_params(text, params, limit=None):
    """The template variables cut (longest first, ending in …) until `text` — the message as
    sms.txt words it, which is the wording the bank registers — fits the SMS limit."""
    limit = limit or settings.SMS_MAX_CHARS
    params = dict(params)
    while len(text) > limit:
        shown = [k for k, v in params.items() if len(v) > 1 and v in text]
        if not shown:
            break
        name = max(shown, key=lambda k: len(params[k]))
        value = params[name]
        keep = max(len(value) - (len(text) - limit) - 1, 1)
        cut = value[:keep].rstrip() + ELLIPSIS
        text = text.replace(value, cut, 1)
        params[name] = cut
    return params


@dataclass
class Message:
    phone: str
    # The whole message as the portal words it (sms.txt), at most SMS_MAX_CHARS.
    text: str
    kind: str = ""
    language: str = ""
    # For a template provider: the approved template and its variables, in params.txt's order.
    template_id: str = ""
    params: dict = field(default_factory=dict)
    # "notification-<id>": handed to the provider (OutId, SessionContext) to match its receipts.
    reference: str = ""


class BaseBackend:
    # True for providers that send approved templates (the delivery then fills template_id/params).
    uses_templates = False

    def send(self, phone, text):
        raise NotImplementedError

    def send_message(self, message):
        """Send `message`; the provider's id for it, or None."""
        self.send(message.phone, message.text)
        return None


class ConsoleBackend(BaseBackend):
    def send(self, phone, text):
        log.info("SMS to %s: %s", phone, text)


class FileBackend(BaseBackend):
    _lock = threading.Lock()

    def __init__(self, path=None):
        self.path = path or settings.SMS_FILE_PATH

    def send(self, phone, text):
        line = json.dumps({"to": phone, "text": text, "at": timezone.now().isoformat()}, ensure_ascii=False)
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


class LocmemBackend(BaseBackend):
    """Keeps messages in `outbox` (tests)."""

    outbox = []

    def send(self, phone, text):
        self.outbox.append({"to": phone, "text": text})


def get_backend():
    return import_string(settings.SMS_BACKEND)()


# --- providers ------------------------------------------------------------------------------


def _digits(phone):
    return re.sub(r"[^0-9+]", "", phone or "")


def mainland_or_international(phone):
    """Alibaba's form: 13800000000 in mainland China, the country code first abroad (85261234567)."""
    number = _digits(phone)
    if number.startswith("+86"):
        return number[3:]
    if number.startswith("00"):
        return number[2:]
    return number.lstrip("+")


def e164(phone):
    """Tencent's form: +8613800000000 (a number without a country code is a mainland one)."""
    number = _digits(phone)
    if number.startswith("+"):
        return number
    if number.startswith("00"):
        return "+" + number[2:]
    return "+86" + number


def _endpoint():
    """(scheme, host[:port]) of SMS_ENDPOINT, or (None, None) for the SDK's own endpoint."""
    if not settings.SMS_ENDPOINT:
        return None, None
    url = urlsplit(settings.SMS_ENDPOINT if "//" in settings.SMS_ENDPOINT else "https://" + settings.SMS_ENDPOINT)
    return url.scheme or "https", url.netloc


class TemplateBackend(BaseBackend):
    uses_templates = True
    # Error codes (and code prefixes) that no retry will fix; any other code is retried.
    permanent_codes = frozenset()
    permanent_prefixes = ()

    @classmethod
    def is_permanent(cls, code):
        return code in cls.permanent_codes or code.startswith(cls.permanent_prefixes)

    def error(self, code, message):
        return provider_error(code, message, self.is_permanent)

    def send(self, phone, text):
        raise TypeError(f"{type(self).__name__} sends approved templates only: use send_message")


@functools.lru_cache(maxsize=4)
def _aliyun_client(key_id, secret, endpoint, timeout):
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi import models as open_api_models

    scheme, host = endpoint
    config = open_api_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        connect_timeout=timeout * 1000,
        read_timeout=timeout * 1000,
    )
    if host:
        config.endpoint = host
        config.protocol = scheme
    return Client(config)


class AliyunBackend(TemplateBackend):
    """Alibaba Cloud SMS (阿里云短信服务, dysmsapi 2017-05-25 SendSms), through its SDK."""

    # https://help.aliyun.com/zh/sms/developer-reference/api-error-codes
    permanent_codes = frozenset(
        {
            "isv.MOBILE_NUMBER_ILLEGAL",  # 非法手机号
            "isv.MOBILE_COUNT_OVER_LIMIT",
            "isv.SMS_TEMPLATE_ILLEGAL",  # 模板不存在或未审核通过
            "isv.SMS_SIGNATURE_ILLEGAL",  # 签名不存在或未审核通过
            "isv.SMS_SIGN_ILLEGAL",
            "isv.TEMPLATE_MISSING_PARAMETERS",  # 模板变量缺少参数
            "isv.TEMPLATE_PARAMS_ILLEGAL",
            "isv.INVALID_JSON_PARAM",
            "isv.INVALID_PARAMETERS",
            "isv.PARAM_LENGTH_LIMIT",
            "isv.PARAM_NOT_SUPPORT_URL",
            "isv.BLACK_KEY_CONTROL_LIMIT",  # 黑名单
            "isv.SMS_CONTENT_ILLEGAL",
            "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
            "isv.DENY_IP_RANGE",
            "isv.ACCOUNT_NOT_EXISTS",
            "isv.ACCOUNT_ABNORMAL",
            "isv.PRODUCT_UN_SUBSCRIPT",
            "isv.PRODUCT_UNSUBSCRIBE",
            "isp.RAM_PERMISSION_DENY",
            "SignatureDoesNotMatch",
            "IncompleteSignature",
        }
    )
    permanent_prefixes = ("InvalidAccessKeyId", "Forbidden", "MissingParameter", "InvalidParameter")

    def send_message(self, message):
        from alibabacloud_dysmsapi20170525 import models

        client = _aliyun_client(
            settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET, _endpoint(), settings.SMS_TIMEOUT_SECONDS
        )
        request = models.SendSmsRequest(
            phone_numbers=mainland_or_international(message.phone),
            sign_name=settings.SMS_SIGN_NAME,
            template_code=message.template_id,
            template_param=json.dumps(message.params, ensure_ascii=False) if message.params else None,
            out_id=message.reference or None,
        )
        try:
            body = client.send_sms(request).body
        except Exception as exc:  # noqa: BLE001 - the SDK's exceptions carry the provider's code
            code = getattr(exc, "code", None)
            if code in (None, "", "None"):
                raise self.error("", f"{type(exc).__name__}: {exc}") from exc
            raise self.error(code, getattr(exc, "message", "") or str(exc)) from exc
        if body.code != "OK":
            raise self.error(body.code, body.message)
        return body.biz_id


@functools.lru_cache(maxsize=4)
def _tencent_client(secret_id, secret_key, region, endpoint, timeout):
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import sms_client

    scheme, host = endpoint
    http = HttpProfile(reqTimeout=timeout)
    if host:
        http = HttpProfile(protocol=scheme, endpoint=host, reqTimeout=timeout)
    return sms_client.SmsClient(
        credential.Credential(secret_id, secret_key), region, ClientProfile(httpProfile=http)
    )


class TencentBackend(TemplateBackend):
    """Tencent Cloud SMS (腾讯云短信, sms 2021-01-11 SendSms), through its SDK."""

    # https://cloud.tencent.com/document/product/382/55981 (SendSms error codes)
    permanent_codes = frozenset(
        {
            "FailedOperation.TemplateIncorrectOrUnapproved",  # 模板未审批或内容不匹配
            "FailedOperation.SignatureIncorrectOrUnapproved",  # 签名未审批或格式错误
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",  # 参数个数与模板不符
            "FailedOperation.PhoneNumberInBlacklist",
            "FailedOperation.PhoneNumberParseFail",
            "FailedOperation.ContainSensitiveWord",
            "FailedOperation.JsonParseFail",
            "FailedOperation.MissingTemplateToModify",
            "FailedOperation.MarketingSendTimeConstraint",
        }
    )
    permanent_prefixes = (
        "InvalidParameter",  # InvalidParameterValue.IncorrectPhoneNumber, …TemplateParameterFormatError
        "MissingParameter",
        "AuthFailure",
        "UnauthorizedOperation",
        "UnsupportedOperation",
    )

    def send_message(self, message):
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        client = _tencent_client(
            settings.SMS_ACCESS_KEY_ID,
            settings.SMS_ACCESS_KEY_SECRET,
            settings.SMS_TENCENT_REGION,
            _endpoint(),
            settings.SMS_TIMEOUT_SECONDS,
        )
        request = models.SendSmsRequest()
        request.SmsSdkAppId = settings.SMS_TENCENT_SDK_APP_ID
        request.SignName = settings.SMS_SIGN_NAME
        request.TemplateId = message.template_id
        request.TemplateParamSet = list(message.params.values())
        request.PhoneNumberSet = [e164(message.phone)]
        request.SessionContext = message.reference
        try:
            response = client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise self.error(exc.get_code() or "", exc.get_message()) from exc
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise self.error("", "the answer has no send status")
        if status.Code != "Ok":
            raise self.error(status.Code, status.Message)
        return status.SerialNo
