import pytest
from django.utils import translation

from tests.factories import ActiveTerminalFactory, AdminFactory, ReviewerFactory, TerminalFactory


@pytest.fixture
def terminal(merchant):
    """An active terminal of `merchant` (the persona of merchant_client)."""
    return ActiveTerminalFactory(merchant=merchant, serial_number="PAXA920000001", tag_number="BANK-T-0001")


@pytest.fixture
def stock_terminal(channel):
    return TerminalFactory(channel=channel, serial_number="STOCK0000001", tag_number="BANK-S-0001")


@pytest.fixture
def manager(db):
    """Staff who manage the inventory (a reviewer)."""
    return ReviewerFactory(username="rosa")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def superuser(db):
    return AdminFactory(username="boss")


@pytest.fixture(autouse=True)
def _english():
    """Messages made outside a request (services, imports) in English, like the personas' pages."""
    with translation.override("en"):
        yield
