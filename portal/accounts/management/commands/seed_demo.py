from types import SimpleNamespace

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# Each app that has demo data adds its seeder here, in dependency order.
SEEDERS = [
    "portal.accounts.demo",
    "terminals.demo",
    "repairs.demo",
    "applications.demo",
    "portal.insights.demo",
]


class Command(BaseCommand):
    help = (
        "Load the demo data of DESIGN.md: users merchant, merchant2, agent, engineer, reviewer, "
        "admin (password demo-pass-2026), branches BR001-BR003, channels and their terminals. "
        "Idempotent: running it again changes nothing. Refused unless DEMO_DATA_ALLOWED is on."
    )

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Demo data is for development only (set DEMO_DATA_ALLOWED=1 to allow).")
        from importlib import import_module

        ctx = SimpleNamespace(branches={}, channels={}, merchants={}, users={}, terminals={})
        with transaction.atomic():
            for path in SEEDERS:
                import_module(path).seed(ctx)
        self.stdout.write(self.style.SUCCESS("Demo data ready (password for every demo user: demo-pass-2026)."))
