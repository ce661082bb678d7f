"""Thin Celery tasks of the fault tickets (settings.CELERY_BEAT_SCHEDULE names them)."""

from celery import shared_task

from repairs import dropoff, loans, periodic, workflow


@shared_task(name="repairs.auto_close_due_tickets", time_limit=600, soft_time_limit=540)
def auto_close_due_tickets():
    """Close tickets left resolved remotely or picked up for TICKET_AUTO_CLOSE_DAYS days."""
    return workflow.auto_close_due_tickets()


@shared_task(name="repairs.sla_breach_warnings", time_limit=600, soft_time_limit=540)
def sla_breach_warnings():
    """Warn whoever has each ticket past its SLA due time (once per ticket)."""
    return periodic.sla_breach_warnings()


@shared_task(name="repairs.loaner_reminders", time_limit=600, soft_time_limit=540)
def loaner_reminders():
    """Remind merchant and branch of each loaner out longer than LOANER_REMINDER_DAYS (once per loan)."""
    return loans.loaner_reminders()
@shared_task(name="repairs.dropoff_reminders", time_limit=600, soft_time_limit=540)
def dropoff_reminders():
    """Remind merchants of booked drop-offs the evening before and an hour before (once each)."""
    return dropoff.reminders_due()
