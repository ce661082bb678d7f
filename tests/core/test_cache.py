"""portal.core.cache.count: a counter made and counted at once (the tracking page's rate limit,
the delivery metrics), on Redis in one round trip and on the local-memory cache."""

import time

import pytest
from django.core.cache.backends.locmem import LocMemCache

from portal.core import cache as portal_cache
from portal.core.cache import RedisCache, count
from tests.notifications.worker_support import RedisServer


@pytest.fixture
def redis_cache():
    server = RedisServer()  # our own, never the shared one
    server.start()
    try:
        yield RedisCache(server.url, {})
    finally:
        server.stop()


def _ttl(redis_cache, key):
    return redis_cache._cache.get_client(key).ttl(redis_cache.make_key(key))


def test_a_counter_on_redis_starts_at_one_counts_up_in_one_round_trip_and_expires(redis_cache, monkeypatch):
    pipeline_class = type(redis_cache._cache.get_client("hits", write=True).pipeline())
    execute, sent = pipeline_class.execute, []

    def counting_execute(pipeline, *args, **kwargs):
        sent.append(len(pipeline.command_stack))
        return execute(pipeline, *args, **kwargs)

    monkeypatch.setattr(pipeline_class, "execute", counting_execute)
    assert [redis_cache.count("hits", 2) for _ in range(3)] == [1, 2, 3]
    monkeypatch.undo()
    assert sent == [2, 2, 2]  # each count is one pipeline of two commands: one round trip
    assert redis_cache.get("hits") == 3  # an int other cache calls read as such
    assert 0 < _ttl(redis_cache, "hits") <= 2  # counting does not push its end further
    time.sleep(2.1)
    assert redis_cache.count("hits", 2) == 1  # a new window starts afresh


def test_a_counter_on_redis_without_a_lifetime_never_expires_and_continues_a_set_value(redis_cache):
    assert redis_cache.count("delivered", None) == 1
    assert _ttl(redis_cache, "delivered") == -1  # no expiry
    redis_cache.set("restored", 41, timeout=None)
    assert redis_cache.count("restored", None) == 42


@pytest.mark.parametrize("backend", ["configured", "locmem"])
def test_count_counts_on_any_cache(backend, monkeypatch):
    """On the configured cache (Redis in CI, the local-memory cache in `make run`) and on a cache
    without a `count` of its own."""
    if backend == "locmem":
        monkeypatch.setattr(portal_cache, "cache", LocMemCache("count-test", {}))
    assert [count("rl:test", 1) for _ in range(3)] == [1, 2, 3]
    assert portal_cache.cache.get("rl:test") == 3
    time.sleep(1.1)
    assert count("rl:test", 1) == 1


@pytest.fixture
def counted_cache(monkeypatch):
    """A local-memory cache of its own in place of the configured one, counting its reads."""
    local = LocMemCache("ahead-test", {})
    reads = []
    real_get = local.get

    def get(key, *args, **kwargs):
        reads.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(local, "get", get)
    monkeypatch.setattr(portal_cache, "cache", local)
    yield local, reads
    portal_cache._forget_ahead()


def test_what_was_fetched_with_a_key_is_read_once_without_asking_the_cache_again(counted_cache):
    local, reads = counted_cache
    local.set("user", "the user")
    local.set("badge", 3)
    assert portal_cache.get_with("user", ["badge", "absent"]) == "the user"
    reads.clear()
    assert portal_cache.read_through("badge", lambda: pytest.fail("it was cached"), 60) == 3
    assert reads == []  # taken from what was fetched
    assert portal_cache.read_through("absent", lambda: 7, 60) == 7 and reads == []  # read, then kept
    assert local.get("absent") == 7
    reads.clear()
    assert portal_cache.read_through("badge", lambda: 0, 60) == 3 and reads == ["badge"]  # taken once only


def test_a_key_forgotten_after_it_was_fetched_is_read_anew(counted_cache):
    local, _ = counted_cache
    local.set("badge", 3)
    portal_cache.get_with("user", ["badge"])
    portal_cache.forget(["badge"], on_commit=False)  # the request changed it (a notification read)
    assert portal_cache.read_through("badge", lambda: 2, 60) == 2


@pytest.mark.django_db  # the signals' other receivers close old database connections
def test_nothing_fetched_ahead_outlives_its_request(counted_cache):
    from django.core.signals import request_finished, request_started

    local, _ = counted_cache
    local.set("badge", 3)
    portal_cache.get_with("user", ["badge"])
    request_finished.send(sender=None)
    local.set("badge", 4)  # changed by another process after the request
    assert portal_cache.read_through("badge", lambda: 0, 60) == 4
    portal_cache.get_with("user", ["badge"])
    local.set("badge", 5)
    request_started.send(sender=None)  # a request that does not fetch ahead (an anonymous one)
    assert portal_cache.read_through("badge", lambda: 0, 60) == 5
