"""SLA due times in business hours on the Chinese working-day calendar."""

from datetime import date, datetime

import pytest
from django.utils import timezone

from repairs import sla


def at(*args):
    return timezone.make_aware(datetime(*args))


def local(dt):
    return timezone.localtime(dt).replace(tzinfo=None)


def test_it_counts_within_one_working_day():
    assert local(sla.add_business_hours(at(2026, 11, 24, 10, 0), 4)) == datetime(2026, 11, 24, 14, 0)


def test_it_carries_over_to_the_next_working_day():
    # Tuesday 16:00 + 4 h: 2 h today (to 18:00), 2 h from Wednesday 09:00.
    assert local(sla.add_business_hours(at(2026, 11, 24, 16, 0), 4)) == datetime(2026, 11, 25, 11, 0)


def test_it_starts_at_opening_when_reported_at_night():
    assert local(sla.add_business_hours(at(2026, 11, 24, 22, 30), 1)) == datetime(2026, 11, 25, 10, 0)


def test_it_skips_the_weekend():
    # Friday 17:00 + 2 h → Monday 10:00.
    assert local(sla.add_business_hours(at(2026, 11, 27, 17, 0), 2)) == datetime(2026, 11, 30, 10, 0)


def test_it_skips_the_national_day_holiday():
    # Wednesday 30 Sep 2026, 17:00 + 4 h: 1 h that day, then Golden Week (1-7 Oct) is off;
    # work resumes Thursday 8 Oct.
    assert local(sla.add_business_hours(at(2026, 9, 30, 17, 0), 4)) == datetime(2026, 10, 8, 12, 0)


def test_it_works_on_make_up_days():
    # Saturday 10 Oct 2026 is a make-up working day (调休) after National Day.
    assert sla.is_workday(date(2026, 10, 10))
    assert local(sla.add_business_hours(at(2026, 10, 9, 17, 0), 2)) == datetime(2026, 10, 10, 10, 0)


def test_it_falls_back_to_weekdays_for_years_the_calendar_does_not_cover():
    assert sla.is_workday(date(2099, 1, 5))  # a Monday
    assert not sla.is_workday(date(2099, 1, 3))  # a Saturday


@pytest.mark.parametrize(("priority", "expected"), [("urgent", datetime(2026, 11, 24, 13, 0)),
                                                    ("high", datetime(2026, 11, 24, 17, 0)),
                                                    ("normal", datetime(2026, 11, 25, 16, 0))])
def test_it_takes_the_hours_per_priority_from_settings(priority, expected):
    assert local(sla.due_at(priority, at(2026, 11, 24, 9, 0))) == expected


def test_it_reads_overrides_from_settings(settings):
    settings.REPAIR_SLA_HOURS = {**settings.REPAIR_SLA_HOURS, "urgent": 1}
    settings.REPAIR_SLA_DAY_START, settings.REPAIR_SLA_DAY_END = "08:00", "20:00"
    assert local(sla.due_at("urgent", at(2026, 11, 24, 19, 30))) == datetime(2026, 11, 25, 8, 30)
