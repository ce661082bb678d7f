"""Health telemetry: signed batches from the terminal-management systems, and their retention.

A batch is `{"reports": [...]}` sent with three headers: X-Telemetry-Source (the source's key),
X-Telemetry-Timestamp (Unix seconds) and X-Telemetry-Signature (`sha256=` and the hex HMAC-SHA256,
keyed with the source's secret, of the timestamp, a dot and the raw body). See docs/telemetry.md.
"""

import csv
import hashlib
import hmac
import io
import json
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from terminals.models import HealthDailySummary, HealthReport, TelemetrySignature, TelemetrySource, Terminal


class TelemetryRefused(Exception):
    """A batch refused as a whole: `detail` for the sender, `code`, and the HTTP status."""

    def __init__(self, detail, code, status=400, fields=None):
        super().__init__(detail)
        self.detail, self.code, self.status, self.fields = detail, code, status, fields or {}

    def body(self):
        return {"detail": str(self.detail), "code": self.code, **self.fields}


def sign(secret, timestamp, body):
    """The signature a source sends for `body` (bytes) at `timestamp` (Unix seconds)."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def authenticate(*, source_key, timestamp, signature, body, now=None):
    """The active source whose secret signed this body within the window, or TelemetryRefused."""
    if not (source_key and timestamp and signature):
        raise TelemetryRefused(
            _("Send the X-Telemetry-Source, X-Telemetry-Timestamp and X-Telemetry-Signature headers."),
            "not_signed", 401,
        )
    source = TelemetrySource.objects.filter(key=source_key, is_active=True).first()
    # An unknown source and a bad signature get the same answer: neither says which keys exist.
    if source is None or not hmac.compare_digest(sign(source.secret, timestamp, body), signature):
        raise TelemetryRefused(_("The signature does not match."), "bad_signature", 401)
    try:
        sent = int(timestamp)
    except ValueError:
        raise TelemetryRefused(_("The timestamp is not a number of seconds."), "bad_timestamp") from None
    now = time.time() if now is None else now
    if abs(now - sent) > settings.TELEMETRY_WINDOW_SECONDS:
        raise TelemetryRefused(
            _("The timestamp is more than %(n)s seconds from our clock.") % {"n": settings.TELEMETRY_WINDOW_SECONDS},
            "stale_timestamp",
        )
    return source


def _remember_signature(source, signature):
    digest = signature.removeprefix("sha256=")[:64]
    try:
        with transaction.atomic():
            TelemetrySignature.objects.create(source=source, signature=digest)
    except IntegrityError:
        raise TelemetryRefused(_("This batch was already received (a replay)."), "replay", 409) from None


_NETWORKS = set(HealthReport.Network.values)
_PARTS = set(HealthReport.Part.values)
_TEXT = 40


def _text(report, name, errors, max_length=_TEXT):
    value = report.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        errors.append(_("%(field)s: a text of at most %(n)s characters.") % {"field": name, "n": max_length})
        return ""
    return value


def _percent(report, name, errors):
    value = report.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        errors.append(_("%(field)s: a whole number from 0 to 100.") % {"field": name})
        return None
    return value


def _flag(report, name, errors, default=None):
    value = report.get(name, default)
    if value is not None and not isinstance(value, bool):
        errors.append(_("%(field)s: true or false.") % {"field": name})
        return default
    return value


def _choice(report, name, allowed, errors, default):
    value = report.get(name, default) or default
    if value not in allowed:
        errors.append(_("%(field)s: one of %(values)s.") % {"field": name, "values": ", ".join(sorted(allowed))})
        return default
    return value


def parse_batch(body):
    """The batch's reports, each checked and normalised; TelemetryRefused with every report's
    errors (by its position) if any is wrong, so that a batch is stored whole or not at all."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise TelemetryRefused(_("The body is not JSON."), "parse_error") from None
    reports = data.get("reports") if isinstance(data, dict) else None
    if not isinstance(reports, list) or not reports:
        raise TelemetryRefused(
            _("Please correct the fields marked below."), "invalid",
            fields={"reports": [_("A non-empty list of health reports.")]},
        )
    if len(reports) > settings.TELEMETRY_MAX_REPORTS:
        raise TelemetryRefused(
            _("Please correct the fields marked below."), "invalid",
            fields={"reports": [_("At most %(n)s reports in one batch.") % {"n": settings.TELEMETRY_MAX_REPORTS}]},
        )
    parsed, problems = [], []
    earliest = timezone.now() - timedelta(days=settings.TELEMETRY_RAW_DAYS)
    latest = timezone.now() + timedelta(seconds=settings.TELEMETRY_WINDOW_SECONDS)
    for index, report in enumerate(reports):
        errors = []
        if not isinstance(report, dict):
            problems.append(f"{index}: " + _("a health report is an object."))
            continue
        serial = report.get("serial_number")
        if not isinstance(serial, str) or not serial or len(serial) > _TEXT:
            errors.append(_("serial_number: required."))
        raw_time = report.get("reported_at")
        reported_at = parse_datetime(raw_time) if isinstance(raw_time, str) else None
        if reported_at is None or timezone.is_naive(reported_at):
            errors.append(_("reported_at: an ISO 8601 time with its UTC offset."))
        elif not earliest <= reported_at <= latest:
            errors.append(_("reported_at: within the last %(n)s days, not in the future.") % {"n": settings.TELEMETRY_RAW_DAYS})
        online = report.get("online")
        if not isinstance(online, bool):
            errors.append(_("online: true or false."))
        codes = report.get("errors") or []
        clean_errors = []
        if not isinstance(codes, list) or len(codes) > 20:
            errors.append(_("errors: a list of at most 20 {code, text} objects."))
        else:
            for item in codes:
                code = item.get("code") if isinstance(item, dict) else None
                text = item.get("text", "") if isinstance(item, dict) else None
                if not isinstance(code, str) or not code or len(code) > _TEXT or not isinstance(text, str):
                    errors.append(_("errors: each has a code (at most 40 characters) and a text."))
                    break
                clean_errors.append({"code": code, "text": text[:200]})
        row = {
            "serial_number": serial,
            "reported_at": reported_at,
            "online": online,
            "software_version": _text(report, "software_version", errors),
            "firmware_version": _text(report, "firmware_version", errors),
            "signal_strength": _percent(report, "signal_strength", errors),
            "network_type": _choice(report, "network_type", _NETWORKS | {""}, errors, ""),
            "battery_percent": _percent(report, "battery_percent", errors),
            "on_mains": _flag(report, "on_mains", errors),
            "paper_out": _flag(report, "paper_out", errors, default=False),
            "printer_status": _choice(report, "printer_status", _PARTS, errors, "unknown"),
            "card_reader_status": _choice(report, "card_reader_status", _PARTS, errors, "unknown"),
            "errors": clean_errors,
        }
        if errors:
            problems.append(f"{index}: " + " ".join(errors))
        else:
            parsed.append(row)
    if problems:
        raise TelemetryRefused(
            _("Please correct the fields marked below."), "invalid", fields={"reports": problems[:100]}
        )
    return parsed


