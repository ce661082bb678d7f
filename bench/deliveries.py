"""Benchmark of notification delivery: one Celery worker on Redis + PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_notifications_bench \\
    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/deliveries.py [--count 2000]

The database is migrated and used as scratch space (the bench's rows are deleted at the end); the
Redis database is the broker of a worker this script starts (`celery -A portal worker`,
`--concurrency` 2 by default, the queues of the Procfile). Deliveries are e-mails rendered from
the real templates (text + HTML) and handed to Django's dummy mail backend, and SMS written by the
file backend, so what is measured is the outbox, the broker, the claim/send/mark cycle and
rendering, not an SMTP server or an SMS provider. Each event is a typical ticket transition: two
users of the merchant (in-app, e-mail, SMS) and the agent (in-app, e-mail): 5 deliveries.

1. throughput: `--events` events are committed while the worker is stopped, then the worker starts
   and drains them: deliveries per second = deliveries / (last sent_at - first sent_at);
2. latency: with the worker running, `--latency-events` events are committed one by one at
   `--rate` events per second; commit→delivered = sent_at (written by the worker) - commit time.
Targets: ≥ 200 deliveries/s, p95 ≤ 1 s.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")


def _cpu_seconds(pid):
    """User + system CPU of a process and its children (the worker's pool), from /proc."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=400, help="events (×5 deliveries) for the throughput run"
    )
    parser.add_argument("--latency-events", type=int, default=200, help="events for the latency run")
    parser.add_argument("--rate", type=float, default=20.0, help="events per second in the latency run")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="worker processes (the Procfile's default)"
    )
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        sys.exit(
            "set DATABASE_URL (PostgreSQL, a scratch database) and REDIS_URL (e.g. redis://127.0.0.1:6379/4)"
        )
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from notifications.models import Notification, NotificationPreference
    from notifications.services import notify
    from portal.accounts.models import Merchant, Role, User
    from tests.notifications.worker_support import Worker, wait_for

    call_command("migrate", verbosity=0)
    merchant, _ = Merchant.objects.get_or_create(
        credit_code="91310000MA1BENCH0X"[:18],
        defaults={
            "name": "基准测试商户",
            "contact_name": "王五",
            "contact_phone": "13800000000",
            "address": "上海市测试路1号",
            "city": "上海",
        },
    )
    users = []
    for i in range(10):
        user, _ = User.objects.update_or_create(
            username=f"bench-{i}",
            defaults={
                "role": Role.MERCHANT,
                "merchant": merchant,
                "email": f"bench-{i}@example.test",
                "phone": f"1380000{i:04d}",
                "language": "zh-hans" if i % 2 else "en",
            },
        )
        users.append(user)
    agent, _ = User.objects.get_or_create(
        username="bench-agent",
        defaults={"role": Role.AGENT, "email": "agent@example.test", "language": "zh-hans"},
    )
    NotificationPreference.objects.filter(user__username__startswith="bench-").delete()
    Notification.objects.filter(event_key__startswith="bench:").delete()

    env = {
        **os.environ,
        "DEBUG": "0",  # as in production: no query log, cached templates
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "EMAIL_URL": "dummymail://",
        "SMS_BACKEND": "notifications.sms.FileBackend",
        "SMS_FILE_PATH": str(Path(tempfile.mkdtemp(prefix="bench-sms-")) / "sms.log"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    log_path = Path(tempfile.mkdtemp(prefix="bench-notifications-")) / "worker.log"
    worker = Worker(env, log_path, concurrency=args.concurrency, loglevel="WARNING")
    context = {
        "service_order_no": "SO20261124-0001",
        "terminal": "SN00000001",
        "from_status": "repairing",
        "to_status": "network_testing",
    }

    def commit_one(i, key):
        with transaction.atomic():
            rows = notify(
                kind="ticket.status",
                event_key=key,
                recipients=[users[i % 10], users[(i + 1) % 10], agent],
                context=context,
                url="/tickets/SO20261124-0001/",
            )
        return time.time(), [n.pk for n in rows if n.channel != Notification.Channel.IN_APP]

    def sent(prefix):
        return Notification.objects.filter(event_key__startswith=prefix, status="sent").exclude(
            channel="in_app"
        )

    try:
        # 1. throughput: a backlog drained by one worker.
        t0 = time.time()
        count = 0
        for i in range(args.events):
            count += len(commit_one(i, f"bench:tp:{i}")[1])
        produce_rate = args.events / (time.time() - t0)
        worker.start()
        wait_for(
            lambda: sent("bench:tp:").count() == count,
            timeout=600,
            interval=0.5,
            message="the backlog to drain",
        )
        times = sorted(sent("bench:tp:").values_list("sent_at", flat=True))
        span = (times[-1] - times[0]).total_seconds()
        throughput = (count - 1) / span if span else float("inf")

        # 2. latency: paced commits while the worker is running.
        committed = {}
        cpu_before = _cpu_seconds(worker.proc.pid)
        interval = 1.0 / args.rate
        start = time.time()
        for i in range(args.latency_events):
            at, ids = commit_one(i, f"bench:lat:{i}")
            for pk in ids:
                committed[pk] = at
            pause = start + (i + 1) * interval - time.time()
            if pause > 0:
                time.sleep(pause)
        wait_for(
            lambda: sent("bench:lat:").count() == len(committed),
            timeout=300,
            interval=0.2,
            message="the latency run",
        )
        cpu_per_delivery = (_cpu_seconds(worker.proc.pid) - cpu_before) / len(committed)
        latencies = sorted(
            max(0.0, sent_at.timestamp() - committed[pk])
            for pk, sent_at in sent("bench:lat:").values_list("pk", "sent_at")
        )
        q = statistics.quantiles(latencies, n=100)
        result = {
            "when": timezone.now().isoformat(timespec="seconds"),
            "worker_concurrency": args.concurrency,
            "throughput_deliveries": count,
            "deliveries_per_second": round(throughput, 1),
            "worker_cpu_ms_per_delivery": round(cpu_per_delivery * 1000, 2),
            "producer_events_per_second": round(produce_rate, 1),
            "load_average_1min": os.getloadavg()[0],
            "latency_deliveries": len(committed),
            "latency_events_per_second": args.rate,
            "latency_p50_ms": round(q[49] * 1000, 1),
            "latency_p95_ms": round(q[94] * 1000, 1),
            "latency_max_ms": round(latencies[-1] * 1000, 1),
            "targets_met": throughput >= 200 and q[94] <= 1.0,
        }
    finally:
        worker.stop()
        Notification.objects.filter(event_key__startswith="bench:").delete()
    print(json.dumps(result, indent=2))
    return 0 if result["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
