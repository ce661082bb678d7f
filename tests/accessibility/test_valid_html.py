"""Every page each demo role reaches is valid HTML (the Nu Html Checker), in both languages.

The pages come from following links from each role's home page (and, signed out, from the sign-in
and tracking pages), plus the states links do not reach: forms sent back with errors, the
password-reset steps, a tracking lookup, a finished import, a "not found" page. Every page name of
the resolver must be among them or be listed in NOT_PAGES with the reason, so a page added
tomorrow is validated tomorrow.
"""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from applications.models import Application
from portal.accounts.models import User
from repairs.models import FaultTicket
from terminals.models import ImportJob
from tests.accessibility import vnu
from tests.accessibility.crawl import Page, crawl, view_name
from tests.security.urlwalk import routes
from tests.terminals.helpers import csv_bytes, stock_rows

pytestmark = pytest.mark.django_db

DEMO_USERS = ("merchant", "merchant2", "agent", "engineer", "reviewer", "admin")
LANGUAGES = ("zh-hans", "en")

# URL names that are not pages of their own, and why.
NOT_PAGES = {
    "healthz": "JSON for load balancers",
    "logout": "POST only, then the sign-in page",
    "set_language": "POST only, then back to the page",
    "accounts:document_upload": "POST only, then back to the merchant",
    "accounts:document": "a file download",
    "terminals:export": "a CSV download",
    "terminals:import_template": "a CSV download",
    "terminals:log_maintenance": "POST only, then back to the terminal",
    "terminals:issue": "POST only, then back to the terminal",
    "terminals:activate": "POST only, then back to the terminal",
    "terminals:restock": "POST only, then back to the terminal",
    "tickets:attachment": "a file download",
    "tickets:transition": "POST only, then back to the ticket",
    "tickets:open_from_monitoring": "POST only, then the new ticket (or back to the likely-faulty queue)",
    "tickets:comment": "POST only, then back to the ticket",
    "tickets:attach": "POST only, then back to the ticket",
    "tickets:reissue_code": "POST only, then back to the ticket",
    "tickets:loaner_lend": "POST only, then back to the ticket (its 400 page is checked in tests/repairs/test_loaner_pages.py)",
    "tickets:loaner_return": "POST only, then back to the ticket",
    "tickets:loaner_inspect": "POST only, then back to the loaner pool",
    "tickets:dropoff_book": "POST only, then back to the ticket (its 400 is validated below)",
    "tickets:dropoff_cancel": "POST only, then back to the ticket",
    "applications:document": "a file download",
    "applications:document_verdict": "POST only, then back to the application",
    "applications:transition": "POST only, then back to the application",
    "applications:document_upload": "POST only, then back to the application",
    "applications:inspection": "POST only, then back to the application",
    "applications:deregistration": "POST only, then back to the application",
    "applications:volume": "POST only, then back to the application",
    "applications:refund": "POST only, then back to the application",
    "tickets:qr": "an SVG image (its HTML twin is on the repair request form)",
    "insights:report_csv": "a CSV download",
    "notifications:read_all": "POST only, then back to the notifications",
    "notifications:read": "POST only, then back to the notifications",
    "notifications:open": "POST only, then to the notification's object",
    "notifications:log_retry": "POST only, then back to the delivery",
    "notifications:wechat_status": "polled by the binding page: 204, no body",
    "notifications:wechat_callback": "where WeChat sends the phone that scanned the code (tested in tests/notifications)",
    "notifications:wechat_unbind": "POST only, then back to the WeChat page",
    "metrics": "Prometheus text behind a token, for the monitoring server",
    "bench-floor": "bench/ only, plain text",
}


def _signed_in(username, language):
    user = User.objects.get(username=username)
    user.language = language
    user.save(update_fields=["language"])  # as the profile page does (a saved user is not served from the cache)
    client = Client()
    client.force_login(user)
    return client


