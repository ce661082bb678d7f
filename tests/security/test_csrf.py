"""CSRF: every URL refuses a cookie-authenticated POST without the token, and every form has one."""

import re

import pytest
from django.test import Client

from tests.factories import PASSWORD, AdminFactory, MerchantUserFactory
from tests.security.urlwalk import check_resolves, routes

pytestmark = pytest.mark.django_db

# Views that may take a POST without a CSRF token, and why (keep it that short).
CSRF_EXEMPT = {
    "api-telemetry": "no session or cookie: each batch is signed with its source's secret (HMAC-SHA256, "
                     "timestamped, replays refused; tests/terminals/test_telemetry.py)",
}
# Views whose refusal page does not say why (the 403 itself is what matters).
TERSE_403 = {"api-docs": "Swagger UI's renderer prints any error as a bare status line"}

ALL_ROUTES = [r for r in routes() if r.name not in CSRF_EXEMPT]


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize("route", ALL_ROUTES, ids=lambda r: r.label)
def test_it_refuses_a_post_without_the_token(csrf_client, route):
    csrf_client.force_login(AdminFactory())
    path = route.path()
    check_resolves(route, path)
    response = csrf_client.post(path, {"note": "x"})
    assert response.status_code == 403, f"POST {path} without a CSRF token answered {response.status_code}"
    assert b"CSRF" in response.content or route.name in TERSE_403


def test_it_accepts_a_post_with_the_token(csrf_client):
    user = MerchantUserFactory()
    page = csrf_client.get("/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    response = csrf_client.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


FORM = re.compile(rb"<form\b([^>]*)>(.*?)</form>", re.S | re.I)


def post_forms_without_token(html):
    """The POST forms of a page that carry no csrfmiddlewaretoken."""
    missing = []
    for attrs, body in FORM.findall(html):
        if re.search(rb"method=[\"']?post", attrs, re.I) and b"csrfmiddlewaretoken" not in body:
            missing.append(attrs.decode(errors="replace").strip())
    return missing


PAGES = [r for r in routes() if not r.kwargs and not r.is_api and not r.is_admin]


@pytest.mark.parametrize("who", ["anonymous", "merchant", "admin"])
def test_every_post_form_of_every_page_carries_the_token(client, who):
    if who == "merchant":
        client.force_login(MerchantUserFactory())
    elif who == "admin":
        client.force_login(AdminFactory())
    problems = {}
    for route in PAGES:
        path = route.path()
        response = client.get(path)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            missing = post_forms_without_token(response.content)
            if missing:
                problems[path] = missing
    assert not problems, f"POST forms without {{% csrf_token %}}: {problems}"
