import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The tracking rate limit lives in the cache; each test starts with a clean slate.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english():
    # Figures are looked up by their English labels; pages follow the user's language as usual.
    from django.utils import translation

    with translation.override("en"):
        yield
