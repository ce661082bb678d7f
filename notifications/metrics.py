"""What the notifications area tells Prometheus, read at scrape time so that every web process
answers the same: the outbox (rows waiting and the oldest one's age per channel), the deliveries
sent and failed (counters kept in the shared cache — Redis in production — by whichever worker
made them), and the workers' heartbeats. portal/metrics.py serves them at /metrics."""

from django.core.cache import cache
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from notifications.models import Notification, WorkerHeartbeat
from portal.core.cache import count

Channel = Notification.Channel
Status = Notification.Status
OUTCOMES = ("sent", "failed")
WAITING = (Status.PENDING, Status.SENDING, Status.HELD)


def _key(channel, outcome):
    return f"notifications:delivered:{channel}:{outcome}"


def record(channel, outcome):
    """Count one delivery that ended `sent` or `failed` (never expires; a reset is a counter reset)."""
    key = _key(channel, outcome)
    try:
        count(key, None)
    except Exception:  # noqa: BLE001 - a metric must never fail a delivery
        pass


def delivered_totals():
    keys = {_key(c, o): (c, o) for c in Channel.values for o in OUTCOMES}
    values = cache.get_many(list(keys))
    return {keys[k]: int(v) for k, v in values.items()}


class OutboxCollector:
    """A prometheus_client collector computed from the database and the cache on each scrape."""

    def collect(self):
        now = timezone.now()
        rows = GaugeMetricFamily(
            "portal_outbox_rows", "Outbox rows not delivered yet, by channel and status", labels=["channel", "status"]
        )
        oldest = GaugeMetricFamily(
            "portal_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox row pending or being sent, by channel (0 when none)",
            labels=["channel"],
        )
        waiting = (
            Notification.objects.filter(status__in=WAITING)
            .values("channel", "status")
            .annotate(n=Count("pk"), first=Min("created_at"))
            .order_by()
        )
        counts = {(c, s): 0 for c in Channel.values if c != Channel.IN_APP for s in WAITING}
        first = {}
        for row in waiting:
            counts[(row["channel"], row["status"])] = row["n"]
            if row["status"] != Status.HELD:  # held for quiet hours: waiting on purpose
                first[row["channel"]] = min(first.get(row["channel"], row["first"]), row["first"])
        for (channel, status), n in sorted(counts.items()):
            rows.add_metric([channel, status], n)
        for channel in sorted({c for c, _ in counts}):
            oldest.add_metric([channel], (now - first[channel]).total_seconds() if channel in first else 0)
        yield rows
        yield oldest

        delivered = CounterMetricFamily(
            "portal_notifications_delivered",
            "Deliveries that ended sent or failed, by channel (kept in the shared cache)",
            labels=["channel", "outcome"],
        )
        totals = delivered_totals()
        for channel in Channel.values:
            if channel == Channel.IN_APP:
                continue
            for outcome in OUTCOMES:
                delivered.add_metric([channel, outcome], totals.get((channel, outcome), 0))
        yield delivered

        beats = GaugeMetricFamily(
            "portal_worker_heartbeat_timestamp_seconds",
            "When each Celery worker last beat (Unix time)",
            labels=["worker"],
        )
        for name, beat_at in WorkerHeartbeat.objects.order_by("name").values_list("name", "beat_at"):
            beats.add_metric([name], beat_at.timestamp())
        yield beats
