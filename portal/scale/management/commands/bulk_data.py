from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.scale.bulk import BULK_PASSWORD, FULL, load


class Command(BaseCommand):
    help = (
        "Load a bank's worth of synthetic data into a fresh PostgreSQL database for benchmarks and "
        "load tests: 2,000 merchants, 20,000 terminals, 200,000 fault tickets with their stage "
        "histories (~1.45 million events), 20,000 applications, deposits and notifications "
        f"(--scale 0.005 for the same shape at 1,000 tickets). Every bulk user's password is {BULK_PASSWORD}; "
        "refused unless DEMO_DATA_ALLOWED is on, i.e. never in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (default 1)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed: the same seed, the same data")

    def handle(self, *args, scale, seed, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Bulk data is for benchmarks only (set DEMO_DATA_ALLOWED=1 to allow).")
        if not 0 < scale <= 5:
            raise CommandError("--scale must be between 0 and 5.")
        counts = load(scale=scale, seed=seed, log=lambda msg: self.stdout.write(msg))
        for table, rows in sorted(counts.items()):
            self.stdout.write(f"  {table:40} {rows:>10,}")
        self.stdout.write(self.style.SUCCESS(
            f"Bulk data loaded at scale {scale} (full size: {FULL['tickets']:,} tickets)."
        ))
