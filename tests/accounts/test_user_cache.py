"""The signed-in user is read from the cache with the session, and a saved change counts at once.

These tests commit (transaction=True): the cache is only filled outside a transaction, as on a
real request."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.accounts.backends import user_cache_key
from tests.factories import MerchantUserFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _user_queries(client, path="/"):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries if 'WHERE "accounts_user"."id" =' in q["sql"]]


def test_it_reads_the_signed_in_user_from_the_cache_after_the_first_request(client):
    user = MerchantUserFactory()
    client.force_login(user)
    assert len(_user_queries(client)) == 1
    assert cache.get(user_cache_key(user.pk)).pk == user.pk
    assert _user_queries(client) == []


def test_it_signs_out_a_deactivated_user_at_the_next_request(client):
    user = MerchantUserFactory()
    client.force_login(user)
    client.get("/")
    user.is_active = False
    user.save()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_signs_out_everywhere_when_the_password_changes(client):
    user = MerchantUserFactory()
    client.force_login(user)
    client.get("/")
    user.set_password("a-new-Passw0rd!")
    user.save()
    response = client.get("/")
    assert response.status_code == 302


def test_it_shows_a_changed_role_at_the_next_request(client):
    user = UserFactory(role="agent")
    client.force_login(user)
    assert 'data-role="agent"' in client.get("/").content.decode()
    user.role = "reviewer"
    user.save()
    assert 'data-role="reviewer"' in client.get("/").content.decode()


def test_it_shows_a_renamed_merchant_at_the_next_request(client):
    user = MerchantUserFactory()
    client.force_login(user)
    assert user.merchant.name in client.get("/").content.decode()
    merchant = user.merchant
    merchant.name = "Renamed Noodle Bar 改名面馆"
    merchant.save()
    assert cache.get(user_cache_key(user.pk)) is None
    assert "Renamed Noodle Bar 改名面馆" in client.get("/").content.decode()


def test_it_forgets_a_deleted_user(client):
    user = UserFactory(role="agent")
    client.force_login(user)
    client.get("/")
    user.delete()
    assert cache.get(user_cache_key(user.pk)) is None
    assert client.get("/").status_code == 302


def _api(client, key):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/profile/", headers={"Authorization": f"Token {key}"})
    return response, [q["sql"] for q in ctx.captured_queries if "authtoken_token" in q["sql"] or
                      'WHERE "accounts_user"."id" =' in q["sql"]]


def test_a_cached_user_is_stored_fresh_from_the_database(client):
    from rest_framework.authtoken.models import Token

    user = UserFactory(role="agent")
    token = Token.objects.create(user=user)
    _api(client, token.key)
    cached = cache.get(user_cache_key(user.pk))
    assert cached.pk == user.pk and cached.role == "agent" and not hasattr(cached, "_perm_cache")


def test_an_api_token_is_read_from_the_cache_and_a_deleted_one_refused_at_once(client):
    from rest_framework.authtoken.models import Token

    user = UserFactory(role="agent")
    token = Token.objects.create(user=user)
    response, queries = _api(client, token.key)
    assert response.status_code == 200 and len(queries) == 1  # the token with its user
    response, queries = _api(client, token.key)
    assert response.status_code == 200 and queries == []
    assert response.json()["username"] == user.username
    token.delete()
    _refused(client, token.key)


def test_an_api_token_of_a_deactivated_user_is_refused_at_the_next_call(client):
    from rest_framework.authtoken.models import Token

    user = UserFactory(role="agent")
    token = Token.objects.create(user=user)
    assert _api(client, token.key)[0].status_code == 200
    user.is_active = False
    user.save()
    _refused(client, token.key)
    _refused(client, "not-a-token")


def _refused(client, key):
    # DRF answers 403 (not 401) because the session comes first among the authentication classes.
    response = _api(client, key)[0]
    assert response.status_code == 403 and response.json()["code"] == "authentication_failed"
