"""Django's Redis cache, keeping one redis client per connection pool; and the one way a cached
copy of rows is kept and forgotten (`keep`, `forget`), read (`read_through`, with what a request
fetched ahead: `get_with`) and counted (`count`).

Django's client builds a new `redis.Redis` for every cache operation, and each one sets up its
table of ~200 response callbacks: ~0.3 ms a call, paid several times on every page (session,
fragments). A `redis.Redis` is safe to share: it takes a connection from the pool per command.
"""

import contextvars
import functools
import hashlib

from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import transaction


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def count(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        """See `count` below: the counter made (SET NX, with its lifetime) and counted (INCR) in one
        pipeline, one round trip; Django's add() then incr() is three (incr asks EXISTS first)."""
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=False)
        pipeline.set(key, 0, ex=timeout, nx=True)  # Django's serializer stores an int as itself
        pipeline.incr(key)
        return pipeline.execute()[1]


@functools.cache
def shape_of(*models):
    """A digest of these models' columns, for the keys of their cached rows: a release that changes
    the columns reads none of the previous one's entries."""
    names = ",".join(f"{m._meta.label}.{f.attname}" for m in models for f in m._meta.concrete_fields)
    return hashlib.blake2s(names.encode(), digest_size=4).hexdigest()


def keep(entries, seconds):
    """Cache what a request read ({key: value}), unless it read it inside a transaction: its rows
    may yet be rolled back."""
    if entries and not transaction.get_connection().in_atomic_block:
        cache.set_many(entries, seconds)


# What `get_with` fetched ahead for this request ({key: value or None}), taken once by `read_through`.
# Emptied when a request starts and ends (see `connect`), so nothing outlives its request.
_ahead = contextvars.ContextVar("portal_cache_ahead", default=None)


def get_with(key, companions):
    """`cache.get(key)`, with the `companions` keys fetched in the same round trip: a later
    `read_through` of one of them in this request takes what was fetched (a missing one is then
    read and kept as usual), and `forget` drops it, so that a request that changes it reads it anew."""
    found = cache.get_many([key, *companions])
    _ahead.set({k: found.get(k) for k in companions} if companions else None)
    return found.get(key)


def _forget_ahead(**kwargs):
    _ahead.set(None)


def connect():
    from django.core.signals import request_finished, request_started

    request_started.connect(_forget_ahead, dispatch_uid="portal-cache-ahead-started")
    request_finished.connect(_forget_ahead, dispatch_uid="portal-cache-ahead-finished")


def read_through(key, read, seconds):
    """The cached value of `key`, else `read()`, kept (see `keep`) for the next request."""
    ahead = _ahead.get()
    if ahead is not None and key in ahead:
        value = ahead.pop(key)
    else:
        value = cache.get(key)
    if value is None:
        value = read()
        keep({key: value}, seconds)
    return value


def count(key, seconds):
    """Add one to the counter `key` and return its new value; a new counter starts at 1 and lives
    `seconds` (None: for ever). One round trip on Redis; other caches (tests without Redis, `make
    run`) add the counter, then increment it."""
    counter = getattr(cache, "count", None)
    if counter is not None:
        return counter(key, seconds)
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        return 1


def forget(keys, *, on_commit=True):
    """Drop cached copies of rows being written: now, and (unless the caller does it in its own
    callback) again when the transaction commits, so that a request that read the old rows in the
    meantime cannot keep them."""
    keys = list(keys)
    if not keys:
        return
    ahead = _ahead.get()
    if ahead:
        for key in keys:
            ahead.pop(key, None)
    cache.delete_many(keys)
    if on_commit:
        transaction.on_commit(lambda: cache.delete_many(keys))
