"""Demo terminals (DESIGN.md, "Demo data"): each demo merchant has active terminals with some care
history, and each channel has terminals in stock. Idempotent: keyed on serial numbers; a terminal
that exists is left as it is (its demo life may have moved on)."""

from datetime import timedelta

from django.utils import timezone

from terminals import services
from terminals.models import HealthReport, MaintenanceRecord, TelemetrySource, Terminal

MODELS = {
    "A920": ("PAX A920", "PAX"),
    "SP630": ("Newland SP630", "Newland"),
    "MOVE5000F": ("Ingenico Move/5000F", "Ingenico"),
}

# serial, tag, model, channel, merchant (username), home branch, TID, MID
ACTIVE = [
    ("0820A9200101", "BANK-2026-000101", "A920", "BANK", "merchant", "BR001", "31010101", "898310058120101"),
    ("N7SP63000102", "BANK-2026-000102", "SP630", "BANK", "merchant", "BR001", "31010102", "898310058120101"),
    ("IGM5F0000103", "YX-2026-000103", "MOVE5000F", "YINXIN", "merchant", "BR002", "YX010103", "898310058120103"),
    ("0820A9200201", "YX-2026-000201", "A920", "YINXIN", "merchant2", "BR003", "YX020201", "898330158120201"),
    ("IGM5F0000202", "BANK-2026-000202", "MOVE5000F", "BANK", "merchant2", "BR003", "33020202", "898330158120202"),
]
STOCK_PER_CHANNEL = 6


def _stock_specs():
    kinds = list(MODELS)
    for channel, prefix in (("BANK", "BANK"), ("YINXIN", "YX")):
        for n in range(1, STOCK_PER_CHANNEL + 1):
            kind = kinds[n % len(kinds)]
            yield f"{kind[:4]}{prefix}S{n:04d}", f"{prefix}-2026-S{n:04d}", kind, channel


def seed(ctx):
    staff = ctx.users["reviewer"]
    for serial, tag, kind, channel in _stock_specs():
        terminal = Terminal.objects.filter(serial_number=serial).first()
        if terminal is None:
            model, maker = MODELS[kind]
            terminal = services.register_terminal(
                serial_number=serial, tag_number=tag, model=model, manufacturer=maker,
                channel=ctx.channels[channel], actor=staff, note="演示库存",
            )
        ctx.terminals[serial] = terminal

    now = timezone.now()
    for serial, tag, kind, channel, username, branch, tid, mid in ACTIVE:
        terminal = Terminal.objects.filter(serial_number=serial).first()
        if terminal is None:
            model, maker = MODELS[kind]
            terminal = services.register_terminal(
                serial_number=serial, tag_number=tag, model=model, manufacturer=maker,
                channel=ctx.channels[channel], home_branch=ctx.branches[branch], actor=staff,
            )
            services.issue_to_merchant(terminal=terminal, merchant=ctx.merchants[username], actor=staff)
            services.activate(terminal=terminal, actor=staff, tid=tid, mid=mid, note="已完成操作员培训")
        ctx.terminals[serial] = terminal
        if not terminal.maintenance.exists():
            owner = ctx.users[username]
            MaintenanceRecord.objects.bulk_create(
                [
                    MaintenanceRecord(terminal=terminal, kind="inspection", done_by=staff,
                                      done_at=now - timedelta(days=20), note="上门巡检，外观与打印正常"),
                    MaintenanceRecord(terminal=terminal, kind="paper_roll", done_by=owner,
                                      done_at=now - timedelta(days=6)),
                    MaintenanceRecord(terminal=terminal, kind="cleaning", done_by=owner,
                                      done_at=now - timedelta(days=1, hours=2)),
                ]
            )

    _seed_health(now, [ctx.terminals[spec[0]] for spec in ACTIVE])


def _seed_health(now, terminals):
    """Two days of health reports every 15 minutes from a demo terminal-management system: the
    first terminal has been out of paper for three hours and was offline for two hours last night;
    the fourth's card reader has failed its self-test four times in the last hour (a serious code
    repeated: the agents' "likely faulty" queue lists it)."""
    source, _created = TelemetrySource.objects.get_or_create(key="demo-tms", defaults={"name": "演示终端管理系统"})
    now = now.replace(second=0, microsecond=0)
    for number, terminal in enumerate(terminals):
        if HealthReport.objects.filter(terminal=terminal).exists():
            continue
        rows = []
        for n in range(2 * 24 * 4):
            paper = number == 0 and n < 12
            reader = number == 3 and n < 4
            errors = [{"code": "PAPER_OUT", "text": "Printer out of paper"}] if paper else []
            if reader:
                errors = [{"code": "CARD_READER", "text": "Card reader self-test failed"}]
            rows.append(HealthReport(
                source=source, terminal=terminal, reported_at=now - timedelta(minutes=15 * n),
                online=not (number == 0 and 60 <= n < 68), software_version="PayApp 6.0.1",
                firmware_version="3.3.1" if number % 2 else "3.4.0", signal_strength=60 + (n * 7) % 35,
                network_type="cellular", battery_percent=90, on_mains=True, paper_out=paper,
                printer_status="fault" if paper else "ok", card_reader_status="fault" if reader else "ok",
                error_code=errors[0]["code"] if errors else "", errors=errors,
            ))
        HealthReport.objects.bulk_create(rows)
