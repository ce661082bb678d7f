"""The Celery app: broker from REDIS_URL, configuration from Django settings (CELERY_*).

The request id (django-guid, X-Request-ID) goes with every task published while a request or a
task runs, and a worker takes it up for the task's log lines and the messages it sends; a task
run eagerly (no broker: `make run`, tests) already runs inside its request and keeps its id. The
worker logs through Django's LOGGING (the same formats, LOG_FORMAT=json included).
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_HEADER = "request_id"


@signals.setup_logging.connect
def _django_logging(**kwargs):
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@signals.before_task_publish.connect
def _send_request_id(headers=None, **kwargs):
    from django_guid import get_guid

    request_id = get_guid()
    if request_id and headers is not None:
        headers[REQUEST_ID_HEADER] = request_id


@signals.task_prerun.connect
def _take_request_id(task=None, **kwargs):
    from django_guid import set_guid
    from django_guid.utils import generate_guid

    if task.request.is_eager:
        return
    set_guid(task.request.get(REQUEST_ID_HEADER) or generate_guid())


@signals.task_postrun.connect
def _drop_request_id(task=None, **kwargs):
    from django_guid import clear_guid

    if not task.request.is_eager:
        clear_guid()
