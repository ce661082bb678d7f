"""SLA due times in business hours, on the Chinese working-day calendar.

Public holidays and their make-up working days (调休) come from `chinese-calendar`; for a year it
does not cover yet, Monday to Friday are working days. Priorities and the working day are
configurable through the REPAIR_SLA_* settings.
"""

from datetime import datetime, time, timedelta

import chinese_calendar
from django.conf import settings
from django.utils import timezone


def _time(value):
    if isinstance(value, time):
        return value
    hours, minutes = str(value).split(":")
    return time(int(hours), int(minutes))


def is_workday(day):
    """A working day in mainland China (holidays off, make-up Saturdays/Sundays on)."""
    try:
        return chinese_calendar.is_workday(day)
    except (NotImplementedError, ValueError):
        return day.weekday() < 5


def add_business_hours(start, hours, *, day_start=None, day_end=None):
    """The aware moment `hours` working hours after `start` (local time, working days only)."""
    day_start = _time(day_start or settings.REPAIR_SLA_DAY_START)
    day_end = _time(day_end or settings.REPAIR_SLA_DAY_END)
    tz = timezone.get_current_timezone()
    local = timezone.localtime(start, tz) if timezone.is_aware(start) else timezone.make_aware(start, tz)
    remaining = timedelta(hours=hours)
    day = local.date()
    cursor = local.time()
    # 400 days is far beyond any sane SLA and keeps a bad setting from looping forever.
    for _ in range(400):
        if is_workday(day):
            opens = datetime.combine(day, day_start)
            closes = datetime.combine(day, day_end)
            begin = max(opens, datetime.combine(day, cursor))
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return timezone.make_aware(begin + remaining, tz)
                remaining -= available
        day += timedelta(days=1)
        cursor = time(0)
    raise ValueError("SLA too long")


def due_at(priority, start=None):
    """When a ticket of this priority reported at `start` is due."""
    hours = settings.REPAIR_SLA_HOURS[priority]
    return add_business_hours(start or timezone.now(), hours)
