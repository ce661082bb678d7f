"""Real processes for the worker tests: our own redis-server, a Celery worker against the test
database, an SMTP sink (aiosmtpd), a webhook receiver and a slow SMS backend.

We never touch the shared Redis: every worker test runs on a redis-server of its own, on a free
port, that the test may stop and start again.
"""

import email
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from notifications import sms

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=30, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, timeout=10, message="redis-server")

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


class Worker:
    """`celery -A portal worker` on the deliveries and celery queues, in its own process group."""

    def __init__(self, env, log_path, concurrency=2, loglevel="INFO", lean=True):
        self.env = env
        # lean: without gossip, mingle and heartbeats (faster start); otherwise as the Procfile runs it.
        self.lean = lean
        self.loglevel = loglevel
        self.log_path = log_path
        self.concurrency = concurrency
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        self.hostname = f"notif-test-{os.getpid()}-{self.runs}@{socket.gethostname()}"
        self.log = open(self.log_path, "a")
        self.log.write(f"\n===== start {self.runs} =====\n")
        self.log.flush()
        offset = self.log.tell()
        self.proc = subprocess.Popen(
            [
                CELERY,
                "-A",
                "portal",
                "worker",
                "--loglevel",
                self.loglevel,
                "--queues",
                "deliveries,celery",
                "--concurrency",
                str(self.concurrency),
                "--prefetch-multiplier",
                "1",
                "--pool",
                "prefork",
                "--hostname",
                self.hostname,
                *(["--without-gossip", "--without-mingle", "--without-heartbeat"] if self.lean else []),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker exited: {Path(self.log_path).read_text()[-3000:]}")
            with open(self.log_path) as f:
                f.seek(offset)
                return " ready." in f.read() or self._pinged()

        wait_for(ready, timeout=60, message="the Celery worker to be ready")

    def _pinged(self):
        if self.loglevel == "INFO":
            return False
        from portal.celery import app

        return bool(app.control.ping(destination=[self.hostname], timeout=0.5))

    def kill(self):
        """SIGKILL the whole worker (main process and pool children): nothing is acknowledged."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()


class SmtpSink:
    """A local SMTP server (aiosmtpd) keeping every message it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()


class WebhookReceiver:
    """An HTTP server thread recording every POST (headers and raw body); answers `status`
    (200) after `delay` seconds."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self.delay = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers.items()), "body": body})
                time.sleep(receiver.delay)
                try:
                    self.send_response(receiver.status)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except BrokenPipeError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/portal-hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class SlowFileBackend(sms.FileBackend):
    """The file backend, but while the file named by SLOW_SMS_FLAG exists it first sleeps a minute:
    long enough for a test to kill the worker in the middle of the delivery."""

    def send(self, phone, text):
        flag = os.environ.get("SLOW_SMS_FLAG")
        if flag and os.path.exists(flag):
            Path(flag + ".started").touch()
            time.sleep(60)
        super().send(phone, text)


def sms_lines(path):
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line]


def configure_celery(**values):
    """Point the test process's Celery app at the test broker (or back). Celery 5.6 reads the
    CELERY_-prefixed names it took from Django settings first, so both spellings are set."""
    from portal.celery import app as celery_app

    celery_app.conf.update(values)
    celery_app.conf.update({f"CELERY_{name.upper()}": value for name, value in values.items()})
    celery_app.amqp._producer_pool = None
    celery_app._pool = None
