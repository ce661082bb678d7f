"""Service-order numbers come from the one per-day counter of the foundation (core.DailyCounter,
series "SO"): the day's last numbers move there, then the tickets' own counter table goes."""

from django.db import migrations


def to_daily_counter(apps, schema_editor):
    ServiceOrderCounter = apps.get_model("repairs", "ServiceOrderCounter")
    DailyCounter = apps.get_model("core", "DailyCounter")
    DailyCounter.objects.bulk_create(
        [DailyCounter(series="SO", day=c.day, last_number=c.last_number) for c in ServiceOrderCounter.objects.all()]
    )


def from_daily_counter(apps, schema_editor):
    ServiceOrderCounter = apps.get_model("repairs", "ServiceOrderCounter")
    DailyCounter = apps.get_model("core", "DailyCounter")
    ServiceOrderCounter.objects.bulk_create(
        [ServiceOrderCounter(day=c.day, last_number=c.last_number) for c in DailyCounter.objects.filter(series="SO")]
    )
    DailyCounter.objects.filter(series="SO").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_daily_counter"),
        ("repairs", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(to_daily_counter, from_daily_counter),
        migrations.DeleteModel(name="ServiceOrderCounter"),
    ]
