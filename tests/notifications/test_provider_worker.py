"""SMS (Alibaba Cloud) and WeChat with a REAL Celery worker on Redis and the PostgreSQL test
database: the worker's real SDK calls reach the stand-ins, once per row, however often the task is
queued; the access token is shared by the worker's pool processes through Redis; a pool process
killed while WeChat answers leaves one message (client_msg_id), not two.
"""

import json
import os
import time
from pathlib import Path

import pytest
from django.db import transaction

from notifications import services
from notifications.models import Notification
from notifications.services import notify
from portal.celery import app as celery_app
from tests.factories import MerchantUserFactory
from tests.notifications.conftest import (
    ALIYUN_TEMPLATES,
    APPID,
    SIGN,
    WECHAT_SETTINGS,
    WECHAT_TEMPLATES,
)
from tests.notifications.factories import PreferenceFactory
from tests.notifications.standins import AliyunSms, Wechat
from tests.notifications.test_worker import _database_url
from tests.notifications.worker_support import RedisServer, Worker, configure_celery, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)"),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the worker process shares the test database: needs PostgreSQL (set DATABASE_URL)",
    ),
]

S = Notification.Status
KEY_ID, KEY_SECRET = "LTAI5tWorkerKeyId0001", "aliyun-worker-secret-0001"
WECHAT_SECRET = "wechat-worker-app-secret-01"
SMS_TEMPLATES = {"ticket.status": {"zh-hans": "SMS_480001", "en": "SMS_480002"}}
CONTEXT = {
    "service_order_no": "SO20261124-0099",
    "terminal": "SN00000099",
    "from_status": "network_testing",
    "to_status": "ready_for_pickup",
}


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """Our redis-server (broker and cache), the two stand-ins and a worker pointed at them."""
    tmp = tmp_path_factory.mktemp("provider-worker")
    redis_server = RedisServer()
    redis_server.start()
    aliyun = AliyunSms(access_keys={KEY_ID: KEY_SECRET}, signs=[SIGN], templates=ALIYUN_TEMPLATES).start()
    wechat_api = Wechat(appid=APPID, secret=WECHAT_SECRET, templates=WECHAT_TEMPLATES).start()
    with django_db_blocker.unblock():
        database_url = _database_url()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": "worker-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "0",
        "REDIS_URL": redis_server.url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_URL": "dummymail://",
        "SMS_BACKEND": "notifications.sms.AliyunBackend",
        "SMS_ENDPOINT": aliyun.url,
        "SMS_ACCESS_KEY_ID": KEY_ID,
        "SMS_ACCESS_KEY_SECRET": KEY_SECRET,
        "SMS_SIGN_NAME": SIGN,
        "SMS_TEMPLATES": json.dumps(SMS_TEMPLATES),
        "WECHAT_APP_ID": APPID,
        "WECHAT_APP_SECRET": WECHAT_SECRET,
        "WECHAT_API_URL": wechat_api.url,
        "WECHAT_OAUTH_URL": wechat_api.url,
        "WECHAT_TEMPLATES": json.dumps(WECHAT_SETTINGS),
        "PORTAL_BASE_URL": "https://pos.example-bank.cn",
        "NOTIFICATIONS_RETRY_BASE_SECONDS": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "LOG_LEVEL": "INFO",
    }
    worker = Worker(env, tmp / "worker.log")
    worker.start()
    saved = {"broker_url": celery_app.conf.broker_url, "task_always_eager": celery_app.conf.task_always_eager}
    configure_celery(broker_url=redis_server.url, task_always_eager=False)
    assert celery_app.conf.broker_url == redis_server.url and not celery_app.conf.task_always_eager

    yield type("Stack", (), {"redis": redis_server, "aliyun": aliyun, "wechat": wechat_api, "worker": worker})

    worker.stop()
    configure_celery(**saved)
    aliyun.stop()
    wechat_api.stop()
    redis_server.stop()


@pytest.fixture
def fresh(stack, settings):
    """The test process writes the outbox as the worker's settings say (WeChat configured)."""
    settings.WECHAT_APP_ID = APPID
    stack.aliyun.sent.clear()
    stack.aliyun.requests.clear()
    stack.wechat.sent.clear()
    stack.wechat.requests.clear()
    stack.wechat.delay = 0
    return stack


def _wechat_merchant(openid, language="zh-hans", phone="13800000501"):
    user = MerchantUserFactory(language=language, phone=phone, email="")
    services.bind_wechat(user, openid)
    PreferenceFactory(user=user, channels={"ticket.status": ["in_app", "sms", "wechat"]})
    return user


def _transition(recipients, key):
    with transaction.atomic():
        return notify(kind="ticket.status", event_key=key, recipients=recipients, context=CONTEXT,
                      url="/tickets/SO20261124-0099/")


def _sent(n):
    return lambda: Notification.objects.filter(status=S.SENT).exclude(channel="in_app").count() == n