def ingest(*, source_key, timestamp, signature, body):
    """Check, then store one signed batch: `{accepted, duplicates, unknown_serials}`. Reports of
    serials we do not know are not stored but named back; a report already stored for the same
    (source, terminal, report time) is counted as a duplicate and left as it was."""
    if len(body) > settings.TELEMETRY_MAX_BYTES:  # before the signature: the view reads no further
        raise TelemetryRefused(
            _("A batch has at most %(n)s bytes.") % {"n": settings.TELEMETRY_MAX_BYTES}, "too_large", 413
        )
    source = authenticate(source_key=source_key, timestamp=timestamp, signature=signature, body=body)
    rows = parse_batch(body)
    serials = {row["serial_number"] for row in rows}
    ids = dict(Terminal.objects.filter(serial_number__in=serials).values_list("serial_number", "pk"))
    unknown = sorted(serials - set(ids))
    known = [row for row in rows if row["serial_number"] in ids]
    with transaction.atomic():
        _remember_signature(source, signature)
        accepted = _insert(source, known, ids) if known else 0
    return {"accepted": accepted, "duplicates": len(known) - accepted, "unknown_serials": unknown}


_COLUMNS = (
    ("terminal", "bigint"), ("reported_at", "timestamptz"), ("online", "bool"), ("software_version", "text"),
    ("firmware_version", "text"), ("signal_strength", "smallint"), ("network_type", "text"),
    ("battery_percent", "smallint"), ("on_mains", "bool"), ("paper_out", "bool"), ("printer_status", "text"),
    ("card_reader_status", "text"), ("error_code", "text"), ("errors", "text"),
)


