"""Simulator of a terminal-management system: a fleet of terminals reporting their health every few
minutes with realistic faults, sent as signed batches to POST /api/v1/telemetry/ (issue 18).

The tests use `Fleet` at small scale; run as a script it is the ingestion benchmark:

    createdb -h 127.0.0.1 -U postgres portal_telemetry
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_telemetry .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_telemetry \\
        .venv/bin/python bench/telemetry.py --terminals 20000 --batch 10000 --rounds 3

It registers the fleet's terminals (serials `SIM000001`…, skipped when present) and a source
`simulator`, then plays `--rounds` report intervals of the whole fleet, each cut into batches of
`--batch` reports, each posted in-process through Django's test client (the whole view: signature,
parsing, checks, bulk insert), and prints the time of every batch. The reports stay (a month of
them is what the ticket page is measured with); `--clean` deletes the simulator's reports first.
"""

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIRMWARE = ["3.1.0", "3.2.4", "3.3.1", "3.4.0"]  # the last is current
SOFTWARE = ["PayApp 5.8.2", "PayApp 5.9.0", "PayApp 6.0.1"]
NETWORKS = ["cellular"] * 6 + ["wifi"] * 3 + ["ethernet"]
# (code, text, chance per report for a terminal that has this fault)
FAULTS = {
    "PAPER_OUT": "Printer out of paper",
    "NET_DOWN": "No network connection",
    "FW_OUTDATED": "Firmware older than the bank's minimum",
    "PRN_JAM": "Printer paper jam",
    "CARD_READER": "Card reader did not respond",
    "BATTERY_LOW": "Battery below 10 %",
    "TAMPER": "Tamper switch triggered: terminal locked",
}


@dataclass
class Device:
    serial_number: str
    firmware: str
    software: str
    network: str
    fault: str = ""  # its current fault, if any
    silent: bool = False  # switched off or unplugged: sends nothing


class Fleet:
    """`size` terminals with serials prefix000001…; a seeded random fleet where a few percent have a
    fault at any time (paper out most often, a rare tamper) and about 1 % fall silent."""

    def __init__(self, size=20_000, *, prefix="SIM", seed=18, serials=None):
        self.random = random.Random(seed)
        serials = serials or [f"{prefix}{n:06d}" for n in range(1, size + 1)]
        r = self.random
        self.devices = [
            Device(s, r.choices(FIRMWARE, weights=[1, 2, 4, 8])[0], r.choice(SOFTWARE), r.choice(NETWORKS))
            for s in serials
        ]
        for device in self.devices:
            self._roll(device)

    def _roll(self, device):
        r = self.random.random()
        device.silent = r < 0.01
        if device.firmware != FIRMWARE[-1] and r < 0.05:
            device.fault = "FW_OUTDATED"
        elif r < 0.08:
            device.fault = self.random.choices(
                ["PAPER_OUT", "NET_DOWN", "PRN_JAM", "CARD_READER", "BATTERY_LOW", "TAMPER"],
                weights=[40, 20, 10, 10, 15, 1],
            )[0]
        else:
            device.fault = ""

    def report(self, device, at):
        """One health report of `device` at `at` (an aware datetime), as a TMS would send it."""
        r = self.random
        online = device.fault != "NET_DOWN" or r.random() < 0.2
        errors = [{"code": device.fault, "text": FAULTS[device.fault]}] if device.fault and r.random() < 0.8 else []
        return {
            "serial_number": device.serial_number,
            "reported_at": at.isoformat(timespec="seconds"),
            "online": online,
            "software_version": device.software,
            "firmware_version": device.firmware,
            "signal_strength": 0 if not online else r.randint(35, 100),
            "network_type": device.network if online else "none",
            "battery_percent": 5 if device.fault == "BATTERY_LOW" else r.randint(30, 100),
            "on_mains": r.random() < 0.7,
            "paper_out": device.fault == "PAPER_OUT",
            "printer_status": "fault" if device.fault in ("PAPER_OUT", "PRN_JAM") else "ok",
            "card_reader_status": "fault" if device.fault == "CARD_READER" else "ok",
            "errors": errors,
        }

    def play(self, start, *, rounds=1, every_minutes=5):
        """The reports of `rounds` intervals from `start`; faults come and go between intervals."""
        for n in range(rounds):
            at = start + timedelta(minutes=every_minutes * n)
            for device in self.devices:
                if not device.silent:
                    yield self.report(device, at)
                if self.random.random() < 0.002:
                    self._roll(device)


def batches(reports, size):
    """Cut an iterable of reports into lists of at most `size`."""
    batch = []
    for report in reports:
        batch.append(report)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def signed(source_key, secret, reports, timestamp=None):
    """(body bytes, headers) of one batch, signed as terminals.telemetry expects."""
    from terminals.telemetry import sign

    body = json.dumps({"reports": reports}, separators=(",", ":")).encode()
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    return body, {
        "HTTP_X_TELEMETRY_SOURCE": source_key,
        "HTTP_X_TELEMETRY_TIMESTAMP": timestamp,
        "HTTP_X_TELEMETRY_SIGNATURE": sign(secret, timestamp, body),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--terminals", type=int, default=20_000, help="fleet size (default 20,000)")
    parser.add_argument("--batch", type=int, default=10_000, help="reports per signed batch")
    parser.add_argument("--rounds", type=int, default=3, help="report intervals of the whole fleet")
    parser.add_argument("--every", type=int, default=5, help="minutes between a terminal's reports")
    parser.add_argument("--clean", action="store_true", help="delete the simulator's reports first")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from portal.accounts.models import Channel
    from terminals.models import HealthReport, TelemetrySource, Terminal

    channel, _ = Channel.objects.get_or_create(code="SIM", defaults={"name": "Simulator", "kind": Channel.Kind.BANK})
    serials = [f"SIM{n:06d}" for n in range(1, args.terminals + 1)]
    present = set(Terminal.objects.filter(serial_number__in=serials).values_list("serial_number", flat=True))
    Terminal.objects.bulk_create(
        [Terminal(serial_number=s, tag_number=f"SIMTAG{s[3:]}", model="PAX A920", manufacturer="PAX",
                  channel=channel, status=Terminal.Status.ACTIVE) for s in serials if s not in present],
        batch_size=5000,
    )
    source, _ = TelemetrySource.objects.get_or_create(key="simulator", defaults={"name": "Fleet simulator"})
    if args.clean:
        HealthReport.objects.filter(source=source).delete()
    fleet = Fleet(serials=serials)
    client = Client()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=args.every * args.rounds)
    times, total, started = [], 0, time.perf_counter()
    for batch in batches(fleet.play(start, rounds=args.rounds, every_minutes=args.every), args.batch):
        body, headers = signed(source.key, source.secret, batch)
        t0 = time.perf_counter()
        response = client.post(
            "/api/v1/telemetry/", body, content_type="application/json", secure=True, **headers
        )
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.content[:500]
        total += response.json()["accepted"]
        print(f"batch of {len(batch):,} reports ({len(body) / 1e6:.1f} MB): {times[-1] * 1000:.0f} ms, "
              f"{response.json()['accepted']:,} stored")
    elapsed = time.perf_counter() - started
    times.sort()
    print(f"{connection.vendor}: {total:,} reports in {len(times)} batches; per batch median "
          f"{times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms; "
          f"{total / sum(times):,.0f} reports/s in the view, {total / elapsed:,.0f} reports/s with the simulator")


if __name__ == "__main__":
    main()
