"""Writes of the notifications area: the outbox (`notify`), reading, preferences and retries."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.db.models.constants import OnConflict
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from notifications import kinds, selectors, wechat
from notifications.models import (
    Notification,
    NotificationPreference,
    WebhookSubscriber,
    WechatBinding,
    WorkerHeartbeat,
)
from notifications.queue import enqueue

log = logging.getLogger(__name__)

Channel = Notification.Channel
Status = Notification.Status

USER_CHANNELS = (Channel.IN_APP, Channel.EMAIL, Channel.SMS, Channel.WECHAT)


def default_channels(user, kind):
    """The channels a user gets for `kind` until they choose: merchants also get SMS."""
    if kinds.is_quiet(kind):
        return [Channel.IN_APP]
    if user.is_merchant:
        return [Channel.IN_APP, Channel.EMAIL, Channel.SMS]
    return [Channel.IN_APP, Channel.EMAIL]


def channels_for(user, kind, preference=None, wechat_bound=False):
    """The channels `user` receives `kind` on: their choice (or the default), in-app always for
    merchants, and only channels they have an address for (WeChat: an active binding, while the
    portal has an Official Account configured)."""
    chosen = None
    if preference is not None:
        chosen = preference.channels.get(kind)
    if chosen is None:
        chosen = default_channels(user, kind)
    chosen = set(chosen)
    if user.is_merchant:
        chosen.add(Channel.IN_APP)
    if not user.email:
        chosen.discard(Channel.EMAIL)
    if not user.phone:
        chosen.discard(Channel.SMS)
    if not (wechat_bound and wechat.is_configured()):
        chosen.discard(Channel.WECHAT)
    return [c for c in USER_CHANNELS if c in chosen]


def notify(*, kind, event_key, recipients, context, url=""):
    """Write the outbox rows of one event inside the caller's transaction; deliver after commit.

    One row per (recipient, channel) and one per interested webhook subscriber. Calling again with
    the same `event_key` writes nothing new and sends nothing twice. Returns the rows written.
    """
    return notify_audiences(kind=kind, event_key=event_key, audiences=[(recipients, context)], url=url)


def notify_audiences(*, kind, event_key, audiences, url=""):
    """notify() for an event told differently to different people: `audiences` is a list of
    (recipients, context), a user in two of them gets the first; webhook subscribers get the first
    context. One query for the preferences (none when the recipients were read with
    select_related("notification_preference")), one for the subscribers, one INSERT and one
    delivery task for the whole event."""
    targets = []
    seen = set()
    for recipients, context in audiences:
        for user in recipients:
            if user is None or user.pk in seen or not user.is_active:
                continue
            seen.add(user.pk)
            targets.append((user, context))
    prefs = _preferences([user for user, _context in targets])
    bound = _wechat_bound([user for user, _context in targets], prefs, kind)
    subscribers = WebhookSubscriber.objects.for_kind(kind)

    rows = []
    for user, context in targets:
        for channel in channels_for(user, kind, prefs.get(user.pk), wechat_bound=user.pk in bound):
            rows.append(Notification(recipient=user, channel=channel, context=context))
    for subscriber in subscribers:
        rows.append(Notification(subscriber=subscriber, channel=Channel.WEBHOOK, context=audiences[0][1]))
    if not rows:
        return []
    now = timezone.now()
    for row in rows:
        in_app = row.channel == Channel.IN_APP
        row.kind = kind
        row.event_key = event_key
        row.url = url
        # The inbox row is the in-app delivery: it is there as soon as the change commits.
        row.status = Status.SENT if in_app else Status.PENDING
        row.sent_at = now if in_app else None
        row.next_attempt_at = None if in_app else now
    written = _insert_new(rows)
    to_send = [n.pk for n in written if n.status == Status.PENDING]
    readers = [n.recipient_id for n in written if n.channel == Channel.IN_APP]
    selectors.forget_unread(readers, on_commit=False)
    if to_send or readers:
        transaction.on_commit(lambda: _after_commit(readers, to_send))
    return written


def _after_commit(readers, to_send):
    """Once the event's rows are committed: forget the readers' cached unread counts once more (a
    request may have counted before the commit) and queue the deliveries, in one callback."""
    selectors.forget_unread(readers, on_commit=False)
    if to_send:
        enqueue(to_send)


_PREFERENCE = NotificationPreference._meta.get_field("user").remote_field


def _preferences(users):
    """{user id: NotificationPreference} of `users`, reading only those not loaded with them."""
    prefs = {}
    missing = []
    for user in users:
        if _PREFERENCE.is_cached(user):
            pref = _PREFERENCE.get_cached_value(user)
            if pref is not None:
                prefs[user.pk] = pref
        else:
            missing.append(user.pk)
    if missing:
        prefs.update((p.user_id, p) for p in NotificationPreference.objects.filter(user_id__in=missing))
    return prefs


def _wechat_bound(users, prefs, kind):
    """Ids of `users` with an active WeChat binding, asked only of those who chose WeChat for
    `kind` (nobody has it by default; no query while WeChat is not configured)."""
    if not wechat.is_configured():
        return set()
    wanting = [u.pk for u in users if u.pk in prefs and Channel.WECHAT in prefs[u.pk].channels.get(kind, [])]
    if not wanting:
        return set()
    return set(WechatBinding.objects.active().filter(user_id__in=wanting).values_list("user_id", flat=True))


def _insert_new(rows):
    """Insert the rows that are not in the outbox yet and return those, with their ids.

    One INSERT … ON CONFLICT DO NOTHING RETURNING per batch: the partial unique indexes of
    Notification decide what is already there (even when a concurrent call wrote it a moment ago),
    and RETURNING says what this call wrote. bulk_create(ignore_conflicts=True) cannot return ids,
    so this uses the same QuerySet._insert that bulk_create does.
    """
    opts = Notification._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key and not f.generated]
    key_fields = [opts.get_field("recipient"), opts.get_field("subscriber"), opts.get_field("channel")]
    by_key = {(r.recipient_id, r.subscriber_id, r.channel): r for r in rows}
    connection = connections[Notification.objects.db]
    size = max(connection.ops.bulk_batch_size(fields, rows), 1)
    written = []
    for start in range(0, len(rows), size):
        returned = Notification.objects._insert(
            rows[start : start + size],
            fields=fields,
            returning_fields=[opts.pk, *key_fields],
            on_conflict=OnConflict.IGNORE,
        )
        for values in returned:
            if values is None:  # a single row that was already there
                continue
            pk, *key = values
            row = by_key[tuple(key)]
            row.pk = pk
            row._state.adding = False
            row._state.db = connection.alias
            written.append(row)
    return written


def reclaim_orphans():
    """Take back the rows being sent by workers that stopped beating (killed, or their machine
    gone) NOTIFICATIONS_WORKER_LOST_SECONDS ago: back to pending and queued again at once. A
    worker that beats keeps its rows, however long a delivery takes. Returns the rows queued."""
    lost = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS_WORKER_LOST_SECONDS)
    # The heartbeats' own clock is the database's (worker.beat); compare on the database too.
    alive = WorkerHeartbeat.objects.filter(beat_at__gt=Now() - timedelta(seconds=settings.NOTIFICATIONS_WORKER_LOST_SECONDS))
    orphaned = (
        Notification.objects.filter(status=Status.SENDING)
        .exclude(claimed_worker="")
        .exclude(claimed_worker__in=alive.values("name"))
    )
    ids = list(orphaned.values_list("pk", flat=True)[:5000])
    if not ids:
        return 0
    taken = orphaned.filter(pk__in=ids).update(
        status=Status.PENDING, claimed_by="", claimed_worker="", claimed_at=None, next_attempt_at=Now()
    )
    WorkerHeartbeat.objects.filter(beat_at__lt=lost - timedelta(days=1)).delete()
    log.warning("%s notification(s) of stopped workers queued again", taken)
    enqueue(ids)
    return taken


def requeue_stale(now=None):
    """Queue again what a lost message, a broker outage or a killed worker left behind; release
    SMS held for quiet hours once they end. Returns the number of rows queued."""
    reclaimed = reclaim_orphans()
    now = now or timezone.now()
    after = timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_AFTER_SECONDS)
    stale_sending = now - timedelta(seconds=settings.NOTIFICATIONS_STALE_SENDING_SECONDS)
    due = Notification.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now - after)
        | Q(status=Status.HELD, next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lte=stale_sending)
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:5000])
    if not ids:
        return reclaimed
    # Back to pending and due now; the row is queued again only when it is still stale next time.
    Notification.objects.filter(pk__in=ids).filter(
        Q(status=Status.PENDING)
        | Q(status=Status.HELD)
        | Q(status=Status.SENDING, claimed_at__lte=stale_sending)
    ).update(status=Status.PENDING, next_attempt_at=now, claimed_by="", claimed_worker="", claimed_at=None)
    enqueue(ids)
    return reclaimed + len(ids)


@transaction.atomic
def retry(notification):
    """Send a failed delivery again (from the staff delivery log)."""
    n = Notification.objects.select_for_update().get(pk=notification.pk)
    if n.status != Status.FAILED:
        return False
    n.status = Status.PENDING
    n.attempts = 0
    n.next_attempt_at = timezone.now()
    n.save(update_fields=["status", "attempts", "next_attempt_at"])
    transaction.on_commit(lambda: enqueue([n.pk]))
    return True


def mark_read(user, pk):
    """Mark one of the user's in-app notifications read."""
    marked = Notification.objects.unread(user).filter(pk=pk).update(read_at=timezone.now())
    if marked:
        selectors.forget_unread([user.pk])
    return marked


