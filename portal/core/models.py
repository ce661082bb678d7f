"""The foundation's one table: the per-day counters behind the portal's human-readable numbers."""

from django.db import models


class DailyCounter(models.Model):
    """The last number handed out in one series (e.g. "SO", "AP") on one calendar day; its row is
    locked while a number is taken, so numbers are never repeated or reused."""

    series = models.CharField(max_length=8)
    day = models.DateField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "day"], name="one_counter_per_series_and_day")]

    def __str__(self):
        return f"{self.series}{self.day:%Y%m%d}: {self.last_number}"
