"""The notification outbox: one row per (event, recipient, channel), written in the transaction of
the change that causes it and delivered by a Celery worker after commit.

WeChat rows go to the openid a user bound (WechatBinding), SMS rows to the user's phone.
Webhook rows go to a bank system (a WebhookSubscriber) instead of a user; their own uniqueness is
(event, subscriber). In-app rows are the inbox itself: they are `sent` when written.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A user sees their own notifications; admins and reviewers see the whole delivery log."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def delivery_log_for(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_reviewer_or_admin:
            return self
        return self.none()

    def inbox(self, user):
        return self.filter(recipient=user, channel=Notification.Channel.IN_APP)

    def unread(self, user):
        return self.inbox(user).filter(read_at__isnull=True)


class Notification(models.Model):
    class Channel(models.TextChoices):
        IN_APP = "in_app", _("In-app")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        WEBHOOK = "webhook", _("Webhook")
        WECHAT = "wechat", _("WeChat")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        HELD = "held", _("Held (quiet hours)")

    kind = models.CharField(_("kind"), max_length=64)
    event_key = models.CharField(_("event"), max_length=200)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    subscriber = models.ForeignKey(
        "notifications.WebhookSubscriber",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("webhook subscriber"),
    )
    channel = models.CharField(_("delivery channel"), max_length=16, choices=Channel.choices)
    context = models.JSONField(_("context"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # What the provider calls the message it accepted (an SMS BizId or SerialNo, a WeChat msgid).
    provider_message_id = models.CharField(_("provider message id"), max_length=100, blank=True)
    # The task that holds the row while it is `sending` (a redelivered message carries the same id),
    # and the worker process running it (a WorkerHeartbeat name; empty when run in-process).
    claimed_by = models.CharField(max_length=64, blank=True, editable=False)
    claimed_worker = models.CharField(max_length=200, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the row is next due: set when it is queued, pushed back by retries and quiet hours.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "recipient", "channel"],
                condition=Q(recipient__isnull=False),
                name="notification_once_per_event_recipient_channel",
            ),
            models.UniqueConstraint(
                fields=["event_key", "subscriber"],
                condition=Q(subscriber__isnull=False),
                name="notification_once_per_event_subscriber",
            ),
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | Q(subscriber__isnull=False),
                name="notification_has_recipient_or_subscriber",
            ),
        ]
        indexes = [
            # The periodic jobs look rows up by event_key alone (sla:…, deposit-eligible:…), which
            # the partial unique indexes cannot serve: without this, a scan of the whole outbox.
            models.Index(fields=["event_key"], name="notif_event"),
            # The inbox (newest first) and the unread badge: one indexed COUNT.
            models.Index(fields=["recipient", "channel", "-created_at"], name="notif_inbox"),
            models.Index(
                fields=["recipient"],
                condition=Q(channel="in_app", read_at__isnull=True),
                name="notif_unread",
            ),
            # The outbox scan of requeue_stale.
            models.Index(fields=["status", "next_attempt_at"], name="notif_outbox"),
            # The staff delivery log and its filters.
            models.Index(fields=["-created_at"], name="notif_log"),
            models.Index(fields=["status", "-created_at"], name="notif_log_status"),
            models.Index(fields=["channel", "-created_at"], name="notif_log_channel"),
            models.Index(fields=["kind", "-created_at"], name="notif_log_kind"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.recipient_id or self.subscriber_id} ({self.channel})"

    @property
    def is_unread(self):
        return self.channel == self.Channel.IN_APP and self.read_at is None


class WebhookSubscriberQuerySet(models.QuerySet):
    def for_kind(self, kind):
        """Active subscribers that want `kind` (an empty list of kinds means every kind)."""
        return [s for s in self.filter(is_active=True) if not s.kinds or kind in s.kinds]


def _new_secret():
    return secrets.token_hex(32)


class WebhookSubscriber(models.Model):
    """A bank system that receives signed JSON POSTs (docs/notifications.md: verifying a webhook)."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=300)
    secret = models.CharField(_("signing secret"), max_length=128, default=_new_secret)
    kinds = models.JSONField(
        _("event kinds"), default=list, blank=True, help_text=_("Empty means every kind of event.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = WebhookSubscriberQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook subscriber")
        verbose_name_plural = _("webhook subscribers")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class NotificationPreference(models.Model):
    """A user's channels per kind of event and their quiet hours (SMS is held during them)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    # {kind: [channel, ...]}; a kind that is missing gets the defaults (services.default_channels).
    channels = models.JSONField(_("channels per kind"), default=dict, blank=True)
    quiet_start = models.TimeField(_("quiet hours start"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return str(self.user)


class WechatBindingQuerySet(models.QuerySet):
    def active(self):
        return self.filter(disabled_at__isnull=True)


class WechatBinding(models.Model):
    """The WeChat account (its openid under the bank's Official Account) a user receives template
    messages on. Made by scanning the QR code of the binding page (OAuth), removed by unbinding;
    disabled when WeChat says the user no longer follows the account (43004), until they bind again."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat_binding", verbose_name=_("user")
    )
    openid = models.CharField(_("WeChat openid"), max_length=64, unique=True)
    bound_at = models.DateTimeField(_("bound"))
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)

    objects = WechatBindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("WeChat binding")
        verbose_name_plural = _("WeChat bindings")

    def __str__(self):
        return f"{self.user} ↔ {self.openid}"

    @property
    def is_active(self):
        return self.disabled_at is None


class WorkerHeartbeat(models.Model):
    """A running Celery worker, as its rows' claimant: it refreshes `beat_at` every
    NOTIFICATIONS_HEARTBEAT_SECONDS. A worker silent for NOTIFICATIONS_WORKER_LOST_SECONDS is gone,
    and the rows it was sending are taken back (services.reclaim_orphans)."""

    # hostname:pid:start of the worker's main process, unique per start (a restarted worker under
    # systemd keeps its hostname, not its pid).
    name = models.CharField(max_length=200, primary_key=True)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self):
        return self.name
