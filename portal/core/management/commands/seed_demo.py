import contextlib
import logging
from importlib import import_module
from types import SimpleNamespace

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Max
from django.test.utils import override_settings
from django.utils.module_loading import module_has_submodule


def seeders():
    """Each installed app's `demo.seed`, in INSTALLED_APPS order (the order the apps depend on
    each other): an app offers its demo data by having a demo module."""
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "demo"):
            yield import_module(f"{config.name}.demo").seed


class Command(BaseCommand):
    help = (
        "Load the demo data of DESIGN.md: users merchant, merchant2, agent, engineer, reviewer, "
        "admin (password demo-pass-2026), branches BR001-BR003, channels and their terminals, "
        "tickets and applications in several stages. Idempotent: running it again changes nothing. "
        "Refused unless DEMO_DATA_ALLOWED is on."
    )

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Demo data is for development only (set DEMO_DATA_ALLOWED=1 to allow).")
        ctx = SimpleNamespace(branches={}, channels={}, merchants={}, users={}, terminals={})
        # The outbox, by name: the notifications app sits above portal.core.
        Notification = apps.get_model("notifications", "Notification")
        before = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
        # The demo's own notifications are delivered (eagerly, under `make run`) but not printed one
        # by one: the console e-mail backend would print every message, the SMS backend and Celery a
        # line each. A summary follows instead.
        with _quiet(), override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            with transaction.atomic():
                for seed in seeders():
                    seed(ctx)
        sent = dict(
            Notification.objects.filter(pk__gt=before).values_list("channel").annotate(n=Count("pk")).order_by()
        )
        if sent:
            self.stdout.write(
                "Demo notifications: "
                + ", ".join(f"{n} {channel}" for channel, n in sorted(sent.items()))
                + " (delivered, not printed)."
            )
        self.stdout.write(self.style.SUCCESS("Demo data ready (password for every demo user: demo-pass-2026)."))


@contextlib.contextmanager
def _quiet(names=("celery.app.trace", "notifications.sms", "notifications.delivery")):
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
