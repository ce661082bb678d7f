"""/metrics for Prometheus: django-prometheus (requests, responses, database) and the portal's own
figures computed at scrape time (the outbox, deliveries, worker heartbeats, Celery queue lengths).

Not public: only a scraper sending `Authorization: Bearer $METRICS_TOKEN`, and (when
METRICS_ALLOWED_IPS is set) from one of those addresses or networks, gets an answer; anyone else,
and everyone while METRICS_TOKEN is unset, gets the same 404 as for a page that does not exist.

Under gunicorn with several workers each process counts its own requests: set
PROMETHEUS_MULTIPROC_DIR (an empty directory, emptied at every start, as docs/portal-web.service
does) and the request metrics are summed over the processes. The scrape-time figures read the
database and Redis, so they are the same whichever process answers.
"""

import hmac
import ipaddress
import os

import redis
from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from notifications.metrics import OutboxCollector


class QueueCollector:
    """LLEN of each Celery queue on the Redis broker (the messages no worker has taken yet)."""

    def collect(self):
        queues = sorted({route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {"celery"})
        family = GaugeMetricFamily(
            "portal_celery_queue_length", "Messages waiting in each Celery queue", labels=["queue"]
        )
        up = GaugeMetricFamily("portal_broker_up", "1 when the broker (Redis) answered this scrape")
        if not settings.REDIS_URL:
            yield up  # tasks run in-process: no broker, no queues
            return
        try:
            client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
            with client.pipeline(transaction=False) as pipe:
                for queue in queues:
                    pipe.llen(queue)
                lengths = pipe.execute()
        except redis.RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for queue, length in zip(queues, lengths, strict=True):
            family.add_metric([queue], length)
        yield up
        yield family


_portal = CollectorRegistry(auto_describe=False)
_portal.register(OutboxCollector())
_portal.register(QueueCollector())


def _process_metrics():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _client_allowed(request):
    if not settings.METRICS_ALLOWED_IPS:
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_IPS)


def _authorised(request):
    if not settings.METRICS_TOKEN:
        return False
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token_ok = scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode())
    return token_ok and _client_allowed(request)


@never_cache
@require_GET
def metrics(request):
    """The Prometheus text format, to an authorised scraper only (404 to anyone else)."""
    if not _authorised(request):
        raise Http404
    return HttpResponse(_process_metrics() + generate_latest(_portal), content_type=CONTENT_TYPE_LATEST)
