"""The layout is rendered once per worker for each language, role and page (templates/base.html's
cache blocks); what is a person's own is never taken from another person's page."""

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import AdminFactory, MerchantUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")  # a page with little of its own around the layout


def _page(user, path=PROFILE, language="en"):
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(path, headers={"Accept-Language": language})
    assert response.status_code == 200
    return client, response.content.decode()


def test_it_shows_each_person_their_own_name_and_badge_on_a_layout_rendered_once():
    first = MerchantUserFactory(first_name="Ada", last_name="Lovelace")
    second = MerchantUserFactory(first_name="Grace", last_name="Hopper")
    _, one = _page(first)
    _, two = _page(second)
    assert "Lovelace" in one and "Lovelace" not in two and "Hopper" in two
    # the same HTML around the names: the navigation came from the cache
    strip = lambda html: re.sub(r'value="[^"]+"|"X-CSRFToken": "[^"]+"', "", html)  # noqa: E731
    assert strip(one).replace("Ada Lovelace", "X").replace("Lovelace Ada", "X") == strip(two).replace(
        "Grace Hopper", "X").replace("Hopper Grace", "X")


def test_it_gives_each_role_its_own_menu_and_each_page_its_own_active_item():
    merchant, agent, admin = MerchantUserFactory(), UserFactory(role="agent"), AdminFactory()
    _, m = _page(merchant)
    _, a = _page(agent)
    _, ad = _page(admin)
    assert 'data-role="merchant"' in m and 'data-role="agent"' in a and 'data-role="admin"' in ad
    assert "Administration" in ad and "Administration" not in m and "Administration" not in a
    assert 'data-testid="nav-more"' in ad and 'data-testid="nav-more"' not in m
    # the active section follows the page, on a layout already cached for the role
    _, home = _page(merchant, "/")
    _, tickets = _page(merchant, "/tickets/")
    active = re.compile(r'<a class="nav-link active" href="([^"]+)"')
    menu = lambda html: html[: html.index("</nav>")]  # noqa: E731
    assert active.findall(menu(home)) == ["/"] and active.findall(menu(tickets)) == ["/tickets/"]


def test_it_renders_the_layout_in_the_visitors_language():
    english, chinese = MerchantUserFactory(language="en"), MerchantUserFactory(language="zh-hans")
    _, en = _page(english, language="en")
    _, zh = _page(chinese, language="zh-hans")
    assert "Sign out" in en and "Sign out" not in zh and "退出" in zh


def test_it_keeps_every_form_of_the_layout_working_with_the_visitors_own_token():
    user = MerchantUserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    for _ in range(2):  # the second page is built from cached blocks
        body = client.get(PROFILE).content.decode()
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert len(tokens) >= 2  # sign out, language (and the page's own form)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/", "csrfmiddlewaretoken": tokens[-1]})
    assert response.status_code == 302
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": tokens[0]})
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_its_empty_page_costs_the_same_queries_for_a_second_visitor():
    first, second = MerchantUserFactory(), MerchantUserFactory()
    client, _ = _page(first)
    client.get(PROFILE)
    with CaptureQueriesContext(connection) as warm:
        client.get(PROFILE)
    other, _ = _page(second)
    with CaptureQueriesContext(connection) as other_warm:
        other.get(PROFILE)
    # nothing per menu item or per cached block: the same for a visitor whose layout was cached
    assert len(warm.captured_queries) == len(other_warm.captured_queries)
    assert caches["layout"]._cache  # the blocks were kept


def test_it_shows_each_person_their_own_unread_count_in_a_bell_rendered_once_per_count():
    """The bell is kept per language and count: the same count gives the same bell, whoever asks;
    a new notification or a read one changes the count shown on the next page."""
    from notifications.services import mark_all_read
    from tests.notifications.factories import NotificationFactory

    def bell(html):
        return re.search(r'<span id="notification-badge"[^>]*>.*?</span></span>', html, re.S).group(0)

    first, second = MerchantUserFactory(), MerchantUserFactory()
    NotificationFactory.create_batch(2, recipient=first)
    _, one = _page(first)
    _, two = _page(second)
    assert "d-none" not in bell(one) and '<span aria-hidden="true">2</span>' in bell(one)
    assert "2 unread notifications" in bell(one)
    assert "d-none" in bell(two) and '<span aria-hidden="true">0</span>' in bell(two)
    NotificationFactory.create_batch(2, recipient=second)
    _, two = _page(second)
    assert bell(two) == bell(one)
    second.language = "zh-hans"  # the profile's language is the page's
    second.save(update_fields=["language"])
    _, zh = _page(second, language="zh-hans")
    assert '<span aria-hidden="true">2</span>' in bell(zh) and bell(zh) != bell(one)
    mark_all_read(second)
    _, two = _page(second)
    assert '<span aria-hidden="true">0</span>' in bell(two)
