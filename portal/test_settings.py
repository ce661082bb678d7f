"""Test-only overrides: fast hashing, eager tasks, files in a temporary folder."""

import os
import tempfile

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")

from .settings import *  # noqa: E402,F403
from .settings import CACHES, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = tempfile.mkdtemp(prefix="portal-test-media-")
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, "layout": CACHES["layout"],
          "fragments": CACHES["fragments"]}
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
DEMO_DATA_ALLOWED = True
STATIC_ROOT = tempfile.mkdtemp(prefix="portal-test-static-")
WHITENOISE_USE_FINDERS = True
# The browser tests put axe-core (npm, a devDependency) into the pages they audit as a same-origin
# script, which the Content-Security-Policy allows and the browser caches (tests/accessibility/axe.py).
STATICFILES_DIRS = [*STATICFILES_DIRS, ("tests/axe-core", BASE_DIR / "node_modules" / "axe-core")]  # noqa: F405
