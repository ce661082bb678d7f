#!/usr/bin/env bash
# The benchmark, one command: bench/run.sh [--scale 1] [--duration 15] [--reload] [--only a,b]
# Loads portal_bench (200,000 tickets) and portal_bench_small (1,000) on the local PostgreSQL once,
# serves with gunicorn and measures with wrk; writes bench/results.md. See bench/run.py --help.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s messages  # the packages and the compiled catalogue: pages in both languages, as served
exec .venv/bin/python bench/run.py "$@"