def _insert(source, rows, ids):
    """Insert the reports not already stored; the number inserted. On PostgreSQL: COPY into a
    temporary table, then one INSERT … SELECT … ON CONFLICT DO NOTHING (the ORM's per-object
    bulk_create took 5 s for 10,000 reports on the bench machine)."""
    received_at = timezone.now()
    values = {
        "terminal": [ids[r["serial_number"]] for r in rows],
        "error_code": [r["errors"][0]["code"] if r["errors"] else "" for r in rows],
        "errors": [json.dumps(r["errors"], ensure_ascii=False) for r in rows],
    }
    for name, _type in _COLUMNS:
        if name not in values:
            values[name] = [r[name] for r in rows]
    if connection.vendor == "postgresql":
        meta = HealthReport._meta
        columns = [meta.get_field(name).column for name, _type in _COLUMNS]
        buffer = io.StringIO()
        # QUOTE_NONNUMERIC quotes every text (and None as ""): FORCE_NULL makes "" NULL in the
        # nullable columns, the only ones that take None.
        writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerows(zip(*(values[name] for name, _type in _COLUMNS), strict=True))
        buffer.seek(0)
        typed = ", ".join(f"{column} {'jsonb' if t == 'text' and name == 'errors' else t}"
                          for column, (name, t) in zip(columns, _COLUMNS, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE telemetry_in ({typed}) ON COMMIT DROP")
            cursor.copy_expert(
                f"COPY telemetry_in ({', '.join(columns)}) FROM STDIN "
                "WITH (FORMAT csv, FORCE_NULL (signal_strength, battery_percent, on_mains))", buffer,
            )
            cursor.execute(
                f"INSERT INTO {meta.db_table} (source_id, received_at, {', '.join(columns)}) "
                f"SELECT %s, %s, {', '.join(columns)} FROM telemetry_in "
                "ON CONFLICT (source_id, terminal_id, reported_at) DO NOTHING",
                [source.pk, received_at],
            )
            inserted = cursor.rowcount
            cursor.execute("DROP TABLE telemetry_in")  # inside an outer transaction (tests) too
            return inserted
    # Elsewhere (the development SQLite): skip what is stored, then bulk_create.
    times = values["reported_at"]
    seen = set(
        HealthReport.objects.filter(
            source=source, terminal_id__in=set(values["terminal"]),
            reported_at__gte=min(times), reported_at__lte=max(times),
        ).values_list("terminal_id", "reported_at")
    )
    new = []
    for n, row in enumerate(rows):
        key = (values["terminal"][n], row["reported_at"])
        if key in seen:
            continue
        seen.add(key)
        fields = {name: values[name][n] for name, _type in _COLUMNS if name not in ("terminal", "errors")}
        new.append(HealthReport(source=source, terminal_id=key[0], received_at=received_at,
                                errors=row["errors"], **fields))
    HealthReport.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


def _day_bounds(day):
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, start + timedelta(days=1)


def summarise_day(day):
    """Write (or rewrite) every terminal's HealthDailySummary of one China day from the raw reports."""
    start, end = _day_bounds(day)
    reports = HealthReport.objects.filter(reported_at__gte=start, reported_at__lt=end)
    totals = reports.values("terminal_id").annotate(
        n=Count("id"), offline=Count("id", filter=Q(online=False)),
        with_errors=Count("id", filter=~Q(error_code="")), last=Max("reported_at"),
    )
    by_code = {}
    for terminal_id, code, n in (
        reports.exclude(error_code="").values_list("terminal_id", "error_code").annotate(n=Count("id"))
    ):
        by_code.setdefault(terminal_id, {})[code] = n
    versions = {}
    for terminal_id, firmware, software in (
        reports.order_by("terminal_id", "reported_at").values_list("terminal_id", "firmware_version", "software_version")
        .iterator(chunk_size=5000)
    ):
        versions[terminal_id] = (firmware, software)  # the last of the day wins
    summaries = [
        HealthDailySummary(
            terminal_id=t["terminal_id"], day=day, reports=t["n"], offline_reports=t["offline"],
            error_reports=t["with_errors"], error_counts=by_code.get(t["terminal_id"], {}), last_seen_at=t["last"],
            firmware_version=versions.get(t["terminal_id"], ("", ""))[0],
            software_version=versions.get(t["terminal_id"], ("", ""))[1],
        )
        for t in totals
    ]
    HealthDailySummary.objects.bulk_create(
        summaries, batch_size=2000, update_conflicts=True, unique_fields=["terminal", "day"],
        update_fields=["reports", "offline_reports", "error_reports", "error_counts", "last_seen_at",
                       "firmware_version", "software_version"],
    )
    return len(summaries)


def retention(today=None):
    """The nightly job: summarise the days whose reports are about to go (and yesterday), delete
    raw reports older than TELEMETRY_RAW_DAYS, summaries older than TELEMETRY_SUMMARY_DAYS and
    remembered signatures older than the replay window. Safe to run again."""
    today = today or timezone.localdate()
    cutoff_day = today - timedelta(days=settings.TELEMETRY_RAW_DAYS)
    cutoff, _end = _day_bounds(cutoff_day)
    oldest = HealthReport.objects.filter(reported_at__lt=cutoff).order_by("reported_at").values_list(
        "reported_at", flat=True).first()
    days = {today - timedelta(days=1)}
    if oldest is not None:
        day = timezone.localdate(oldest)
        while day < cutoff_day:
            days.add(day)
            day += timedelta(days=1)
    summarised = sum(summarise_day(day) for day in sorted(days))
    deleted, _kinds = HealthReport.objects.filter(reported_at__lt=cutoff).delete()
    HealthDailySummary.objects.filter(day__lt=today - timedelta(days=settings.TELEMETRY_SUMMARY_DAYS)).delete()
    TelemetrySignature.objects.filter(
        seen_at__lt=timezone.now() - timedelta(seconds=2 * settings.TELEMETRY_WINDOW_SECONDS)
    ).delete()
    return {"summarised": summarised, "deleted": deleted}
