"""The worker's side of the claims: which worker process holds a row, and the heartbeat by which
the others know it still lives.

A worker's main process takes a name unique to this start (hostname:pid:start) before its pool
forks, so every pool process claims rows under it; a thread beats every
NOTIFICATIONS_HEARTBEAT_SECONDS in the database (not in Redis: a broker outage must not make a
live worker look dead) and, on each beat, takes back the rows of workers that stopped beating
(services.reclaim_orphans). A worker that is SIGKILLed stops beating at once, so its rows are
sent again NOTIFICATIONS_WORKER_LOST_SECONDS later by whichever worker lives, or by itself once
restarted; a row is never taken from a worker that still beats.
"""

import logging
import os
import threading
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models.functions import Now
from django.utils import timezone

log = logging.getLogger(__name__)

_name = ""
_stop = threading.Event()
_thread = None


def identity():
    """The name of the worker this process belongs to ("" outside a worker: eager tasks)."""
    return _name


def beat():
    """Record that this worker lives (the database's clock, the same for every machine)."""
    from notifications.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(
        name=_name, defaults={"beat_at": Now()}, create_defaults={"beat_at": Now(), "started_at": Now()}
    )


def _run():
    from notifications import services

    interval = settings.NOTIFICATIONS_HEARTBEAT_SECONDS
    while not _stop.wait(interval):
        started = time.monotonic()
        try:
            close_old_connections()
            beat()
            taken = services.reclaim_orphans()
            if taken:
                log.warning("took back %s notification(s) from stopped workers", taken)
        except DatabaseError as exc:
            log.warning("worker heartbeat failed: %s", exc)
            connection.close()
        except Exception:  # noqa: BLE001 - the heartbeat must outlive any one failure
            log.exception("worker heartbeat failed")
        if time.monotonic() - started > interval:
            log.warning("worker heartbeat took %.1fs", time.monotonic() - started)


def start(hostname):
    """Name this worker and beat once, before its pool forks (worker_init)."""
    global _name
    _name = f"{hostname}:{os.getpid()}:{int(timezone.now().timestamp())}"[:200]
    try:
        beat()
    except DatabaseError as exc:
        log.warning("worker heartbeat failed: %s", exc)
    finally:
        if not connection.in_atomic_block:
            connection.close()  # the pool processes must not inherit this connection


def start_beating():
    """Start the heartbeat thread (worker_ready: after the pool processes were forked)."""
    global _thread
    if not _name or _thread is not None:
        return
    _stop.clear()
    _thread = threading.Thread(target=_run, name="notifications-heartbeat", daemon=True)
    _thread.start()


def stop():
    """Stop beating and say goodbye (warm shutdown: the running deliveries have finished)."""
    global _thread
    _stop.set()
    if _thread is not None:
        _thread.join(settings.NOTIFICATIONS_HEARTBEAT_SECONDS + 5)
        _thread = None
    if _name:
        from notifications.models import WorkerHeartbeat

        try:
            WorkerHeartbeat.objects.filter(name=_name).delete()
        except DatabaseError:
            pass
