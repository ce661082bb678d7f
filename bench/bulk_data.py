"""Load a bank's worth of synthetic data into a fresh PostgreSQL database (benchmarks, load tests).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/bulk_data.py [--scale 1]

2,000 merchants, 20,000 terminals, 200,000 fault tickets with their stage histories (~1.45 million
events), 20,000 applications, deposits and notifications (--scale 0.005: the same shape at 1,000
tickets). Every bulk user's password is bulk-pass-2026. Refused unless DEMO_DATA_ALLOWED is on,
i.e. never in production. The loader itself is bench/bulk.py.
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (default 1)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed: the same seed, the same data")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from bench.bulk import BulkDataError, run

    try:
        run(scale=args.scale, seed=args.seed, log=print)
    except BulkDataError as exc:
        raise SystemExit(f"bulk_data: {exc}") from None


if __name__ == "__main__":
    main()
