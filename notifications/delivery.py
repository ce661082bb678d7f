"""Delivery of one outbox row, run by the `deliver_notification` task.

A row is claimed atomically (pending and due → sending) before anything is sent, so a task that
runs twice sends once; a failure puts it back to pending with exponential backoff until the last
attempt, which leaves it `failed` with the error kept. E-mail carries a stable Message-ID and
webhooks an X-Portal-Delivery id, so a receiver can drop the copy that a worker killed between
sending and recording may cause; an SMS carries the row's id to the provider (OutId,
SessionContext) and a WeChat message a client_msg_id that WeChat itself deduplicates.
"""

import contextlib
import functools
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, connection
from django.db.models import F, Q
from django.template.loader import select_template
from django.utils import timezone, translation
from django_guid import get_guid

from notifications import metrics, sms, wechat, worker
from notifications.models import Notification, WechatBinding
from notifications.providers import PermanentError, template_for
from notifications.queue import enqueue
from portal.core import fragments

log = logging.getLogger(__name__)

Channel = Notification.Channel
Status = Notification.Status
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- rendering ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _template(kind, name):
    # Templates are loaded once per process (the kind's own, or the default set).
    return select_template([f"notifications/{kind}/{name}", f"notifications/default/{name}"])


def absolute_url(path):
    if not path:
        return ""
    if path.startswith(("http://", "https://")):
        return path
    return settings.PORTAL_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def language_of(user):
    return (user.language if user is not None else "") or settings.LANGUAGE_CODE


def visible_note(context, recipient):
    """The note a recipient may read. Callers keep internal notes out of a merchant's context; as
    a second line of defence a merchant sees `public_note`, or `note` only when marked public."""
    if context.get("public_note"):
        return context["public_note"]
    note = context.get("note") or ""
    if recipient is None or recipient.is_staff_role:
        return note
    return note if context.get("note_is_public") is True or context.get("is_public") is True else ""


def template_context(notification):
    data = notification.context or {}
    return {
        **data,
        # The callers' names for the same things (serial as `terminal`, number as `number`).
        "serial_number": data.get("serial_number") or data.get("terminal") or "",
        "application_number": data.get("application_number") or data.get("number") or "",
        "note": visible_note(data, notification.recipient),
        "kind": notification.kind,
        "recipient": notification.recipient,
        "link": absolute_url(notification.url),
    }


def render(notification, part, language=None):
    """One part (subject.txt, body.txt, body.html, sms.txt, line.txt) in the recipient's language."""
    context = template_context(notification)
    with translation.override(language or language_of(notification.recipient)):
        return _template(notification.kind, part).render(context)


def render_subject(notification, language=None):
    return " ".join(render(notification, "subject.txt", language).split())


def render_sms(notification):
    text = " ".join(render(notification, "sms.txt").split())
    return sms.fit(text)


def render_params(notification, kind=None, language=None):
    """The variables of an approved SMS or WeChat template: the `name=value` lines of the kind's
    params.txt, in order, in the recipient's language."""
    context = template_context(notification)
    with translation.override(language or language_of(notification.recipient)):
        text = _template(kind or notification.kind, "params.txt").render(context)
    params = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            params[name.strip()] = " ".join(value.split())
    return params


# --- channels -------------------------------------------------------------------------------


def _request_id_header():
    """The id of the request whose change this delivery tells of (django-guid carries it from the
    web request into the task), so one repair can be followed from page to mailbox."""
    request_id = get_guid()
    return {"X-Request-ID": request_id} if request_id else {}


def send_email(notification):
    user = notification.recipient
    message = EmailMultiAlternatives(
        subject=render_subject(notification),
        body=render(notification, "body.txt"),
        to=[user.email],
        headers={
            "Message-ID": f"<notification-{notification.pk}@{settings.NOTIFICATIONS_MESSAGE_DOMAIN}>",
            **_request_id_header(),
        },
    )
    message.attach_alternative(render(notification, "body.html"), "text/html")
    message.send()


def send_sms(notification):
    """Send the SMS; the provider's message id (or None)."""
    backend = sms.get_backend()
    language = language_of(notification.recipient)
    message = sms.Message(
        phone=notification.recipient.phone,
        text=render_sms(notification),
        kind=notification.kind,
        language=language,
        reference=f"notification-{notification.pk}",
    )
    if backend.uses_templates:
        kind, message.template_id = template_for(settings.SMS_TEMPLATES, notification.kind, language)
        with translation.override(language):
            worded = " ".join(_template(kind, "sms.txt").render(template_context(notification)).split())
        message.params = sms.fit_params(worded, render_params(notification, kind, language))
    return backend.send_message(message)


