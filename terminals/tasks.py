"""Thin Celery tasks of the terminals: they take ids and call the services."""

from celery import shared_task

from terminals import imports, periodic, telemetry


# An inventory of 100,000 rows takes well under a minute; the global 120 s limit is for deliveries.
@shared_task(name="terminals.process_import", acks_late=True, time_limit=1800, soft_time_limit=1700)
def process_import(job_id):
    """Import the rows of one uploaded inventory file (see terminals.imports)."""
    imports.run_import_job(job_id)


@shared_task(name="terminals.maintenance_reminders", time_limit=600, soft_time_limit=540)
def maintenance_reminders():
    """The daily cleaning and paper-roll reminders (terminals.periodic)."""
    return periodic.maintenance_reminders()


@shared_task(name="terminals.telemetry_retention", time_limit=3600, soft_time_limit=3500)
def telemetry_retention():
    """The nightly health-report retention: daily summaries, then old raw rows go (terminals.telemetry)."""
    return telemetry.retention()
