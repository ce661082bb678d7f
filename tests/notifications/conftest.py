import pytest

from portal.notifications import sms


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    """Every test sees an empty in-memory SMS outbox."""
    settings.SMS_BACKEND = "portal.notifications.sms.LocmemBackend"
    sms.LocmemBackend.outbox = []
    yield sms.LocmemBackend.outbox


@pytest.fixture
def sms_outbox(_sms_outbox):
    return _sms_outbox
