"""Thin Celery tasks of the fault-ticket area (the notifications area puts them on the beat schedule)."""

from celery import shared_task


@shared_task(name="repairs.auto_close_due_tickets")
def auto_close_due_tickets():
    """Close tickets left resolved remotely or picked up for AUTO_CLOSE_DAYS days."""
    from repairs import workflow

    return workflow.auto_close_due_tickets()
