from importlib import import_module
from types import SimpleNamespace

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
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
        with transaction.atomic():
            for seed in seeders():
                seed(ctx)
        self.stdout.write(self.style.SUCCESS("Demo data ready (password for every demo user: demo-pass-2026)."))