def mark_all_read(user):
    marked = Notification.objects.unread(user).update(read_at=timezone.now())
    if marked:
        selectors.forget_unread([user.pk])
    return marked


def save_preferences(user, *, channels, quiet_start, quiet_end):
    """Store the user's channels per kind (merchants keep in-app whatever they tick)."""
    if user.is_merchant:
        channels = {kind: sorted(set(chs) | {Channel.IN_APP}) for kind, chs in channels.items()}
    pref, _created = NotificationPreference.objects.update_or_create(
        user=user,
        defaults={"channels": channels, "quiet_start": quiet_start, "quiet_end": quiet_end},
    )
    return pref


# --- WeChat binding ------------------------------------------------------------------------


def wechat_binding(user):
    """The user's WeChat binding (active or disabled), or None."""
    return WechatBinding.objects.filter(user=user).first()


@transaction.atomic
def bind_wechat(user, openid):
    """Bind `openid` to `user` (again: a disabled binding becomes active). One WeChat account
    reaches one portal user: another user it was bound to loses it."""
    WechatBinding.objects.filter(openid=openid).exclude(user=user).delete()
    binding, _created = WechatBinding.objects.update_or_create(
        user=user, defaults={"openid": openid, "bound_at": timezone.now(), "disabled_at": None, "disabled_reason": ""}
    )
    return binding


def unbind_wechat(user):
    """Forget the user's WeChat account; True when there was one."""
    deleted, _ = WechatBinding.objects.filter(user=user).delete()
    return bool(deleted)


def wechat_unreachable(binding, *, reason):
    """WeChat refused to deliver to this binding (the user unfollowed the Official Account): stop
    using it and tell the user in-app, once per binding."""
    now = timezone.now()
    updated = WechatBinding.objects.filter(pk=binding.pk, disabled_at__isnull=True).update(
        disabled_at=now, disabled_reason=reason[:200]
    )
    if not updated:
        return None
    row = Notification(
        kind="wechat.unreachable",
        event_key=f"wechat-unreachable:{binding.pk}:{int(binding.bound_at.timestamp())}",
        recipient_id=binding.user_id,
        channel=Channel.IN_APP,
        context={"reason": reason},
        url=reverse("notifications:wechat"),
        status=Status.SENT,
        sent_at=now,
    )
    written = _insert_new([row])
    selectors.forget_unread([binding.user_id])
    return written[0] if written else None
