"""Benchmark: bulk import of a bank's terminal inventory (issue 3; target < 60 s for 100,000 rows
on PostgreSQL).

Generates a CSV of N rows (80 % stock terminals, 20 % issued to merchants with TID and MID, as a
bank's export would have them), then times the import service (`terminals.imports.run_import_job`,
the body of the Celery task: parse, validate, `bulk_create` in batches, progress updates) and a
second import of the same file (every row "already present", nothing added).

    createdb -h 127.0.0.1 -U postgres portal_terminals
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_terminals .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_terminals \\
        .venv/bin/python bench/import_terminals.py --rows 100000

Without DATABASE_URL it runs on the development SQLite file. The terminals it creates carry a
run prefix and are deleted at the end (--keep leaves them). Uploaded files go to a temporary folder.
"""

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "0")  # DEBUG would keep every SQL statement in memory
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="bench-import-media-"))
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the imported terminals")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.files import File
    from django.db import connection

    from portal.accounts.models import Branch, Channel, Merchant, Role, User
    from portal.accounts.validators import uscc_check_character
    from terminals.imports import run_import_job
    from terminals.models import ImportJob, Terminal, TerminalEvent

    channel, _ = Channel.objects.get_or_create(
        code="BENCH", defaults={"name": "Bench channel", "kind": Channel.Kind.BANK}
    )
    branch, _ = Branch.objects.get_or_create(
        code="BENCH1", defaults={"name": "Bench branch", "city": "上海", "address": "-", "phone": "021-55550000", "hours": "-"}
    )
    merchants = []
    for n in range(50):
        first17 = f"91310000BE{n:07d}"
        m, _ = Merchant.objects.get_or_create(
            credit_code=first17 + uscc_check_character(first17),
            defaults={"name": f"Bench merchant {n}", "contact_name": "-", "contact_phone": "13800000000",
                      "address": "-", "city": "上海"},
        )
        merchants.append(m.credit_code)
    actor, _ = User.objects.get_or_create(username="bench-importer", defaults={"role": Role.REVIEWER})

    prefix = f"B{int(time.time()) % 100000:05d}"
    path = Path(tempfile.mkdtemp(prefix="bench-import-")) / "inventory.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["serial_number", "tag_number", "model", "manufacturer", "channel", "merchant", "home_branch", "tid", "mid"])
        for i in range(args.rows):
            issued = i % 5 == 0
            writer.writerow([
                f"{prefix}SN{i:07d}", f"{prefix}TG{i:07d}", "PAX A920", "PAX", "BENCH",
                merchants[i % len(merchants)] if issued else "", "BENCH1",
                f"T{i:07d}" if issued else "", f"{898310000000000 + i}" if issued else "",
            ])
    print(f"{connection.vendor}: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB CSV")

    def run(label):
        with path.open("rb") as fh:
            job = ImportJob(original_name=path.name, format="csv", size=path.stat().st_size, created_by=actor)
            job.file.save(path.name, File(fh), save=True)
        start = time.perf_counter()
        job = run_import_job(job.pk)
        elapsed = time.perf_counter() - start
        print(
            f"{label}: {elapsed:6.1f} s  ({job.total / elapsed:,.0f} rows/s)  status={job.status} "
            f"created={job.created_count:,} present={job.present_count:,} rejected={job.error_count:,}"
        )
        return job, elapsed

    first, elapsed = run("first import ")
    again, _ = run("same file again")
    ok = first.status == "done" and first.created_count == args.rows and again.created_count == 0
    if not args.keep:
        terminals = Terminal.objects.filter(serial_number__startswith=prefix)
        TerminalEvent.objects.filter(terminal__in=terminals).delete()
        terminals.delete()
        ImportJob.objects.filter(pk__in=[first.pk, again.pk]).delete()
    print("OK" if ok else "UNEXPECTED RESULT", f"— first import of {args.rows:,} rows in {elapsed:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
