import pytest

from tests.factories import ActiveTerminalFactory
from tests.repairs.factories import make_ticket


@pytest.fixture
def people(merchant_user, agent, engineer):
    return {"merchant": merchant_user, "agent": agent, "engineer": engineer, "system": None}


@pytest.fixture
def terminal(merchant):
    return ActiveTerminalFactory(merchant=merchant)


@pytest.fixture
def ticket_at(people):
    def _make(status="reported", **kwargs):
        return make_ticket(people, status, **kwargs)

    return _make
