"""Thin Celery tasks of the applications (settings.CELERY_BEAT_SCHEDULE names them)."""

from celery import shared_task

from applications import periodic


@shared_task(name="applications.deposit_reminders", time_limit=600, soft_time_limit=540)
def deposit_reminders():
    """Deposit-refund eligibility reminders and deadline warnings (applications.periodic)."""
    return periodic.deposit_reminders()
