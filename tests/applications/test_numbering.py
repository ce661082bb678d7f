"""Application numbers: one counter row per day, locked while numbering, so never a duplicate."""

import threading

import pytest
from django.db import connection

from applications import workflow
from applications.models import Application
from portal.core.models import DailyCounter
from portal.core.numbering import next_number
from tests.conftest import requires_postgres
from tests.factories import ChannelFactory, MerchantUserFactory


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_never_gives_two_applications_the_same_number_under_concurrency():
    channel = ChannelFactory(code="BANK")
    users = [MerchantUserFactory() for _ in range(8)]
    barrier = threading.Barrier(len(users))
    errors = []

    def apply(user):
        try:
            barrier.wait(timeout=10)
            workflow.create_application(actor=user, kind="new", channel=channel, fee_plan="purchase")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    numbers = sorted(Application.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == len(users)
    assert [int(n[-4:]) for n in numbers] == list(range(1, len(users) + 1))
    assert DailyCounter.objects.get(series="AP").last_number == len(users)


@pytest.mark.django_db
def test_it_starts_each_day_at_one():
    from datetime import date

    assert next_number("AP", date(2026, 11, 24)) == "AP20261124-0001"
    assert next_number("AP", date(2026, 11, 24)) == "AP20261124-0002"
    assert next_number("AP", date(2026, 11, 25)) == "AP20261125-0001"
    # Each series counts on its own: tickets' SO numbers do not move applications' AP numbers.
    assert next_number("SO", date(2026, 11, 24)) == "SO20261124-0001"
    assert next_number("AP", date(2026, 11, 24)) == "AP20261124-0003"