def _visit(client, method, path, data=None, *, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    response = getattr(client, method)(path, data or {}, follow=not htmx, headers=headers)
    assert response.get("Content-Type", "").startswith("text/html"), f"{method.upper()} {path}: not HTML"
    final = response.request["PATH_INFO"]
    return Page(f"{method.upper()} {path} → {response.status_code}", view_name(final) or "", response.content.decode(),
                htmx)


def _states_links_do_not_reach(username, client, language, settings):
    """Forms sent back with their errors, and the pages that follow a form."""
    if username is None:
        merchant = User.objects.get(username="merchant")
        ticket = FaultTicket.objects.filter(terminal__merchant=merchant.merchant).select_related("terminal").first()
        uid = urlsafe_base64_encode(force_bytes(merchant.pk))
        token = default_token_generator.make_token(merchant)
        pages = [
            _visit(client, "post", "/accounts/login/", {"username": "merchant", "password": "wrong"}),
            _visit(client, "post", "/accounts/password_reset/", {"email": "not an address"}),
            _visit(client, "get", "/accounts/password_reset/done/"),
            _visit(client, "get", f"/accounts/reset/{uid}/{token}/"),
            _visit(client, "post", f"/accounts/reset/{uid}/set-password/", {"new_password1": "a", "new_password2": "b"}),
            _visit(client, "get", "/accounts/reset/done/"),
            _visit(client, "get", f"/track/?no={ticket.service_order_no}&tag={ticket.terminal.tag_number}"),
            _visit(client, "get", "/track/?no=SO20200101-0001&tag=nothing"),
            _visit(client, "get", "/track/?no=&tag="),
            _visit(client, "get", "/no-such-page/"),
        ]
        settings.TRACK_LIMIT = 0
        pages.append(_visit(client, "get", "/track/?no=SO20200101-0001&tag=nothing"))
        return pages
    pages = [
        _visit(client, "post", "/accounts/password_change/", {"old_password": "wrong"}),
        _visit(client, "get", "/accounts/password_change/done/"),
        _visit(client, "post", "/accounts/profile/", {"email": "not an address"}),
        _visit(client, "get", "/tickets/SO20200101-0001/"),
    ]
    if username != "merchant":
        pages += [
            _visit(client, "get", "/search/?q=SO2026"),
            _visit(client, "get", "/search/?q=nothing-matches-this"),
        ]
    if username in ("merchant", "merchant2"):
        user = User.objects.get(username=username)
        pages += [
            _visit(client, "post", "/tickets/report/", {"symptoms": ""}),
            _visit(client, "post", "/applications/new/", {"kind": "replacement", "ticket": "SO20200101-0001"}),
        ]
        for ticket in FaultTicket.objects.filter(terminal__merchant=user.merchant)[:1]:
            pages.append(_visit(client, "post", reverse("tickets:rate", args=[ticket.service_order_no]), {}, htmx=True))
        for ticket in FaultTicket.objects.filter(terminal__merchant=user.merchant, status="awaiting_branch")[:1]:
            pages.append(_visit(client, "post", reverse("tickets:dropoff_book", args=[ticket.service_order_no]),
                                {"starts_at": "2020-01-01T09:00"}))
        for application in Application.objects.filter(merchant=user.merchant)[:1]:
            pages.append(_visit(client, "get", f"/applications/{application.number}/deposit/", htmx=True))
    if username == "agent":
        serial = User.objects.get(username="merchant2").merchant.terminals.filter(status="active").first().serial_number
        pages += [
            _visit(client, "get", "/tickets/log-call/?q=%E5%8D%8E%E7%BE%8E"),
            _visit(client, "post", "/tickets/log-call/", {"terminal": serial}),
            _visit(client, "post", "/tickets/log-call/", {"terminal": serial, "fault_type": "printer",
                                                          "symptoms": "打印模糊", "priority": "normal"}),
        ]
    if username == "engineer":
        loaned = FaultTicket.objects.filter(loans__outcome="out").first()
        pages += [
            _visit(client, "post", reverse("tickets:loaner_return", args=[loaned.service_order_no]),
                   {"outcome": "returned", "serial_number": "WRONG", "tag_number": "WRONG"}),
            _visit(client, "post", reverse("tickets:loaner_inspect", args=["DEMO-LN-002"]), {"note": ""}),
        ]
    if username == "reviewer":
        upload = csv_bytes(stock_rows(3, start=900) + [["", "TAG-X", "PAX A920", "PAX", "NOPE", "", "", "", ""]])
        pages += [
            _visit(client, "post", "/terminals/import/", {}),
            _visit(client, "post", "/terminals/import/",
                   {"file": SimpleUploadedFile(f"stock-{language}.csv", upload, content_type="text/csv")}),
        ]
        job = ImportJob.objects.latest("pk")
        pages.append(_visit(client, "get", f"/terminals/import/{job.pk}/progress/", htmx=True))
    return pages


@pytest.fixture
def every_page(settings, django_capture_on_commit_callbacks):
    call_command("seed_demo")
    pages, dead_ends = {}, []
    for username in (*DEMO_USERS, None):
        for language in LANGUAGES:
            cache.clear()  # the tracking lookups' rate limit
            if username is None:
                client = Client()
                client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
                start = ("/accounts/login/", "/track/", "/accounts/password_reset/")
            else:
                client = _signed_in(username, language)
                start = ("/",)
            with django_capture_on_commit_callbacks(execute=True):
                found = _states_links_do_not_reach(username, client, language, settings)
            found += crawl(client, start, dead_ends=dead_ends)
            settings.TRACK_LIMIT = 10
            for page in found:
                pages[f"{username or 'anonymous'} {language} {page.path}"] = page
    cache.clear()
    return pages, dead_ends


def test_it_serves_valid_html_on_every_page_each_role_reaches_and_no_link_ends_in_an_error(every_page):
    pages, dead_ends = every_page
    documents = {name: vnu.SHELL.format(p.html) if p.fragment else p.html for name, p in pages.items()}
    errors = vnu.validate(documents)
    if errors:
        pytest.fail(vnu.report(errors), pytrace=False)
    assert not dead_ends, "links that answer with an error (page, link, status): " + repr(sorted(set(dead_ends)))
    # Every page of the resolver was among them (or is not a page).
    reached = {p.view for p in pages.values()}
    names = {r.name for r in routes() if not (r.is_api or r.is_admin) and r.name}
    unreached = names - reached - set(NOT_PAGES)
    assert not unreached, f"no role reaches {sorted(unreached)}: link to it, add a state above, or list it in NOT_PAGES"
    assert len(pages) > 200
