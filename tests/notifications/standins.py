"""Local stand-ins of the providers' HTTP APIs: Alibaba Cloud SMS, Tencent Cloud SMS and the WeChat
Official Account API (token, template messages, OAuth).

Each is a threaded http.server on a free port, started by the tests; the portal's real client
libraries (the Alibaba and Tencent SDKs, wechatpy) make their real HTTP calls to it. They check what
the providers check — the request signature (recomputed from the secret: ACS3-HMAC-SHA256,
TC3-HMAC-SHA256), the approved signature name and template, the template's variables, the phone
number, the access token — and answer as the providers document, error codes and throttling
included. What a test wants to go wrong (the next answer a throttling, a system error, a dropped
connection) is queued with `fail_next`.
"""

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

_ids = itertools.count(1)


class StandIn:
    """A threaded HTTP server recording every request; subclasses answer them."""

    def __init__(self):
        self.requests = []
        self.failures = []  # queued faults for the next requests (see fail_next)
        self.delay = 0.0
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms ACK wait

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                request = {
                    "method": self.command,
                    "path": url.path,
                    "query": dict(parse_qsl(url.query, keep_blank_values=True)),
                    "raw_query": url.query,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
                with stand_in.lock:
                    stand_in.requests.append(request)
                    fault = stand_in.failures.pop(0) if stand_in.failures else None
                if fault == "drop":
                    # The connection dies without an answer, as when a network link fails.
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, headers, payload = stand_in.answer(request, fault)
                # A slow answer: the provider has done its work, the caller is still waiting.
                if stand_in.delay:
                    time.sleep(stand_in.delay)
                data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, *faults):
        """Queue faults for the next requests: "drop" (no answer), or a provider error code."""
        with self.lock:
            self.failures.extend(faults)

    def answer(self, request, fault):
        raise NotImplementedError


def _json(status, payload, content_type="application/json;charset=utf-8"):
    return status, {"Content-Type": content_type}, payload


# --- Alibaba Cloud SMS (dysmsapi 2017-05-25) -----------------------------------------------------


def _rfc3986(value):
    return quote(value, safe="~")


