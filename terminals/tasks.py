"""Thin Celery tasks: they take ids and call the services."""

from celery import shared_task

from terminals import services


# An inventory of 100,000 rows takes well under a minute; the global 120 s limit is for deliveries.
@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def process_import(job_id):
    """Import the rows of one uploaded inventory file (see terminals.imports)."""
    services.run_import(job_id=job_id)
