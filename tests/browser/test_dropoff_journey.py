"""Browser journey: the merchant books a drop-off slot on the ticket page; the branch engineer
sees it in today's bookings at the top of the repair queue."""

from datetime import datetime, time
from types import SimpleNamespace

import pytest
from django.utils import timezone

from repairs import dropoff
from repairs.models import DropoffCapacity, FaultTicket
from tests.factories import PASSWORD, BranchFactory, EngineerFactory, MerchantUserFactory, UserFactory
from tests.repairs.factories import make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def waiting(monkeypatch):
    # The journey books a slot of today: make today a working day whatever day the suite runs on
    # (the calendar's holidays are tested in tests/repairs/test_dropoff.py).
    monkeypatch.setattr(dropoff, "is_workday", lambda day: True)
    # ... and let the drop-off service's clock stand at 00:05 today (Shanghai), so today has free
    # slots left at any hour the suite runs (the live server runs in this process).
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time(0, 5)))
    clock = SimpleNamespace(**{name: getattr(timezone, name) for name in ("get_current_timezone", "make_aware", "is_naive")})
    clock.now = lambda: midnight
    clock.localtime = lambda value=None, tz=None: timezone.localtime(value or midnight, tz)
    clock.localdate = lambda value=None, tz=None: timezone.localdate(value or midnight, tz)
    monkeypatch.setattr(dropoff, "timezone", clock)
    branch = BranchFactory(code="BR001", name="浦东支行")
    DropoffCapacity.objects.create(branch=branch, opens_at="00:00", closes_at="23:30", seats=2)
    people = {
        "merchant": MerchantUserFactory(username="shopkeeper"),
        "agent": UserFactory(username="callcentre"),
        "engineer": EngineerFactory(username="fixer", branch=branch),
    }
    return make_ticket(people, FaultTicket.Status.AWAITING_BRANCH)


def test_it_books_a_drop_off_that_the_engineer_sees_in_todays_bookings(page, login, waiting):
    login("shopkeeper", PASSWORD)
    page.goto(waiting.get_absolute_url())
    panel = page.get_by_test_id("dropoff-panel")
    today = timezone.localdate()
    first_today = panel.locator("select[name=starts_at] option").nth(1)
    value = first_today.get_attribute("value")
    assert value.startswith(today.isoformat()), "the first free slot is today's"
    label = first_today.inner_text()
    panel.locator("select[name=starts_at]").select_option(value)
    panel.get_by_test_id("dropoff-submit").click()
    page.wait_for_load_state("domcontentloaded")
    booked = page.get_by_test_id("dropoff-booked").inner_text()
    assert label[:5] in booked and "浦东支行" in booked

    page.context.clear_cookies()
    login("fixer", PASSWORD)
    page.goto("/tickets/")
    rows = page.get_by_test_id("todays-dropoffs").get_by_test_id("dropoff-row")
    assert rows.count() == 1
    assert waiting.service_order_no in rows.first.inner_text()
    assert rows.first.inner_text().startswith(label[:5])
