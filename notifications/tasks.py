"""Thin Celery tasks: they take ids and call the delivery functions."""

from celery import shared_task, signals

from notifications import delivery, services, worker


@signals.worker_init.connect
def _name_the_worker(sender=None, **kwargs):
    worker.start(sender.hostname)


@signals.worker_ready.connect
def _start_the_heartbeat(sender=None, **kwargs):
    worker.start_beating()


@signals.worker_shutdown.connect
def _stop_the_heartbeat(sender=None, **kwargs):
    worker.stop()


@shared_task(name="notifications.deliver", bind=True, acks_late=True, reject_on_worker_lost=True, time_limit=60,
             soft_time_limit=45)
def deliver_notification(self, notification_id):
    return delivery.deliver(notification_id, task_id=self.request.id or "")


@shared_task(name="notifications.deliver_many", bind=True, acks_late=True, reject_on_worker_lost=True,
             time_limit=90, soft_time_limit=75)
def deliver_notifications(self, notification_ids):
    """One event's rows, or a requeued batch (each row is still claimed and sent on its own)."""
    outcomes = delivery.deliver_many(notification_ids, task_id=self.request.id or "")
    return {str(k): v for k, v in outcomes.items()}


@shared_task(name="notifications.requeue_stale", time_limit=120, soft_time_limit=100)
def requeue_stale():
    return services.requeue_stale()