def send_wechat(notification):
    """Send the WeChat template message of the kind to the openid the recipient bound; WeChat's
    msgid. A user who no longer follows the Official Account (43004) loses the channel and is
    told in-app."""
    binding = WechatBinding.objects.active().filter(user_id=notification.recipient_id).first()
    if binding is None:
        raise PermanentError("the recipient has no WeChat account bound")
    language = language_of(notification.recipient)
    kind, entry = template_for(settings.WECHAT_TEMPLATES, notification.kind, language)
    template_id, fields = (entry.get("id"), entry.get("fields")) if isinstance(entry, dict) else (entry, None)
    params = {
        "subject": render_subject(notification, language),
        "time": timezone.localtime(notification.created_at, SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        "link": absolute_url(notification.url),
        **render_params(notification, kind, language),
    }
    fields = fields or {name: name for name in params if name not in ("subject", "time", "link")}
    data = {name: wechat.fit_field(name, params.get(param, "")) for name, param in fields.items()}
    try:
        return wechat.send_template(
            openid=binding.openid,
            template_id=template_id,
            data=data,
            url=absolute_url(notification.url),
            client_msg_id=f"notification-{notification.pk}",
        )
    except PermanentError as exc:
        if getattr(exc, "errcode", None) in (wechat.REQUIRE_SUBSCRIBE, wechat.INVALID_OPENID):
            from notifications.services import wechat_unreachable

            wechat_unreachable(binding, reason=str(exc))
        raise


def webhook_payload(notification):
    return {
        "id": notification.pk,
        "event": notification.event_key,
        "kind": notification.kind,
        "created_at": notification.created_at.isoformat(),
        "url": absolute_url(notification.url),
        "data": notification.context or {},
    }


def sign(secret, timestamp, body):
    """HMAC-SHA256 over `timestamp + "." + body`, hex (docs/notifications.md: verifying a webhook)."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def send_webhook(notification):
    subscriber = notification.subscriber
    body = json.dumps(webhook_payload(notification), ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        subscriber.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "pos-portal-webhooks/1",
            "X-Portal-Event": notification.kind,
            "X-Portal-Delivery": str(notification.pk),
            "X-Portal-Timestamp": timestamp,
            "X-Portal-Signature": "sha256=" + sign(subscriber.secret, timestamp, body),
            **_request_id_header(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read(1024)
    except urllib.error.HTTPError as exc:
        # 5xx and 429 may pass; any other refusal will not, however often it is repeated.
        if exc.code >= 500 or exc.code == 429:
            raise
        raise PermanentError(f"HTTP {exc.code} {exc.reason}") from exc


SENDERS = {
    Channel.EMAIL: send_email,
    Channel.SMS: send_sms,
    Channel.WEBHOOK: send_webhook,
    Channel.WECHAT: send_wechat,
}


# --- quiet hours ----------------------------------------------------------------------------


def quiet_until(preference, now):
    """The end of the quiet hours `now` falls in (aware), or None when it is not quiet now."""
    if preference is None or preference.quiet_start is None or preference.quiet_end is None:
        return None
    start, end = preference.quiet_start, preference.quiet_end
    if start == end:
        return None
    local = now.astimezone(SHANGHAI)
    t = local.time()
    quiet = start <= t < end if start < end else (t >= start or t < end)
    if not quiet:
        return None
    until = datetime.combine(local.date(), end, tzinfo=SHANGHAI)
    if until <= local:
        until += timedelta(days=1)
    return until


# --- the delivery ---------------------------------------------------------------------------


def backoff(attempts):
    """Seconds to wait after the `attempts`-th failure: base, 2×base, 4×base, …"""
    return settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)


def _due(now, token):
    due = Q(status=Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + timedelta(seconds=1))
    )
    # A message redelivered after its worker died carries the same task id and takes its own rows
    # back at once; anything else stuck in `sending` waits for requeue_stale.
    return due | Q(status=Status.SENDING, claimed_by=token)


def claim(ids, token, now=None):
    """pending and due → sending for `ids`, atomically (one UPDATE); returns how many this
    token now holds. A row another task holds, or one not due yet, is left alone. The claim names
    this worker, so the row comes back within seconds if the worker dies (worker.py)."""
    now = now or timezone.now()
    return Notification.objects.filter(_due(now, token), pk__in=list(ids)).update(
        status=Status.SENDING,
        claimed_by=token,
        claimed_worker=worker.identity(),
        claimed_at=now,
        attempts=F("attempts") + 1,
    )


def deliver(pk, task_id=""):
    """Send one outbox row once: sent, skipped, held, retry or failed."""
    return deliver_many([pk], task_id).get(pk, "skipped")


@contextlib.contextmanager
def _async_commit():
    """PostgreSQL commits of the delivery bookkeeping without waiting for the WAL flush: it halves
    the cost of a delivery. A database crash may then forget the last fraction of a second of
    marks, and those rows are sent again: the same at-least-once edge as a worker killed between
    sending and marking (receivers can drop the copy by Message-ID / X-Portal-Delivery)."""
    use = (
        settings.NOTIFICATIONS_ASYNC_COMMIT
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )
    if use:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        if use:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SET synchronous_commit TO DEFAULT")
            except DatabaseError:
                connection.close()  # a broken connection must not keep the setting


def deliver_many(ids, task_id=""):
    """Send the outbox rows `ids` (one event's, or a requeued batch) once each; {id: outcome} for
    the rows this call claimed. Rows left when the time budget runs out go back to the queue."""
    with _async_commit():
        return _deliver_many(ids, task_id)


def _deliver_many(ids, task_id):
    token = task_id or f"direct-{uuid.uuid4().hex}"
    started = time.monotonic()
    if not claim(ids, token):
        return {}
    mine = Notification.objects.filter(status=Status.SENDING, claimed_by=token)
    rows = list(mine.filter(pk__in=list(ids)).select_related("recipient", "subscriber").order_by("pk"))
    sms_users = {n.recipient_id for n in rows if n.channel == Channel.SMS}
    preferences = {}
    if sms_users:
        from notifications.models import NotificationPreference

        preferences = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=sms_users)}
    outcomes = {}
    for i, n in enumerate(rows):
        if time.monotonic() - started > settings.NOTIFICATIONS_BATCH_SECONDS:
            rest = [r.pk for r in rows[i:]]
            mine.filter(pk__in=rest).update(status=Status.PENDING, claimed_by="", attempts=F("attempts") - 1)
            enqueue(rest)
            break
        outcomes[n.pk] = _deliver_one(n, mine.filter(pk=n.pk), preferences.get(n.recipient_id))
    return outcomes


def _deliver_one(n, row, preference):
    now = timezone.now()
    if n.channel == Channel.SMS:
        until = quiet_until(preference, now)
        if until is not None:
            row.update(status=Status.HELD, next_attempt_at=until, attempts=F("attempts") - 1, claimed_by="")
            return "held"
    provider_id = None
    try:
        if n.channel == Channel.IN_APP:
            pass  # the row is the message
        elif n.recipient_id is not None and not n.recipient.is_active:
            raise PermanentError("the recipient's account is inactive")
        else:
            provider_id = SENDERS[n.channel](n)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if isinstance(exc, PermanentError) or n.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            row.update(status=Status.FAILED, last_error=error, claimed_by="", next_attempt_at=None)
            metrics.record(n.channel, "failed")
            log.warning("notification %s failed after %s attempts: %s", n.pk, n.attempts, error)
            return "failed"
        delay = backoff(n.attempts)
        row.update(
            status=Status.PENDING,
            last_error=error,
            claimed_by="",
            next_attempt_at=now + timedelta(seconds=delay),
        )
        enqueue([n.pk], countdown=delay)
        return "retry"
    row.update(
        status=Status.SENT,
        sent_at=timezone.now(),
        claimed_by="",
        last_error="",
        provider_message_id=str(provider_id or "")[:100],
    )
    metrics.record(n.channel, "sent")
    return "sent"


def render_preview(notification, language=None):
    """Subject and text body for the inbox and the delivery log."""
    return {
        "subject": render_subject(notification, language),
        "line": " ".join(render(notification, "line.txt", language).split()),
    }


def render_previews(notifications, language=None):
    """`render_preview` of each notification, rendered once per content (portal.core.fragments):
    a preview is a function of its kind's two templates, its context (the note as its recipient
    may read it), the language, the time zone and the release only, so a key names one text
    forever. The inbox and the dashboard show a page of them on every visit."""
    notifications = list(notifications)
    keys = [_preview_key(n, language) for n in notifications]
    return fragments.render_each(keys, notifications, lambda n: render_preview(n, language))


def _preview_key(notification, language):
    shown = {k: v for k, v in template_context(notification).items() if k != "recipient"}
    sources = [_template(notification.kind, part).template.source for part in ("subject.txt", "line.txt")]
    digest = hashlib.blake2b(
        repr((notification.kind, sources, sorted(shown.items()))).encode(), digest_size=16
    ).hexdigest()
    language = language or language_of(notification.recipient)
    return f"preview:{fragments.release()}:{language}:{timezone.get_current_timezone_name()}:{digest}"