class AliyunSms(StandIn):
    """SendSms of Alibaba Cloud SMS, signature V3 (ACS3-HMAC-SHA256) verified with the secret.

    `templates` maps an approved TemplateCode to its text with ${name} variables; `signs` are the
    approved signature names. `per_number_per_minute` is the provider's frequency control
    (isv.BUSINESS_LIMIT_CONTROL beyond it). `sent` keeps every accepted message, its text filled in.
    """

    ERRORS = {
        # code: (HTTP status, message), as documented
        "Throttling.User": (400, "Request was denied due to user flow control."),
        "isp.SYSTEM_ERROR": (200, "系统错误"),
        "isv.BUSINESS_LIMIT_CONTROL": (200, "触发分钟级流控Permits:1"),
        "isv.MOBILE_NUMBER_ILLEGAL": (200, "非法手机号"),
        "isv.SMS_TEMPLATE_ILLEGAL": (200, "该账号下找不到对应模板"),
        "isv.SMS_SIGNATURE_ILLEGAL": (200, "该账号下找不到对应签名"),
        "isv.TEMPLATE_MISSING_PARAMETERS": (200, "模板变量中存在未赋值变量"),
        "isv.INVALID_JSON_PARAM": (200, "JSON参数不合法，只接受字符串值"),
        "isv.AMOUNT_NOT_ENOUGH": (200, "账户余额不足"),
    }

    def __init__(self, *, access_keys, signs, templates, per_number_per_minute=None):
        super().__init__()
        self.access_keys = dict(access_keys)
        self.signs = set(signs)
        self.templates = dict(templates)
        self.per_number_per_minute = per_number_per_minute
        self.sent = []
        self.nonces = set()

    def _error(self, code, request_id):
        status, message = self.ERRORS.get(code, (400, code))
        return _json(status, {"RequestId": request_id, "Code": code, "Message": message})

    def _verify_signature(self, request):
        """None, or the error code the gateway answers for a bad signature."""
        headers = request["headers"]
        match = re.fullmatch(
            r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})",
            headers.get("authorization", ""),
        )
        if not match:
            return "IncompleteSignature"
        key_id, signed, signature = match.groups()
        secret = self.access_keys.get(key_id)
        if secret is None:
            return "InvalidAccessKeyId.NotFound"
        if hashlib.sha256(request["body"]).hexdigest() != headers.get("x-acs-content-sha256"):
            return "SignatureDoesNotMatch"
        nonce = headers.get("x-acs-signature-nonce", "")
        if not nonce or nonce in self.nonces:
            return "SignatureNonceUsed"
        names = signed.split(";")
        if not {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"} <= set(names):
            return "IncompleteSignature"
        query = sorted(parse_qsl(request["raw_query"], keep_blank_values=True))
        canonical = "\n".join(
            [
                request["method"],
                request["path"] or "/",
                "&".join(f"{_rfc3986(k)}={_rfc3986(v)}" for k, v in query),
                "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in names),
                signed,
                headers["x-acs-content-sha256"],
            ]
        )
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return "SignatureDoesNotMatch"
        self.nonces.add(nonce)
        return None

    def answer(self, request, fault):
        request_id = str(uuid.uuid4()).upper()
        if fault:
            return self._error(fault, request_id)
        problem = self._verify_signature(request)
        if problem:
            status = 404 if problem.startswith("InvalidAccessKeyId") else 400
            return _json(status, {"RequestId": request_id, "Code": problem, "Message": problem})
        headers, query = request["headers"], request["query"]
        if headers.get("x-acs-action") != "SendSms" or headers.get("x-acs-version") != "2017-05-25":
            return _json(404, {"RequestId": request_id, "Code": "InvalidAction.NotFound", "Message": "no such API"})
        phone = query.get("PhoneNumbers", "")
        if query.get("SignName") not in self.signs:
            return self._error("isv.SMS_SIGNATURE_ILLEGAL", request_id)
        template = self.templates.get(query.get("TemplateCode"))
        if template is None:
            return self._error("isv.SMS_TEMPLATE_ILLEGAL", request_id)
        try:
            params = json.loads(query.get("TemplateParam") or "{}")
        except ValueError:
            return self._error("isv.INVALID_JSON_PARAM", request_id)
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return self._error("isv.INVALID_JSON_PARAM", request_id)
        variables = re.findall(r"\$\{(\w+)\}", template)
        if any(name not in params for name in variables):
            return self._error("isv.TEMPLATE_MISSING_PARAMETERS", request_id)
        if not re.fullmatch(r"1[3-9]\d{9}", phone):
            return self._error("isv.MOBILE_NUMBER_ILLEGAL", request_id)
        with self.lock:
            if self.per_number_per_minute is not None:
                recent = [m for m in self.sent if m["phone"] == phone and time.time() - m["at"] < 60]
                if len(recent) >= self.per_number_per_minute:
                    return self._error("isv.BUSINESS_LIMIT_CONTROL", request_id)
            biz_id = f"{next(_ids):06d}{int(time.time())}^0"
            self.sent.append(
                {
                    "phone": phone,
                    "sign": query["SignName"],
                    "template": query["TemplateCode"],
                    "params": params,
                    "out_id": query.get("OutId", ""),
                    "text": f"【{query['SignName']}】" + re.sub(r"\$\{(\w+)\}", lambda m: params[m.group(1)], template),
                    "body_text": re.sub(r"\$\{(\w+)\}", lambda m: params[m.group(1)], template),
                    "biz_id": biz_id,
                    "at": time.time(),
                }
            )
        return _json(200, {"RequestId": request_id, "Code": "OK", "Message": "OK", "BizId": biz_id})


# --- Tencent Cloud SMS (sms 2021-01-11) ------------------------------------------------------------


def _hmac(key, message):
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


class TencentSms(StandIn):
    """SendSms of Tencent Cloud SMS, signature TC3-HMAC-SHA256 verified with the SecretKey.

    `templates` maps an approved TemplateId to its text with {1}, {2}… variables; `apps` the
    SmsSdkAppIds; `signs` the approved signature names. A number sent more than
    `per_number_per_30s` messages within 30 seconds gets LimitExceeded.PhoneNumberThirtySecondLimit.
    Errors of the whole request answer {"Response": {"Error": …}}; those of one number are its
    SendStatus, as the provider does.
    """

    STATUS_MESSAGES = {
        "LimitExceeded.PhoneNumberThirtySecondLimit": "the number of SMS messages sent from a single mobile number within 30 seconds exceeds the upper limit",
        "InvalidParameterValue.IncorrectPhoneNumber": "incorrect phone number format",
        "FailedOperation.TemplateIncorrectOrUnapproved": "template is not approved or request content does not match the approved template content",
        "FailedOperation.SignatureIncorrectOrUnapproved": "signature format is incorrect or signature is not approved",
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": "the number of template parameters does not match the template",
        "FailedOperation.InsufficientBalanceInSmsPackage": "insufficient balance in SMS package",
    }
    REQUEST_ERRORS = {
        "RequestLimitExceeded": "your current request times exceeds the limit",
        "InternalError.Timeout": "request timed out",
        "AuthFailure.SignatureFailure": "The provided credentials could not be validated",
        "AuthFailure.SecretIdNotFound": "The SecretId is not found",
        "AuthFailure.SignatureExpire": "Signature expired",
        "InvalidParameterValue.SdkAppIdNotExist": "SdkAppId does not exist",
    }

    def __init__(self, *, secrets, apps, signs, templates, per_number_per_30s=None):
        super().__init__()
        self.secrets = dict(secrets)
        self.apps = set(apps)
        self.signs = set(signs)
        self.templates = dict(templates)
        self.per_number_per_30s = per_number_per_30s
        self.sent = []

    def _request_error(self, code, request_id):
        message = self.REQUEST_ERRORS.get(code, code)
        return _json(200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}},
                     content_type="application/json")

    def _verify_signature(self, request):
        headers = request["headers"]
        match = re.fullmatch(
            r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/([a-z]+)/tc3_request, "
            r"SignedHeaders=([a-z;-]+), Signature=([0-9a-f]{64})",
            headers.get("authorization", ""),
        )
        if not match:
            return "AuthFailure.SignatureFailure"
        secret_id, date, service, signed, signature = match.groups()
        secret = self.secrets.get(secret_id)
        if secret is None:
            return "AuthFailure.SecretIdNotFound"
        timestamp = int(headers.get("x-tc-timestamp", "0"))
        if abs(time.time() - timestamp) > 300:
            return "AuthFailure.SignatureExpire"
        if service != "sms" or datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d") != date:
            return "AuthFailure.SignatureFailure"
        names = signed.split(";")
        canonical = "\n".join(
            [
                request["method"],
                request["path"] or "/",
                request["raw_query"] if request["method"] == "GET" else "",
                # names and values in lower case, trimmed (the documented canonical headers)
                "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in names),
                signed,
                hashlib.sha256(request["body"]).hexdigest(),
            ]
        )
        scope = f"{date}/{service}/tc3_request"
        to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = _hmac(_hmac(_hmac(("TC3" + secret).encode(), date), service), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(expected, signature) else "AuthFailure.SignatureFailure"

    def _status(self, phone, code, session_context, serial=""):
        return {
            "SerialNo": serial,
            "PhoneNumber": phone,
            "Fee": 1 if code == "Ok" else 0,
            "SessionContext": session_context,
            "Code": code,
            "Message": "send success" if code == "Ok" else self.STATUS_MESSAGES.get(code, code),
            "IsoCode": "CN",
        }

    def answer(self, request, fault):
        request_id = str(uuid.uuid4())
        if fault in self.REQUEST_ERRORS:
            return self._request_error(fault, request_id)
        problem = self._verify_signature(request)
        if problem:
            return self._request_error(problem, request_id)
        headers = request["headers"]
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            return self._request_error("InvalidAction", request_id)
        body = json.loads(request["body"] or b"{}")
        if body.get("SmsSdkAppId") not in self.apps:
            return self._request_error("InvalidParameterValue.SdkAppIdNotExist", request_id)
        session = body.get("SessionContext", "")
        statuses = []
        for phone in body.get("PhoneNumberSet", []):
            code = fault or self._check(body, phone)
            serial = ""
            if code == "Ok":
                with self.lock:
                    serial = f"2433:{next(_ids):018d}"
                    template = self.templates[body["TemplateId"]]
                    params = body.get("TemplateParamSet", [])
                    text = re.sub(r"\{(\d+)\}", lambda m, p=params: p[int(m.group(1)) - 1], template)
                    self.sent.append(
                        {
                            "phone": phone,
                            "sign": body["SignName"],
                            "template": body["TemplateId"],
                            "params": params,
                            "session_context": session,
                            "text": f"【{body['SignName']}】{text}",
                            "body_text": text,
                            "serial": serial,
                            "at": time.time(),
                        }
                    )
            statuses.append(self._status(phone, code, session, serial))
        return _json(200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}},
                     content_type="application/json")

    def _check(self, body, phone):
        if body.get("SignName") not in self.signs:
            return "FailedOperation.SignatureIncorrectOrUnapproved"
        template = self.templates.get(body.get("TemplateId"))
        if template is None:
            return "FailedOperation.TemplateIncorrectOrUnapproved"
        params = body.get("TemplateParamSet", [])
        if len(params) != len(set(re.findall(r"\{(\d+)\}", template))):
            return "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
        if not re.fullmatch(r"\+861[3-9]\d{9}", phone):
            return "InvalidParameterValue.IncorrectPhoneNumber"
        if self.per_number_per_30s is not None:
            with self.lock:
                recent = [m for m in self.sent if m["phone"] == phone and time.time() - m["at"] < 30]
            if len(recent) >= self.per_number_per_30s:
                return "LimitExceeded.PhoneNumberThirtySecondLimit"
        return "Ok"


