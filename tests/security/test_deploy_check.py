"""`manage.py check --deploy` is clean under a plain production environment: DEBUG=0, SECRET_KEY and
ALLOWED_HOSTS, nothing else (as in .ci/run); the secure settings are the defaults."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_passes_the_deploy_checks():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "pos.example.com",
    }
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "BENCH_FLOOR", "SECURE_SSL_REDIRECT",
                 "DJANGO_ALLOW_ASYNC_UNSAFE"):  # the browser fixture sets it for Playwright
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_redirects_to_https_by_default_in_production_but_not_health_or_metrics():
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SECURE_")},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "pos.example.com",
    }
    code = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('collectstatic', interactive=False, verbosity=0)  # as every release does\n"
        "from django.conf import settings; from django.test import Client\n"
        "c = Client(HTTP_HOST='pos.example.com')\n"
        "r = c.get('/tickets/')\n"
        "print(settings.SECURE_SSL_REDIRECT, r.status_code, r.get('Location'), "
        "c.get('/healthz').status_code != 301, c.get('/metrics').status_code)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "301", "https://pos.example.com/tickets/", "True", "404"], out.stderr[-2000:]
    off = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "SECURE_SSL_REDIRECT": "0"},
                         capture_output=True, text=True, timeout=120)
    assert off.stdout.split()[:3] == ["False", "302", "/accounts/login/?next=/tickets/"], off.stderr[-2000:]
