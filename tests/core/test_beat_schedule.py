"""Every periodic job is on the beat schedule, by the name its app's task registers."""

from django.conf import settings

from portal.celery import app as celery_app


def test_it_puts_every_periodic_job_on_the_beat_schedule():
    celery_app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "notifications.requeue_stale",
        "repairs.sla_breach_warnings",
        "terminals.maintenance_reminders",
        "applications.deposit_reminders",
        "repairs.auto_close_due_tickets",
        "repairs.loaner_reminders",
    } <= names
    assert names <= set(celery_app.tasks)
    assert settings.CELERY_TASK_ROUTES["notifications.deliver"] == {
        "queue": "deliveries"
    }