# --- WeChat Official Account ----------------------------------------------------------------------

WECHAT_FIELD_LIMITS = {"thing": 20, "character_string": 32, "phrase": 5, "number": 32, "letter": 32, "symbol": 5}


class Wechat(StandIn):
    """The WeChat API of one Official Account: access tokens, template messages, OAuth 2.0.

    `templates` maps a template id to its field names (thing2, time3, …); `followers` are the
    openids that follow the account; `phone_openid` is who scans the QR code with the phone that
    follows the authorize URL; `oauth_domain` the 网页授权域名 registered for OAuth.
    """

    def __init__(self, *, appid, secret, templates, followers=(), phone_openid="", oauth_domain="127.0.0.1"):
        super().__init__()
        self.appid = appid
        self.secret = secret
        self.templates = dict(templates)
        self.followers = set(followers)
        self.phone_openid = phone_openid
        self.oauth_domain = oauth_domain
        self.tokens = {}  # token -> expiry (time.time())
        self.token_fetches = 0
        self.codes = {}  # code -> (openid, expiry)
        self.used_codes = set()
        self.sent = []
        self.seen_client_msg_ids = {}  # (openid, client_msg_id) -> (msgid, at)
        self.reject_every_token = False  # 40001 for every token, however fresh

    def expire_tokens(self):
        """Every token issued so far expires now (42001 from then on)."""
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = time.time() - 1

    def revoke_tokens(self):
        """Every token issued so far is no longer valid (40001), e.g. the secret was reset."""
        with self.lock:
            self.tokens = {token: None for token in self.tokens}

    def _error(self, errcode, errmsg):
        return _json(200, {"errcode": errcode, "errmsg": f"{errmsg} rid: {uuid.uuid4().hex[:24]}"}, "application/json; encoding=utf-8")

    def answer(self, request, fault):
        path, query = request["path"], request["query"]
        if isinstance(fault, int):
            return self._error(fault, {45009: "reach max api daily quota limit", -1: "system error"}.get(fault, "error"))
        if path == "/cgi-bin/token":
            return self._token(query)
        if path == "/cgi-bin/message/template/send" and request["method"] == "POST":
            return self._send(query, request["body"])
        if path == "/connect/oauth2/authorize":
            return self._authorize(query)
        if path == "/sns/oauth2/access_token":
            return self._oauth_token(query)
        return _json(404, b"not found", "text/plain")

    def _token(self, query):
        if query.get("grant_type") != "client_credential":
            return self._error(40002, "invalid grant_type")
        if query.get("appid") != self.appid:
            return self._error(40013, "invalid appid")
        if query.get("secret") != self.secret:
            return self._error(40125, "invalid appsecret")
        token = uuid.uuid4().hex + uuid.uuid4().hex
        with self.lock:
            self.tokens[token] = time.time() + 7200
            self.token_fetches += 1
        return _json(200, {"access_token": token, "expires_in": 7200}, "application/json; encoding=utf-8")

    def _send(self, query, body):
        with self.lock:
            expiry = self.tokens.get(query.get("access_token", ""), "unknown")
        if expiry == "unknown" or expiry is None or self.reject_every_token:
            return self._error(40001, "invalid credential, access_token is invalid or not latest")
        if expiry < time.time():
            return self._error(42001, "access_token expired")
        message = json.loads(body)
        openid = message.get("touser", "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{20,64}", openid):
            return self._error(40003, "invalid openid")
        if openid not in self.followers:
            return self._error(43004, "require subscribe")
        fields = self.templates.get(message.get("template_id"))
        if fields is None:
            return self._error(40037, "invalid template_id")
        data = message.get("data") or {}
        for name in fields:
            value = (data.get(name) or {}).get("value")
            limit = WECHAT_FIELD_LIMITS.get(name.rstrip("0123456789"))
            if not isinstance(value, str) or not value or (limit is not None and len(value) > limit):
                return self._error(47003, f"argument invalid! data.{name}.value invalid")
        key = (openid, message.get("client_msg_id") or uuid.uuid4().hex)
        with self.lock:
            seen = self.seen_client_msg_ids.get(key)
            if seen and time.time() - seen[1] < 600:
                # 防重入: one message per openid and client_msg_id within 10 minutes.
                return _json(200, {"errcode": 0, "errmsg": "ok", "msgid": seen[0]})
            msgid = 2_000_000_000 + next(_ids)
            self.seen_client_msg_ids[key] = (msgid, time.time())
            self.sent.append({"openid": openid, "template_id": message["template_id"], "url": message.get("url", ""),
                              "data": {k: v["value"] for k, v in data.items()}, "msgid": msgid,
                              "client_msg_id": message.get("client_msg_id", "")})
        return _json(200, {"errcode": 0, "errmsg": "ok", "msgid": msgid})

    def _authorize(self, query):
        """What WeChat's browser does with the authorize URL for snsapi_base: no question asked,
        straight back to redirect_uri with a code (valid 5 minutes, once) and the state."""
        redirect = query.get("redirect_uri", "")
        if query.get("appid") != self.appid:
            return _json(200, "<p>Oops! Something went wrong:( 10016 appid错误</p>".encode(), "text/html; charset=utf-8")
        if urlsplit(redirect).hostname != self.oauth_domain:
            return _json(200, "<p>10003 redirect_uri域名与后台配置不一致</p>".encode(), "text/html; charset=utf-8")
        if query.get("response_type") != "code" or query.get("scope") not in ("snsapi_base", "snsapi_userinfo"):
            return _json(200, "<p>10005 scope参数错误或没有scope权限</p>".encode(), "text/html; charset=utf-8")
        state = query.get("state", "")
        if not re.fullmatch(r"[A-Za-z0-9]{0,128}", state):
            return _json(200, "<p>state参数错误</p>".encode(), "text/html; charset=utf-8")
        code = uuid.uuid4().hex
        with self.lock:
            self.codes[code] = (self.phone_openid, time.time() + 300)
        sep = "&" if "?" in redirect else "?"
        location = redirect + sep + urlencode({"code": code, "state": state})
        return 302, {"Location": location, "Content-Type": "text/html"}, b""

    def _oauth_token(self, query):
        if query.get("appid") != self.appid:
            return self._error(40013, "invalid appid")
        if query.get("secret") != self.secret:
            return self._error(40125, "invalid appsecret")
        if query.get("grant_type") != "authorization_code":
            return self._error(40002, "invalid grant_type")
        code = query.get("code", "")
        with self.lock:
            if code in self.used_codes:
                return self._error(40163, "code been used")
            found = self.codes.pop(code, None)
            if found is None or found[1] < time.time():
                return self._error(40029, "invalid code")
            self.used_codes.add(code)
        return _json(
            200,
            {
                "access_token": uuid.uuid4().hex,
                "expires_in": 7200,
                "refresh_token": uuid.uuid4().hex,
                "openid": found[0],
                "scope": "snsapi_base",
            },
            "application/json; encoding=utf-8",
        )
