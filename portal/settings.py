"""Settings of the POS Lifecycle Portal, read from the environment (django-environ).

Defaults give a development portal on SQLite with Celery tasks run in-process; production sets
DATABASE_URL (PostgreSQL), REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and the e-mail variables.
Bad values fail loudly at start-up rather than at the first request.
"""

import ipaddress
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")


def _strict_bool(name, default):
    """environ's bool() treats any unknown word as False; a typo should stop the portal instead."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


DEBUG = _strict_bool("DEBUG", False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-never-used-in-production-0123456789abcdef"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_prometheus",
    "django_guid",
    # The portal, from the ground up: each app imports only those listed before it (make lint).
    "portal.core",
    "portal.accounts",
    "notifications",
    "terminals",
    "repairs",
    "applications",
    "insights",
]

MIDDLEWARE = [
    # django-prometheus times every request between these two (/metrics: portal/metrics.py).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django_guid.middleware.guid_middleware",
    "portal.core.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.core.middleware.UserLanguageMiddleware",
    "portal.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Axes must come last: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.core.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'portal.sqlite3'}"
    )
}
# The same engines wrapped by django-prometheus, which counts queries, errors and connections.
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
else:
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "portal.accounts.backends.PortalBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: five wrong passwords for one account from one address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = _strict_bool("AXES_ENABLED", True)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Bootstrap, its icons and htmx come from npm (package.json); collectstatic copies just their
# dist folders, so nothing is fetched from a CDN and nothing vendored is committed.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploaded documents are private: MEDIA_ROOT is outside every served directory and there is no
# MEDIA_URL route; files are streamed only by views that apply the visibility rule.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# E-mail: console in development, SMTP in production (EMAIL_URL, e.g. smtp://user:pw@host:587).
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="POS Portal <noreply@pos-portal.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery. With no REDIS_URL, tasks run eagerly in-process so `make run` needs no broker.
REDIS_URL = env.str("REDIS_URL", default="")
# (memory://localhost/: with no host named, kombu warns on every eager task.)
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = _strict_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker must outlive any broker outage. Under celery 5.7.0 (kombu 5.7.0, redis-py 8.1.0) it did
# not: on a lost connection the consumer first collect()s the connection, which detaches the
# transport (transport.client = None), then close()s it again; that second close makes the
# channel restore its unacknowledged messages (there are some whenever the worker is busy: acks_late)
# through a new connection pool, whose parameters are read from the detached transport —
# AttributeError: 'NoneType' object has no attribute 'hostname', which ignore_errors() does not
# catch, so the worker logged "Unrecoverable error" and exited. requirements.in holds celery to the
# 5.6 line (kombu 5.6, redis-py 6.4), whose consumer only collect()s; the real-worker test
# tests/notifications/test_worker.py stops Redis under a busy worker and checks the same process
# goes on. Reconnecting never gives up (the default stops after 100 attempts, and the worker with
# it), and running deliveries are left to finish and record their outcome rather than cancelled:
# their unacknowledged messages come back later and find their rows sent (claim() makes that a
# no-op), where a cancelled SMTP or webhook call might already have been delivered.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Publishing gives up fast when the broker is down (notifications wait in the outbox meanwhile)
# instead of holding the request that committed them for seconds of reconnect attempts.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 300, "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5,
}
CELERY_TIMEZONE = TIME_ZONE

CACHES = {
    "default": (
        {"BACKEND": "portal.core.cache.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # LAYOUT: the parts of the page layout that are the same for everyone of a role and language
    # (the {% cache ... using="layout" %} blocks of templates/base.html), rendered once per worker
    # and kept in its memory: no round trip to Redis, a few hundred entries at most, and a deploy
    # (new workers) starts afresh. Off with DEBUG, so that an edited template shows at once.
    "layout": {
        "BACKEND": "django.core.cache.backends.dummy.DummyCache" if DEBUG
        else "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "layout",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
    # FRAGMENTS: this worker's copy of the content-addressed fragments of portal.core.fragments
    # (table rows, timeline entries, forms), read before the shared cache. A fragment's key is a
    # digest of everything it shows, so a copy is never stale and needs no invalidation; the most
    # recently used few thousand (a few MB) stay, the shared cache keeps the rest.
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "fragments",
        "OPTIONS": {"MAX_ENTRIES": env.int("FRAGMENTS_LOCAL_ENTRIES", default=5000)},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "portal.accounts.backends.TokenAuthentication",  # DRF's, the user read through the user cache
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["portal.core.filters.FilterBackend"],  # django-filter's, skipped when no filter is asked for
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "track": "20/min"},
    # One error body everywhere: detail, code and each field's errors as a list.
    "EXCEPTION_HANDLER": "portal.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "POS Lifecycle Portal API",
    "DESCRIPTION": "Terminals, fault tickets, applications and notifications of the POS Lifecycle Portal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security: HTTPS only in production, by default. Behind a proxy that already redirects http to
# https, SECURE_SSL_REDIRECT=0 leaves it to the proxy. /healthz and /metrics answer on plain HTTP
# too: load balancers and scrapers reach the application port directly.
SESSION_COOKIE_SECURE = _strict_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _strict_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = _strict_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = _strict_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the cache (Redis in production) and written through to the database:
# one query less on every signed-in request, and nobody is signed out when the cache is flushed.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Content-Security-Policy: everything from our own origin; no inline scripts.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self'"
)
SILENCED_SYSTEM_CHECKS = env.list(
    "SILENCED_SYSTEM_CHECKS",
    # security.W021 (HSTS preload) is an operator's decision made with the domain registrar,
    # not something the application can promise; it stays off unless SECURE_HSTS_PRELOAD is set.
    default=["security.W021"],
)

# Logs: one line per request (portal.core.middleware.RequestLogMiddleware), every line carrying
# the request id (django-guid: X-Request-ID, taken from the client when it is a valid UUID, else
# made here). The id travels into the Celery tasks a request queues, so the worker's lines, the
# e-mail and the webhook it sends carry it too. LOG_FORMAT=json: one JSON object per line. The
# worker logs through this same configuration (portal/celery.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.core.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The request line replaces Django's own per-request lines (runserver, 4xx warnings).
        "django.server": {"level": "ERROR"},
        "django.request": {"level": "ERROR"},
        "django_guid": {"level": "WARNING"},
    },
}
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": False,
    # The Celery side (into the tasks, and the worker's logging) is portal/celery.py's.
}

# --- The portal's own settings ------------------------------------------------------------
# One convention: a flat upper-case name per setting, read from the environment here with its
# default; the code reads `settings.NAME` and repeats no default.

# seed_demo refuses to run unless this is on (development and tests): demo users with a known
# password must never reach production. The bulk loader of bench/ follows it too.
DEMO_DATA_ALLOWED = _strict_bool("DEMO_DATA_ALLOWED", DEBUG)
# bench/ serves a bare view at /bench/floor when this is on; never in production.
BENCH_FLOOR = _strict_bool("BENCH_FLOOR", False)
# Absolute links in notifications (e-mail, SMS, webhooks) start with this.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# Terminals (terminals/): the largest inventory file (CSV/XLSX) accepted for a bulk import, and
# the care rule: cleaning is daily; the paper roll is changed every PAPER_ROLL_DAYS days.
TERMINAL_IMPORT_MAX_BYTES = env.int("TERMINAL_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
CLEANING_DAYS = env.int("CLEANING_DAYS", default=1)
PAPER_ROLL_DAYS = env.int("PAPER_ROLL_DAYS", default=30)
# Loaner terminals (repairs/loans.py): the merchant and the branch are reminded once a loaner has
# been out longer than LOANER_REMINDER_DAYS days.
LOANER_REMINDER_DAYS = env.int("LOANER_REMINDER_DAYS", default=7)

# Terminal health telemetry (terminals/telemetry.py, docs/telemetry.md): a signed batch's
# timestamp must be within TELEMETRY_WINDOW_SECONDS of our clock (and its signature is refused if
# seen again within that window); at most TELEMETRY_MAX_REPORTS reports and TELEMETRY_MAX_BYTES
# bytes per batch; raw reports are kept TELEMETRY_RAW_DAYS days, their daily summaries
# TELEMETRY_SUMMARY_DAYS days.
TELEMETRY_WINDOW_SECONDS = env.int("TELEMETRY_WINDOW_SECONDS", default=300)
TELEMETRY_MAX_REPORTS = env.int("TELEMETRY_MAX_REPORTS", default=10_000)
TELEMETRY_MAX_BYTES = env.int("TELEMETRY_MAX_BYTES", default=8 * 1024 * 1024)
TELEMETRY_RAW_DAYS = env.int("TELEMETRY_RAW_DAYS", default=30)
TELEMETRY_SUMMARY_DAYS = env.int("TELEMETRY_SUMMARY_DAYS", default=400)
# "Likely faulty" (the agents' monitoring queue): a terminal with no online report for more than
# LIKELY_FAULTY_SILENT_HOURS hours of its merchant's business hours (Merchant.opens_at–closes_at,
# 09:00–21:00 Asia/Shanghai unless set), or one serious error code reported LIKELY_FAULTY_REPEATS
# times or more in the last 24 hours.
LIKELY_FAULTY_SILENT_HOURS = env.int("LIKELY_FAULTY_SILENT_HOURS", default=4)
LIKELY_FAULTY_REPEATS = env.int("LIKELY_FAULTY_REPEATS", default=3)

# Fault tickets (repairs/): business hours from report to fix per priority, on the Chinese
# working-day calendar (holidays and make-up days), within the working day below; tickets left
# resolved or picked up close after TICKET_AUTO_CLOSE_DAYS; a pickup code locks after
# PICKUP_CODE_MAX_ATTEMPTS wrong entries; the engineer's dashboard flags devices waiting for
# pickup longer than PICKUP_WAIT_DAYS.
REPAIR_SLA_HOURS = {"urgent": 4, "high": 8, "normal": 16, "low": 40}
REPAIR_SLA_DAY_START = env.str("REPAIR_SLA_DAY_START", default="09:00")
REPAIR_SLA_DAY_END = env.str("REPAIR_SLA_DAY_END", default="18:00")
TICKET_AUTO_CLOSE_DAYS = env.int("AUTO_CLOSE_DAYS", default=7)
PICKUP_CODE_MAX_ATTEMPTS = env.int("PICKUP_CODE_MAX_ATTEMPTS", default=5)
PICKUP_WAIT_DAYS = env.int("PICKUP_WAIT_DAYS", default=3)
# Public tracking: lookups per client address per window (enough for a merchant checking a few
# tickets, far too few to guess tag numbers). Behind a reverse proxy, set TRUSTED_PROXIES to the
# number of proxies that append to X-Forwarded-For (0: trust none and use the socket address).
TRACK_LIMIT = env.int("TRACK_LIMIT", default=10)
TRACK_WINDOW_SECONDS = env.int("TRACK_WINDOW_SECONDS", default=600)
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)

# New-terminal applications (applications/): the fee plans' terms (yuan). Copied onto an
# application when its plan is chosen and again when it is fixed at approval, so later changes
# never alter a signed plan. Deposit deadline warnings go out this many days before the deadline.
APPLICATION_PURCHASE_PRICE = Decimal(env.str("APPLICATION_PURCHASE_PRICE", default="299.00"))
APPLICATION_DEPOSIT_AMOUNT = Decimal(env.str("APPLICATION_DEPOSIT_AMOUNT", default="299.00"))
APPLICATION_DEPOSIT_TARGET = Decimal(env.str("APPLICATION_DEPOSIT_TARGET", default="300000.00"))
APPLICATION_DEPOSIT_MONTHS = env.int("APPLICATION_DEPOSIT_MONTHS", default=10)
DEPOSIT_WARNING_DAYS = [int(d) for d in env.list("DEPOSIT_WARNING_DAYS", default=["30", "7"])]

# Reports (insights/): a report page is kept this many seconds (0: never cached).
REPORT_CACHE_SECONDS = env.int("REPORT_CACHE_SECONDS", default=300)

# Metrics (/metrics, portal/metrics.py): answered only to `Authorization: Bearer METRICS_TOKEN`
# (404 to everyone while it is unset), and only from METRICS_ALLOWED_IPS (addresses or networks,
# comma-separated) when that is set.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {exc}") from exc

# Notifications (notifications/): docs/notifications.md.
NOTIFICATIONS_MESSAGE_DOMAIN = env.str("NOTIFICATIONS_MESSAGE_DOMAIN", default="pos-portal.local")
# One task delivers one event's rows (or a requeued batch), each claimed on its own; a batch that
# runs longer than NOTIFICATIONS_BATCH_SECONDS queues the rest again (well within the time limit).
NOTIFICATIONS_BATCH_SIZE = env.int("NOTIFICATIONS_BATCH_SIZE", default=50)
NOTIFICATIONS_BATCH_SECONDS = env.int("NOTIFICATIONS_BATCH_SECONDS", default=30)
# PostgreSQL: the delivery bookkeeping commits without waiting for the disk (delivery.py explains).
NOTIFICATIONS_ASYNC_COMMIT = _strict_bool("NOTIFICATIONS_ASYNC_COMMIT", True)
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=15)
NOTIFICATIONS_REQUEUE_AFTER_SECONDS = env.int("NOTIFICATIONS_REQUEUE_AFTER_SECONDS", default=60)
# Longer than the delivery tasks' hard time limits (60 s; 90 s for a batch): a row still
# `sending` after this long lost its worker.
NOTIFICATIONS_STALE_SENDING_SECONDS = env.int("NOTIFICATIONS_STALE_SENDING_SECONDS", default=180)
# Each worker beats every NOTIFICATIONS_HEARTBEAT_SECONDS; one silent for
# NOTIFICATIONS_WORKER_LOST_SECONDS is gone, and the rows it was sending are queued again at once
# (notifications/worker.py): seconds after a killed worker, not the stale time above.
NOTIFICATIONS_HEARTBEAT_SECONDS = env.int("NOTIFICATIONS_HEARTBEAT_SECONDS", default=2)
NOTIFICATIONS_WORKER_LOST_SECONDS = env.int("NOTIFICATIONS_WORKER_LOST_SECONDS", default=10)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.sms.ConsoleBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(BASE_DIR / "var" / "sms.log"))
SMS_MAX_CHARS = 70
# SMS providers (docs/notifications.md "SMS and WeChat"): SMS_BACKEND notifications.sms.AliyunBackend or
# .TencentBackend sends the approved template of each kind and language (SMS_TEMPLATES, JSON
# {kind: {language: template id}}) with the kind's params.txt as its variables.
SMS_ACCESS_KEY_ID = env.str("SMS_ACCESS_KEY_ID", default="")  # AccessKey ID / SecretId
SMS_ACCESS_KEY_SECRET = env.str("SMS_ACCESS_KEY_SECRET", default="")  # AccessKey Secret / SecretKey
SMS_SIGN_NAME = env.str("SMS_SIGN_NAME", default="")  # 短信签名, approved by the provider
SMS_TEMPLATES = env.json("SMS_TEMPLATES", default={})
# Empty: the SDK's own endpoint (dysmsapi.aliyuncs.com, sms.tencentcloudapi.com); else a URL.
SMS_ENDPOINT = env.str("SMS_ENDPOINT", default="")
SMS_TIMEOUT_SECONDS = env.int("SMS_TIMEOUT_SECONDS", default=10)
SMS_TENCENT_SDK_APP_ID = env.str("SMS_TENCENT_SDK_APP_ID", default="")  # SDKAppID, 1400…
SMS_TENCENT_REGION = env.str("SMS_TENCENT_REGION", default="ap-guangzhou")
# WeChat Official Account template messages (notifications/wechat.py); off while WECHAT_APP_ID is
# empty. WECHAT_TEMPLATES: JSON {kind: {language: {"id": template id, "fields": {field: param}}}}.
WECHAT_APP_ID = env.str("WECHAT_APP_ID", default="")
WECHAT_APP_SECRET = env.str("WECHAT_APP_SECRET", default="")
WECHAT_TEMPLATES = env.json("WECHAT_TEMPLATES", default={})
WECHAT_API_URL = env.str("WECHAT_API_URL", default="https://api.weixin.qq.com")
WECHAT_OAUTH_URL = env.str("WECHAT_OAUTH_URL", default="https://open.weixin.qq.com")
WECHAT_TIMEOUT_SECONDS = env.int("WECHAT_TIMEOUT_SECONDS", default=10)
# How long the QR code of the binding page stays valid.
WECHAT_BIND_SECONDS = env.int("WECHAT_BIND_SECONDS", default=600)

# Celery: deliveries run on their own queue; the periodic jobs are each app's own tasks, named here
# by string (the project wiring is the one place that knows them all).
CELERY_TASK_ROUTES = {
    "notifications.deliver": {"queue": "deliveries"},
    "notifications.deliver_many": {"queue": "deliveries"},
}
CELERY_BEAT_SCHEDULE = {
    "notifications-requeue-stale": {"task": "notifications.requeue_stale", "schedule": 30.0},
    "tickets-sla-breach": {"task": "repairs.sla_breach_warnings", "schedule": 300.0},
    "tickets-dropoff-reminders": {"task": "repairs.dropoff_reminders", "schedule": 300.0},
    "tickets-auto-close": {"task": "repairs.auto_close_due_tickets", "schedule": 3600.0},
    "loaners-overdue": {"task": "repairs.loaner_reminders", "schedule": crontab(hour=10, minute=0)},
    "terminals-maintenance": {"task": "terminals.maintenance_reminders", "schedule": crontab(hour=9, minute=0)},
    "terminals-telemetry-retention": {"task": "terminals.telemetry_retention", "schedule": crontab(hour=3, minute=15)},
    "applications-deposits": {"task": "applications.deposit_reminders", "schedule": crontab(hour=9, minute=30)},
}

# The API schema: one enum name per choice set used by several fields, and the errors DRF answers
# on every endpoint documented (portal/openapi.py).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "TicketStatusEnum": "repairs.models.FaultTicket.Status",
    "ApplicationKindEnum": "applications.models.Application.Kind",
    "ApplicationDocumentKindEnum": "applications.models.ApplicationDocument.Kind",
    "ApplicationEventKindEnum": "applications.models.ApplicationEvent.Kind",
    "ApplicationStatusEnum": "applications.models.Application.Status",
    "TerminalStatusEnum": "terminals.models.Terminal.Status",
    "DeregistrationMethodEnum": "terminals.models.Deregistration.Method",
    "MerchantDocumentKindEnum": "portal.accounts.models.MerchantDocument.Kind",
    "MaintenanceKindEnum": "terminals.models.MaintenanceRecord.Kind",
    "VerdictEnum": "applications.models.ApplicationDocument.Verdict",
    "VerdictGivenEnum": ["verified", "rejected"],  # what a reviewer may give (not "pending")
}
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "portal.openapi.document_errors",
    "portal.openapi.document_patterns",
    "portal.openapi.document_transitions",
    "portal.openapi.document_links",
]
