"""Human-readable numbers that are unique and never reused: SO20261124-0007, AP20261124-0003."""

from django.utils import timezone

from portal.core.models import DailyCounter


def number_pattern(series, *, anchored=True):
    """The regular expression every number of `series` matches (URLs match it unanchored; the API
    schema states it)."""
    pattern = rf"{series}[0-9]{{8}}-[0-9]{{4,}}"
    return f"^{pattern}$" if anchored else pattern


def next_number(series, day=None):
    """The next number of `series` for `day` (today in Asia/Shanghai by default): the series, the
    date, a dash and a running number of four digits or more.

    Call it inside the transaction that creates the numbered row: the day's counter stays locked
    until commit, so concurrent creators queue up and a number is never handed out twice.
    """
    day = day or timezone.localdate()
    # Create the day's row if it is missing (a concurrent creator's row wins), then lock it.
    DailyCounter.objects.bulk_create([DailyCounter(series=series, day=day)], ignore_conflicts=True)
    counter = DailyCounter.objects.select_for_update().get(series=series, day=day)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{series}{day:%Y%m%d}-{counter.last_number:04d}"
