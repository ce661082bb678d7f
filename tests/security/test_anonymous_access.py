"""Every URL of the resolver refuses an anonymous visitor, except the documented public pages.

A page is "refused" when it redirects to a sign-in page (the portal's or the admin's), or, under
/api/, answers 401/403. A method the view does not support (405) is fine, as long as some method
is refused properly. Anything else public must be listed in PUBLIC below, with a reason.
"""

from urllib.parse import urlparse

import pytest
from django.urls import reverse

from tests.security.urlwalk import check_resolves, routes

pytestmark = pytest.mark.django_db

# The documented public pages (DESIGN.md, issue 8), by URL name; prefixes for whole areas.
PUBLIC = {
    "login": "the sign-in page",
    "password_reset": "forgotten password",
    "password_reset_done": "forgotten password",
    "password_reset_confirm": "forgotten password (signed link)",
    "password_reset_complete": "forgotten password",
    "healthz": "load balancers and monitoring",
    "metrics": "Prometheus: 404 to anyone without the METRICS_TOKEN bearer token (tests/core/test_metrics.py)",
    "set_language": "the language switch works before signing in",
    "api-token": "POST username/password for an API token",
    "api-schema": "the OpenAPI schema",
    "api-docs": "the API documentation",
    "admin:login": "the admin's own sign-in page",
    "bench-floor": "bench/ only (BENCH_FLOOR=1), never in production",
    "notifications:wechat_callback": "WeChat's OAuth redirect, opened on the phone that scanned: a one-time state",
}
PUBLIC_PREFIXES = ("track/",)  # public tracking by service-order number + tag number

ALL_ROUTES = list(routes())


def is_public(route):
    return route.name in PUBLIC or route.regex.lstrip("^").startswith(PUBLIC_PREFIXES)


def _refused(route, response, client, hops=3):
    """A redirect that lands on a sign-in page (following a few local hops), or a 401/403 API answer."""
    if response.status_code in (301, 302, 303, 307, 308):
        target = urlparse(response["Location"])
        if target.path in {reverse("login"), reverse("admin:login")}:
            return True
        if hops and not target.netloc:
            return _refused(route, client.get(response["Location"]), client, hops - 1)
        return False
    if route.is_api:
        return response.status_code in (401, 403)
    return False


@pytest.mark.parametrize("route", [r for r in ALL_ROUTES if not is_public(r)], ids=lambda r: r.label)
def test_it_refuses_anonymous_visitors(client, route):
    path = route.path()
    check_resolves(route, path)
    methods = ["get", "post"] + (["patch", "delete"] if route.is_api else [])
    outcomes = {}
    for method in methods:
        response = getattr(client, method)(path)
        outcomes[method] = response.status_code
        assert response.status_code == 405 or _refused(route, response, client), (
            f"anonymous {method.upper()} {path} answered {response.status_code} "
            f"({response.get('Location', '')}): log in first, or add it to PUBLIC with a reason"
        )
    assert set(outcomes.values()) != {405}, f"{path}: no method refused anonymously: {outcomes}"


@pytest.mark.parametrize("route", [r for r in ALL_ROUTES if is_public(r)], ids=lambda r: r.label)
def test_it_serves_public_pages_without_errors(client, route):
    path = route.path()
    check_resolves(route, path)
    response = client.get(path)
    # /healthz says 503 when a dependency is down; that is its job, not an error.
    assert response.status_code < 500 or route.name == "healthz"


def test_it_knows_every_public_name_it_allows():
    # A stale entry would silently make a future page with that name public.
    names = {r.name for r in ALL_ROUTES}
    stale = set(PUBLIC) - names - {"bench-floor"}
    assert not stale, f"PUBLIC lists names no URL has: {stale}"
