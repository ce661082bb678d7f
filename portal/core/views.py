import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        connection.close()
        return False


def _broker_ok():
    if not settings.REDIS_URL:
        return None  # no broker configured: tasks run in-process, nothing to check
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        return bool(client.ping())
    except Exception:  # noqa: BLE001
        return False


@never_cache
@require_GET
def healthz(request):
    """200 when the database (and the broker, when one is configured) answer; 503 otherwise."""
    db = _database_ok()
    broker = _broker_ok()
    ok = db and broker is not False
    body = {
        "status": "ok" if ok else "unavailable",
        "database": "ok" if db else "down",
        "broker": {None: "not configured", True: "ok", False: "down"}[broker],
    }
    return JsonResponse(body, status=200 if ok else 503)


def bench_floor(request):
    """The floor for benchmarks: a bare Django view through the full middleware stack, no queries."""
    from django.http import HttpResponse

    return HttpResponse(b"ok", content_type="text/plain")
