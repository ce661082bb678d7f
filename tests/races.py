"""Races: callables started at the same moment, each in its own thread and database connection."""

import threading

from django.db import connection


def run_in_threads(targets):
    """Start every callable at the same moment in its own thread (own DB connection)."""
    barrier = threading.Barrier(len(targets))
    results = [None] * len(targets)

    def run(i, target):
        try:
            barrier.wait(timeout=10)
            results[i] = ("ok", target())
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results
