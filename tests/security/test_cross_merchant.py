"""Every URL that points at an object: merchant A's object is a 404 to merchant B, never a 403.

The objects come from tests/security/registry.py; a URL with an argument that nobody registered
fails here, so a new page is checked from the day it appears.
"""

import pytest

from tests.factories import AdminFactory, MerchantUserFactory
from tests.security.registry import NOT_MERCHANT_DATA, Owner, Staff, build_kwargs, builder_for
from tests.security.urlwalk import check_resolves, routes

pytestmark = pytest.mark.django_db

OBJECT_ROUTES = [r for r in routes() if builder_for(r) != ""]


def _request(client, method, path):
    if method == "get":
        return client.get(path)
    return client.post(path, {})


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.label)
def test_it_answers_404_to_another_merchant(client, route):
    assert builder_for(route) is not None, (
        f"{route.label} takes {route.kwargs} but tests/security/registry.py does not say which object "
        "that is: add a builder to BY_NAME (or NOT_MERCHANT_DATA with a reason)"
    )
    owner = Owner()
    path = route.path(build_kwargs(route, owner))
    check_resolves(route, path)
    staff_only = isinstance(builder_for(route), Staff)

    client.force_login(AdminFactory() if staff_only else owner.user)
    method = "get"
    mine = _request(client, method, path)
    if mine.status_code == 405:
        method = "post"
        mine = _request(client, method, path)
    assert mine.status_code != 404, f"{path}: the owner gets a 404 too, so this test would prove nothing"
    assert mine.status_code < 500

    if staff_only:
        # Staff pages: merchant A itself must be turned away, and B exactly as A.
        client.logout()
        client.force_login(owner.user)
        mine = _request(client, method, path)
        assert mine.status_code in (302, 403, 404), f"merchant A {method.upper()} {path} → {mine.status_code}"
    client.logout()
    client.force_login(MerchantUserFactory())
    theirs = _request(client, method, path)
    # A role gate that turns every merchant away before looking at the object reveals nothing.
    same_gate = theirs.status_code == mine.status_code and mine.status_code in (302, 403, 404)
    assert theirs.status_code == 404 or same_gate, (
        f"merchant B {method.upper()} {path} → {theirs.status_code} (owner: {mine.status_code}); expected 404"
    )


def test_it_lists_only_urls_that_exist():
    names = {r.name for r in routes()}
    assert not set(NOT_MERCHANT_DATA) - names
