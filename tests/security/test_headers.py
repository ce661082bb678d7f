"""Security headers on every page, for every kind of visitor, including errors and redirects."""

import pytest

from tests.factories import PASSWORD, AdminFactory, MerchantUserFactory
from tests.security.urlwalk import routes

pytestmark = pytest.mark.django_db

PAGES = [r for r in routes() if not r.kwargs and r.name not in {"logout", "admin:logout"}]
# Swagger UI and the admin ship inline scripts, so the middleware leaves their CSP to them.
NO_CSP = ("/api/docs", "/admin/")


def header_problems(path, response):
    problems = []
    csp = response.get("Content-Security-Policy", "")
    if not path.startswith(NO_CSP):
        for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
            if directive not in csp:
                problems.append(f"CSP lacks {directive!r}")
        if "unsafe-inline" in csp.split("script-src", 1)[-1].split(";", 1)[0]:
            problems.append("CSP allows inline scripts")
    expected = {
        "X-Frame-Options": {"DENY"},
        "X-Content-Type-Options": {"nosniff"},
        # /track/ sends only the origin (its links carry a tag number).
        "Referrer-Policy": {"same-origin", "strict-origin"},
        # Swagger UI opens its OAuth pop-ups with the opener kept.
        "Cross-Origin-Opener-Policy": {"same-origin"} if not path.startswith("/api/docs") else None,
    }
    for name, values in expected.items():
        if values and response.get(name) not in values:
            problems.append(f"{name}: {response.get(name)!r}")
    if "camera=()" not in response.get("Permissions-Policy", ""):
        problems.append("no Permissions-Policy")
    return problems


@pytest.mark.parametrize("who", ["anonymous", "merchant", "admin"])
def test_every_page_sends_the_security_headers(client, who):
    if who == "merchant":
        client.force_login(MerchantUserFactory())
    elif who == "admin":
        client.force_login(AdminFactory())
    problems = {}
    paths = [r.path() for r in PAGES] + ["/no-such-page/", "/api/v1/no-such-endpoint/"]
    for path in paths:
        response = client.get(path)
        found = header_problems(path, response)
        if found:
            problems[f"{path} ({response.status_code})"] = found
    assert not problems, problems


def test_the_session_cookie_is_http_only_and_same_site(client):
    user = MerchantUserFactory()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_the_api_does_not_sniff_or_frame(client):
    client.force_login(MerchantUserFactory())
    response = client.get("/api/v1/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
