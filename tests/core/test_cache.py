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
