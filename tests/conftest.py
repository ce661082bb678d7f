"""Shared fixtures: the named personas, a browser, and database helpers."""

import os
import shutil

import pytest
from django.db import connection

from tests.factories import (
    AdminFactory,
    BranchFactory,
    ChannelFactory,
    EngineerFactory,
    MerchantUserFactory,
    ReviewerFactory,
    UserFactory,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture
def merchant_user(db):
    """A merchant's owner, signed in through `merchant_client`."""
    return MerchantUserFactory(username="alice")


@pytest.fixture
def merchant(merchant_user):
    return merchant_user.merchant


@pytest.fixture
def other_merchant_user(db):
    """A second, unrelated merchant: everything of `merchant` must be a 404 to them."""
    return MerchantUserFactory(username="mallory")


@pytest.fixture
def agent(db):
    return UserFactory(username="agnes")


@pytest.fixture
def branch(db):
    return BranchFactory(code="BR001", name="浦东支行", city="上海")


@pytest.fixture
def engineer(branch):
    return EngineerFactory(username="eddie", branch=branch)


@pytest.fixture
def reviewer(db):
    return ReviewerFactory(username="rita")


@pytest.fixture
def admin_user(db):
    return AdminFactory(username="root")


@pytest.fixture
def channel(db):
    return ChannelFactory(code="BANK", name="本行收单")


def _client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def merchant_client(client, merchant_user):
    return _client_for(client, merchant_user)


@pytest.fixture
def agent_client(client, agent):
    return _client_for(client, agent)


@pytest.fixture
def engineer_client(client, engineer):
    return _client_for(client, engineer)


@pytest.fixture
def reviewer_client(client, reviewer):
    return _client_for(client, reviewer)


@pytest.fixture
def other_client(client, other_merchant_user):
    return _client_for(client, other_merchant_user)


def is_postgres():
    return connection.vendor == "postgresql"


requires_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (set DATABASE_URL); SQLite has no row locks",
)


# --- Browser ---------------------------------------------------------------------------------


def _chromium_available():
    return shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM)


@pytest.fixture(scope="session")
def _playwright_browser():
    if not _chromium_available():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
        pytest.skip(f"no Chromium at {CHROMIUM}: browser tests skipped (install the chromium package)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself (factories, assertions) are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)  # the page fixture's teardown reads it
    return report


@pytest.fixture
def page(_playwright_browser, live_server, request):
    """A Chromium page on the live server. Every page a test visits is audited with axe-core at
    375 px and 1280 px in both languages (tests/accessibility/axe.py)."""
    from tests.accessibility.axe import AuditedPage

    context = _playwright_browser.new_context(
        base_url=live_server.url, locale="en-US", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(15_000)
    pg = AuditedPage(context.new_page())
    yield pg
    call = getattr(request.node, "report_call", None)
    try:
        if call is not None and call.passed:
            pg.audit()  # the page the test ended on
    finally:
        context.close()


@pytest.fixture
def login(page):
    """Sign in through the real login page, as a user would."""

    def _login(username, password):
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return _login


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    """Every test sends its text messages to an empty in-memory outbox."""
    from notifications import sms

    settings.SMS_BACKEND = "notifications.sms.LocmemBackend"
    sms.LocmemBackend.outbox = []
    yield sms.LocmemBackend.outbox


@pytest.fixture
def sms_outbox(_sms_outbox):
    return _sms_outbox


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (rate limits, cached fragments and reports live there)."""
    from django.core.cache import cache, caches

    for each in (cache, caches["layout"], caches["fragments"]):
        each.clear()
    yield
    for each in (cache, caches["layout"], caches["fragments"]):
        each.clear()


@pytest.fixture
def error_codes(db):
    """The terminal error codes migration terminals 0004 seeds: a transactional test (a browser
    journey) empties every table after itself, data migrations' rows included."""
    import importlib

    from django.apps import apps

    importlib.import_module("terminals.migrations.0004_seed_error_codes").seed(apps, None)
