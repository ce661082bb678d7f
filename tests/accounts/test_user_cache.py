"""The signed-in user is read from the cache with the session, and a saved change counts at once.

These tests commit (transaction=True): the cache is only filled outside a transaction, as on a
real request."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
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


def _home(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/")
    assert response.status_code == 200
    tables = " ".join(q["sql"] for q in ctx.captured_queries)
    return response.content.decode(), tables


def test_a_merchants_users_come_from_the_cache_and_a_change_shows_at_once(client):
    """The home page's users card: read once, then from the cache; a new, renamed, deleted or
    moved user shows (or leaves) at the next request, whichever merchant's page it is."""
    owner = MerchantUserFactory(first_name="Ada", last_name="Owner", is_merchant_owner=True)
    other = MerchantUserFactory(first_name="Grace", last_name="Other")
    client.force_login(owner)
    page, sql = _home(client)
    assert "Ada Owner" in page and '"accounts_user"."merchant_id" =' in sql
    page, sql = _home(client)
    assert "Ada Owner" in page and '"accounts_user"."merchant_id" =' not in sql  # from the cache

    clerk = MerchantUserFactory(merchant=owner.merchant, first_name="Cleo", last_name="Clerk")
    assert "Cleo Clerk" in _home(client)[0]
    clerk.last_name = "Renamed"
    clerk.save()
    assert "Cleo Renamed" in _home(client)[0]

    other_client = Client()
    other_client.force_login(other)
    assert "Cleo Renamed" not in _home(other_client)[0]
    clerk.merchant = other.merchant  # moved: it leaves the first merchant's card at once
    clerk.save()
    assert "Cleo Renamed" not in _home(client)[0]
    assert "Cleo Renamed" in _home(other_client)[0]
    clerk.merchant = owner.merchant  # moved back, saving only that column (by its attname)
    clerk.save(update_fields=["merchant_id"])
    assert "Cleo Renamed" not in _home(other_client)[0]
    assert "Cleo Renamed" in _home(client)[0]
    clerk.delete()
    assert "Cleo Renamed" not in _home(client)[0]


def test_a_merchants_documents_come_from_the_cache_and_an_upload_shows_at_once(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    owner = MerchantUserFactory(is_merchant_owner=True)
    client.force_login(owner)
    page, sql = _home(client)
    assert "accounts_merchantdocument" in sql and "on file since" not in page
    page, sql = _home(client)
    assert "accounts_merchantdocument" not in sql  # from the cache
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = client.post(reverse("accounts:document_upload", args=[owner.merchant.pk]),
                           {"kind": "business_licence", "file": SimpleUploadedFile("licence.pdf", pdf)})
    assert response.status_code == 302
    page, _sql = _home(client)
    assert page.count("on file since") == 1
    owner.merchant.documents.get().delete()
    assert "on file since" not in _home(client)[0]


def test_a_signed_in_page_reads_its_user_and_unread_badge_in_one_round_trip(client, monkeypatch):
    from django.core.cache import caches

    from notifications.selectors import _unread_key

    user = MerchantUserFactory()
    client.force_login(user)
    client.get("/")  # the user and the badge's count are cached now
    backend, inside, reads = caches["default"], [], []
    real_get, real_get_many = backend.get, backend.get_many

    def get_many(keys, *args, **kwargs):
        reads.append(tuple(keys))
        inside.append(True)
        try:
            return real_get_many(keys, *args, **kwargs)
        finally:
            inside.pop()

    def get(key, *args, **kwargs):
        if not inside:  # (the local-memory cache's get_many asks get for each key)
            reads.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(backend, "get", get)
    monkeypatch.setattr(backend, "get_many", get_many)
    page = client.get("/")
    assert page.status_code == 200 and 'data-testid="nav-notifications"' in page.content.decode()
    user_key, badge_key = user_cache_key(user.pk), _unread_key(user.pk)
    assert (user_key, badge_key) in reads  # one get_many: one round trip on Redis
    assert user_key not in reads and badge_key not in reads  # and neither read again
