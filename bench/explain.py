"""Where the time of each benchmarked page goes, in-process: Python vs SQL per request, the
slowest queries with EXPLAIN ANALYZE, and (with --cprofile) the hottest functions.

    .venv/bin/python bench/explain.py                     # every page, portal_bench
    .venv/bin/python bench/explain.py --only ticket_timeline --cprofile

Uses the targets (people, sessions, paths) that bench/run.sh picked (bench/out/targets_<db>.json).
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="portal_bench")
    parser.add_argument("--only", default="")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--dump", metavar="FILE", help="with --cprofile: also write the profile to FILE (pstats)")
    parser.add_argument("--explain", type=int, default=3, help="EXPLAIN ANALYZE the N slowest queries")
    args = parser.parse_args()

    import run

    os.environ.update(run.env_for(args.db))
    targets_file = ROOT / "bench" / "out" / f"targets_{args.db}.json"
    if not targets_file.exists():
        raise SystemExit(f"run bench/run.sh first (no {targets_file})")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    only = set(filter(None, args.only.split(",")))
    for t in json.loads(targets_file.read_text())["targets"]:
        if (only and t["name"] not in only) or t.get("method") == "POST":
            continue
        client = Client()
        extra = {}
        for header in t.get("headers", []):
            name, value = header.split(": ", 1)
            if name == "Cookie":
                key, _, val = value.partition("=")
                client.cookies[key] = val
            else:
                extra["HTTP_" + name.upper().replace("-", "_")] = value
        for _ in range(3):
            client.get(t["path"], **extra)
        started = time.perf_counter()
        sql = 0.0
        slow = {}
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as ctx:
                client.get(t["path"], **extra)
            for q in ctx.captured_queries:
                sql += float(q["time"])
                slow.setdefault(q["sql"], []).append(float(q["time"]))
        total = (time.perf_counter() - started) / args.repeat * 1000
        sql_ms = sql / args.repeat * 1000
        print(f"\n== {t['name']} {t['path']}: {total:.1f} ms/request, SQL {sql_ms:.1f} ms, "
              f"Python {total - sql_ms:.1f} ms, {len(ctx.captured_queries)} queries")
        slow = {text: statistics.median(times) for text, times in slow.items()}  # a typical run of each
        for text, seconds in sorted(slow.items(), key=lambda x: -x[1])[: args.explain]:
            print(f"  {seconds * 1000:.1f} ms  {text[:300]}")
            if seconds > 0.002:
                with connection.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + text)
                    lines = [line for (line,) in cur.fetchall()]
                    for line in lines[:14] + [x for x in lines[14:] if x.startswith(("Planning", "Execution"))]:
                        print("      " + line)
        if args.cprofile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.repeat):
                client.get(t["path"], **extra)
            profile.disable()
            stats = pstats.Stats(profile)
            if args.dump:
                stats.dump_stats(args.dump)
            stats.sort_stats("tottime").print_stats(18)
            stats.sort_stats("cumulative").print_stats(r"/work/main/(?!\.venv)", 25)
    del settings


if __name__ == "__main__":
    main()
