"""Application numbers come from the one per-day counter of the foundation (core.DailyCounter,
series "AP"): the day's last numbers move there, then the applications' own counter table goes."""

from django.db import migrations


def to_daily_counter(apps, schema_editor):
    ApplicationCounter = apps.get_model("applications", "ApplicationCounter")
    DailyCounter = apps.get_model("core", "DailyCounter")
    DailyCounter.objects.bulk_create(
        [DailyCounter(series="AP", day=c.day, last_number=c.last_number) for c in ApplicationCounter.objects.all()]
    )


def from_daily_counter(apps, schema_editor):
    ApplicationCounter = apps.get_model("applications", "ApplicationCounter")
    DailyCounter = apps.get_model("core", "DailyCounter")
    ApplicationCounter.objects.bulk_create(
        [ApplicationCounter(day=c.day, last_number=c.last_number) for c in DailyCounter.objects.filter(series="AP")]
    )
    DailyCounter.objects.filter(series="AP").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_daily_counter"),
        ("applications", "0003_event_refund_action"),
    ]

    operations = [
        migrations.RunPython(to_daily_counter, from_daily_counter),
        migrations.DeleteModel(name="ApplicationCounter"),
    ]