def test_it_sends_sms_and_wechat_once_each_in_the_recipients_language(fresh):
    zh = _wechat_merchant("oWorkerZh0000000000000001")
    en = _wechat_merchant("oWorkerEn0000000000000001", language="en", phone="13800000502")
    fresh.wechat.followers |= {"oWorkerZh0000000000000001", "oWorkerEn0000000000000001"}
    rows = _transition([zh, en], "ticket-event:9001")
    assert sorted(r.channel for r in rows) == ["in_app", "in_app", "sms", "sms", "wechat", "wechat"]
    wait_for(_sent(4), timeout=30, message="two SMS and two WeChat messages")

    sms = {m["phone"]: m for m in fresh.aliyun.sent}
    assert len(fresh.aliyun.sent) == 2
    assert sms["13800000501"]["body_text"] == "工单 SO20261124-0099：待取机。"
    assert sms["13800000502"]["body_text"] == "Ticket SO20261124-0099: Ready for pickup."
    wx = {m["openid"]: m for m in fresh.wechat.sent}
    assert len(fresh.wechat.sent) == 2
    assert wx["oWorkerZh0000000000000001"]["data"]["thing2"] == "待取机"
    assert wx["oWorkerEn0000000000000001"]["data"]["thing2"] == "Ready for pickup"
    assert wx["oWorkerZh0000000000000001"]["url"] == "https://pos.example-bank.cn/tickets/SO20261124-0099/"
    ids = dict(Notification.objects.exclude(channel="in_app").values_list("channel", "provider_message_id")
               .filter(recipient=zh))
    assert ids["sms"] == sms["13800000501"]["biz_id"] and ids["wechat"] == str(wx["oWorkerZh0000000000000001"]["msgid"])


def test_it_sends_once_when_the_task_is_duplicated(fresh):
    user = _wechat_merchant("oWorkerDup000000000000001", phone="13800000503")
    fresh.wechat.followers.add("oWorkerDup000000000000001")
    rows = _transition([user], "ticket-event:9002")
    ids = [n.pk for n in rows if n.status == S.PENDING]
    for _ in range(4):
        services.enqueue(ids)
    wait_for(_sent(2), timeout=30, message="the SMS and the WeChat message")
    time.sleep(2)  # the duplicates run meanwhile and find nothing to claim
    assert len(fresh.aliyun.sent) == 1 and len(fresh.wechat.sent) == 1
    assert len([r for r in fresh.wechat.requests if r["path"] == "/cgi-bin/message/template/send"]) == 1
    assert set(Notification.objects.exclude(channel="in_app").values_list("attempts", flat=True)) == {1}


def test_it_shares_one_access_token_between_the_pool_processes(fresh):
    users = []
    for i in range(6):
        openid = f"oWorkerShare{i:013d}"
        users.append(_wechat_merchant(openid, phone=f"1380000060{i}"))
        fresh.wechat.followers.add(openid)
    for i, user in enumerate(users):
        _transition([user], f"ticket-event:91{i}")
    wait_for(_sent(12), timeout=60, message="six SMS and six WeChat messages")
    assert len(fresh.wechat.sent) == 6
    # Two pool processes, every message of this module: one token, fetched once.
    assert fresh.wechat.token_fetches == 1


def test_it_leaves_one_wechat_message_when_a_pool_process_dies_while_wechat_answers(fresh):
    """WeChat accepted the message, but the worker died before it heard so: the redelivered task
    (same id) takes its row back and sends again with the same client_msg_id, which WeChat drops."""
    user = MerchantUserFactory(language="zh-hans", phone="", email="")
    services.bind_wechat(user, "oWorkerKill00000000000001")
    PreferenceFactory(user=user, channels={"ticket.status": ["in_app", "wechat"]})
    fresh.wechat.followers.add("oWorkerKill00000000000001")
    fresh.wechat.delay = 60
    row = next(n for n in _transition([user], "ticket-event:9100") if n.channel == "wechat")

    def sending():
        return [r for r in fresh.wechat.requests if r["path"] == "/cgi-bin/message/template/send"]

    wait_for(lambda: sending(), timeout=30, message="the WeChat send to start")
    fresh.wechat.delay = 0
    children = Path(f"/proc/{fresh.worker.proc.pid}/task/{fresh.worker.proc.pid}/children").read_text().split()
    for pid in children:
        os.kill(int(pid), 9)
    # The pool restarts its processes and the broker hands the task back: seconds on an idle machine,
    # over a minute once seen on a loaded 2-core CI machine (the suite then ran 1,021 s instead of 705).
    wait_for(lambda: Notification.objects.get(pk=row.pk).status == S.SENT, timeout=150, message="the message")
    assert len(sending()) == 2  # sent twice ...
    assert len(fresh.wechat.sent) == 1  # ... received once
    row.refresh_from_db()
    assert row.attempts == 2 and row.provider_message_id == str(fresh.wechat.sent[0]["msgid"])
