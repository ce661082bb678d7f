import pytest


@pytest.fixture(autouse=True)
def _english():
    # Figures are looked up by their English labels; pages follow the user's language as usual.
    from django.utils import translation

    with translation.override("en"):
        yield
