"""Queueing deliveries. The tasks are looked up by the names they register (notifications/tasks.py,
imported by NotificationsConfig.ready()), so what writes and delivers the outbox never imports the
tasks module that runs it."""

import logging

from celery import current_app
from django.conf import settings

log = logging.getLogger(__name__)


def enqueue(ids, countdown=None):
    """Queue delivery tasks for `ids` (batches of NOTIFICATIONS_BATCH_SIZE). A broker that is down
    only delays delivery: requeue_stale sends whatever is still pending a minute later."""
    deliver_one, deliver_many = current_app.tasks["notifications.deliver"], current_app.tasks["notifications.deliver_many"]
    ids = list(ids)
    size = settings.NOTIFICATIONS_BATCH_SIZE
    try:
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            if len(chunk) == 1:
                deliver_one.apply_async((chunk[0],), countdown=countdown, retry=False)
            else:
                deliver_many.apply_async((chunk,), countdown=countdown, retry=False)
    except Exception as exc:  # noqa: BLE001 - the outbox rows are safe; the beat job retries
        log.warning("could not queue notifications %s (%s); requeue_stale will", ids[:10], exc)
        return False
    return True
