"""Bulk import of a bank's terminal inventory (CSV or XLSX).

`check_import_file` refuses a bad upload before any work (size, real content, header);
`run_import_job` is the body of the Celery task: it reads the stored file twice (count, then
process), validates each row, and inserts the new terminals in batches of `BATCH_SIZE` (one
transaction each: PostgreSQL's COPY, `bulk_create` elsewhere, and their "registered" events in one
INSERT … SELECT), updating the job's progress after each batch. A row whose serial number is already
registered with the same details is "already present", so importing a file again adds nothing.

Columns (header names in English or Chinese, any order, unknown columns ignored):
serial_number, tag_number, model, manufacturer, channel (code) — required;
merchant (unified social credit code), home_branch (code), tid, mid — optional.
A row with a merchant is issued to it: `active` when it has both TID and MID, else
`pending_activation`; a row without a merchant goes to stock.
"""

import csv
import io
import logging
import re
import zipfile
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.accounts.models import Branch, Channel, Merchant
from portal.core.uploads import check_size
from terminals.models import (
    ImportJob,
    Terminal,
    TerminalEvent,
    validate_device_number,
    validate_mid,
    validate_tid,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
REQUIRED = ("serial_number", "tag_number", "model", "manufacturer", "channel")
OPTIONAL = ("merchant", "home_branch", "tid", "mid")
COLUMNS = REQUIRED + OPTIONAL

# Accepted header spellings, normalised (lower case, spaces and dashes as underscores).
ALIASES = {
    "serial_number": {"serial_number", "serial", "sn", "terminal_number", "terminal_no", "终端号", "pos机号", "序列号", "机身号"},
    "tag_number": {"tag_number", "tag", "tag_no", "asset_tag", "标签号", "资产标签"},
    "model": {"model", "型号", "机型"},
    "manufacturer": {"manufacturer", "brand", "vendor", "厂商", "制造商", "品牌"},
    "channel": {"channel", "channel_code", "渠道", "渠道代码"},
    "merchant": {"merchant", "merchant_credit_code", "credit_code", "商户", "商户信用代码", "统一社会信用代码"},
    "home_branch": {"home_branch", "branch", "branch_code", "网点", "网点代码"},
    "tid": {"tid", "terminal_id", "终端编号"},
    "mid": {"mid", "merchant_id", "商户编号"},
}
LABELS = {
    "serial_number": gettext_lazy("serial number"),
    "tag_number": gettext_lazy("tag number"),
    "model": gettext_lazy("model"),
    "manufacturer": gettext_lazy("manufacturer"),
    "channel": gettext_lazy("channel"),
}
_HEADER_MAP = {alias: column for column, aliases in ALIASES.items() for alias in aliases}
# The rules of the model's own validators (one owner: terminals.models), matched without raising.
_DEVICE_RE = validate_device_number.regex
_TID_RE = validate_tid.regex
_MID_RE = validate_mid.regex
_XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _normalise_header(cell):
    return re.sub(r"[\s\-]+", "_", str(cell or "").strip().lower())


def map_header(cells):
    """{column: index} for the recognised columns of a header row."""
    mapping = {}
    for index, cell in enumerate(cells):
        column = _HEADER_MAP.get(_normalise_header(cell))
        if column and column not in mapping:
            mapping[column] = index
    return mapping


# --- Reading ---------------------------------------------------------------------------------


def _decode(data):
    # Excel on Chinese Windows saves CSV in GB18030 (GBK); everything else should be UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("The CSV file is neither UTF-8 nor GB18030 text."))


def _csv_reader(text):
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(io.StringIO(text, newline=""), dialect)


def iter_rows(fileobj, file_format):
    """Yield (line number, [cells]) of the header (first) and every row; line numbers as a user
    sees them in a text editor or spreadsheet."""
    if file_format == ImportJob.Format.XLSX:
        from openpyxl import load_workbook

        workbook = load_workbook(fileobj, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
                yield number, ["" if v is None else _cell_text(v) for v in row]
        finally:
            workbook.close()
    else:
        reader = _csv_reader(_decode(fileobj.read()))
        start = 1
        for cells in reader:
            # line_num is the physical line where this record ended; a quoted field may span lines.
            yield start, cells
            start = reader.line_num + 1


def _cell_text(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a numeric MID typed into Excel arrives as 8.98e14
    return str(value)


def check_import_file(uploaded):
    """Refuse before any work a file that is too large, not CSV/XLSX by content, or without the
    required columns. Returns the format ("csv" or "xlsx")."""
    check_size(uploaded, settings.TERMINAL_IMPORT_MAX_BYTES)
    uploaded.seek(0)
    head = uploaded.read(8192)
    uploaded.seek(0)
    not_tabular = ValidationError(
        _("This file is not a CSV or XLSX file (its content was checked, not its name).")
    )
    if head.startswith(b"PK\x03\x04"):
        kind = filetype.guess(head)
        if kind is not None and kind.mime not in (_XLSX_MIME, "application/zip"):
            raise not_tabular
        file_format = ImportJob.Format.XLSX
        try:
            with zipfile.ZipFile(uploaded) as archive:
                if "xl/workbook.xml" not in archive.namelist():
                    raise not_tabular
            uploaded.seek(0)
            header = next(iter_rows(uploaded, file_format), (1, []))[1]
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise not_tabular from exc
    else:
        if filetype.guess(head) is not None or b"\x00" in head:
            raise not_tabular
        file_format = ImportJob.Format.CSV
        if len(head) == 8192 and b"\n" in head:
            head = head[: head.rfind(b"\n") + 1]  # whole lines only: no multibyte character cut
        try:
            _decode(head)
        except ValidationError as exc:
            raise not_tabular from exc
        header = next(iter_rows(io.BytesIO(head), file_format), (1, []))[1] if head.strip() else []
    uploaded.seek(0)
    mapping = map_header(header)
    missing = [c for c in REQUIRED if c not in mapping]
    if missing:
        raise ValidationError(
            _("The first row must name the columns; missing: %(columns)s. Download the template.")
            % {"columns": ", ".join(missing)}
        )
    return file_format


# --- Validation --------------------------------------------------------------------------------


@dataclass
class Row:
    line: int
    values: dict


class Lookups:
    """Channels and branches (few) loaded once; merchants by credit code, cached per batch."""

    def __init__(self):
        self.channels = {c.code.upper(): c.pk for c in Channel.objects.all()}
        self.branches = {b.code.upper(): b.pk for b in Branch.objects.all()}
        self.merchants = {}

    def load_merchants(self, codes):
        wanted = {c.upper() for c in codes if c and c.upper() not in self.merchants}
        if not wanted:
            return
        found = dict(Merchant.objects.filter(credit_code__in=wanted).values_list("credit_code", "pk"))
        for code in wanted:
            self.merchants[code] = found.get(code)


def _clean_row(row, lookups):
    """(terminal field values, None) or (None, reason) for one row."""
    v = {k: (row.values.get(k) or "").strip() for k in COLUMNS}
    missing = [str(LABELS[k]) for k in REQUIRED if not v[k]]
    if missing:
        return None, _("Missing field(s): %(fields)s.") % {"fields": ", ".join(missing)}
    if not _DEVICE_RE.match(v["serial_number"]):
        return None, _("Bad serial number %(value)s.") % {"value": v["serial_number"]}
    if not _DEVICE_RE.match(v["tag_number"]):
        return None, _("Bad tag number %(value)s.") % {"value": v["tag_number"]}
    if len(v["model"]) > 60 or len(v["manufacturer"]) > 60:
        return None, _("Model and manufacturer have at most 60 characters.")
    tid, mid = v["tid"].upper(), v["mid"]
    if tid and not _TID_RE.match(tid):
        return None, _("Bad TID %(value)s: a TID has exactly 8 letters or digits.") % {"value": tid}
    if mid and not _MID_RE.match(mid):
        return None, _("Bad MID %(value)s: a MID has exactly 15 digits.") % {"value": mid}
    channel_id = lookups.channels.get(v["channel"].upper())
    if channel_id is None:
        return None, _("Unknown channel %(value)s.") % {"value": v["channel"]}
    branch_id = None
    if v["home_branch"]:
        branch_id = lookups.branches.get(v["home_branch"].upper())
        if branch_id is None:
            return None, _("Unknown branch %(value)s.") % {"value": v["home_branch"]}
    merchant_id = None
    if v["merchant"]:
        merchant_id = lookups.merchants.get(v["merchant"].upper())
        if merchant_id is None:
            return None, _("Unknown merchant (credit code %(value)s).") % {"value": v["merchant"]}
    elif tid or mid:
        return None, _("A TID or MID belongs to a merchant's terminal: give the merchant's credit code too.")
    if merchant_id is None:
        status = Terminal.Status.IN_STOCK
    elif tid and mid:
        status = Terminal.Status.ACTIVE
    else:
        status = Terminal.Status.PENDING_ACTIVATION
    return {
        "serial_number": v["serial_number"],
        "tag_number": v["tag_number"],
        "model": v["model"],
        "manufacturer": v["manufacturer"],
        "channel_id": channel_id,
        "home_branch_id": branch_id,
        "merchant_id": merchant_id,
        "tid": tid,
        "mid": mid,
        "status": status,
    }, None


def _compare_existing(fields, existing):
    """None when the registered terminal matches the row ("already present"), else the reason."""
    serial = fields["serial_number"]
    if existing["tag_number"] != fields["tag_number"]:
        return _("Serial number %(serial)s is already registered with tag number %(tag)s.") % {
            "serial": serial,
            "tag": existing["tag_number"],
        }
    if existing["loaner_state"] and (fields["merchant_id"] or fields["tid"] or fields["mid"]):
        return _(
            "Terminal %(serial)s is a loaner of a branch pool: it is lent for a repair only and "
            "cannot be imported for a merchant."
        ) % {"serial": serial}
    if fields["merchant_id"] and existing["merchant_id"] != fields["merchant_id"]:
        return _(
            "Terminal %(serial)s already belongs to another merchant: a terminal serves one merchant "
            "(no cross-use)."
        ) % {"serial": serial}
    same = all(existing[k] == fields[k] for k in ("model", "manufacturer", "channel_id"))
    same = same and all(
        existing[k] == fields[k] for k in ("home_branch_id", "tid", "mid") if fields[k]
    )
    if not same:
        return _("Serial number %(serial)s is already registered with different details.") % {
            "serial": serial
        }
    return None


# --- Processing --------------------------------------------------------------------------------


class _Progress:
    def __init__(self):
        self.done = self.created = self.present = 0
        self.errors = []
        self.seen_serials = {}
        self.seen_tags = {}

    def reject(self, line, serial, reason):
        self.errors.append({"line": line, "serial_number": serial, "reason": str(reason)})


def _process_batch(batch, job, lookups, progress):
    lookups.load_merchants([r.values.get("merchant", "").strip() for r in batch])
    candidates = []
    for row in batch:
        fields, reason = _clean_row(row, lookups)
        serial = (row.values.get("serial_number") or "").strip()
        if reason:
            progress.reject(row.line, serial, reason)
            continue
        first = progress.seen_serials.get(fields["serial_number"])
        if first is not None:
            progress.reject(
                row.line, serial,
                _("Duplicate serial number %(value)s in this file (first on line %(line)s).")
                % {"value": serial, "line": first},
            )
            continue
        first = progress.seen_tags.get(fields["tag_number"])
        if first is not None:
            progress.reject(
                row.line, serial,
                _("Duplicate tag number %(value)s in this file (first on line %(line)s).")
                % {"value": fields["tag_number"], "line": first},
            )
            continue
        progress.seen_serials[fields["serial_number"]] = row.line
        progress.seen_tags[fields["tag_number"]] = row.line
        candidates.append((row, fields))

    existing = {
        t["serial_number"]: t
        for t in Terminal.objects.filter(
            serial_number__in=[f["serial_number"] for _r, f in candidates]
        ).values(
            "serial_number", "tag_number", "model", "manufacturer", "channel_id", "home_branch_id",
            "merchant_id", "tid", "mid", "loaner_state",
        )
    }
    tags_in_db = dict(
        Terminal.objects.filter(tag_number__in=[f["tag_number"] for _r, f in candidates]).values_list(
            "tag_number", "serial_number"
        )
    )
    new = []
    for row, fields in candidates:
        found = existing.get(fields["serial_number"])
        if found is not None:
            reason = _compare_existing(fields, found)
            if reason:
                progress.reject(row.line, fields["serial_number"], reason)
            else:
                progress.present += 1
            continue
        if fields["tag_number"] in tags_in_db:
            progress.reject(
                row.line, fields["serial_number"],
                _("Tag number %(tag)s is already used by terminal %(serial)s.")
                % {"tag": fields["tag_number"], "serial": tags_in_db[fields["tag_number"]]},
            )
            continue
        new.append(fields)

    if new:
        _insert_terminals(new)
        note = _("Imported from %(file)s (import #%(job)s)") % {"file": job.original_name, "job": job.pk}
        _write_registered_events([f["serial_number"] for f in new], job.created_by_id, note)
        progress.created += len(new)


_COPY_COLUMNS = (
    "serial_number", "tag_number", "model", "manufacturer", "channel_id", "home_branch_id",
    "merchant_id", "tid", "mid", "status", "activated_on", "created_at", "updated_at",
)


def _insert_terminals(rows):
    """Insert validated rows: PostgreSQL's COPY (several times faster), else bulk_create."""
    today = timezone.localdate()
    for f in rows:
        f["activated_on"] = today if f["status"] == Terminal.Status.ACTIVE else None
    if connection.vendor != "postgresql":
        Terminal.objects.bulk_create([Terminal(**f) for f in rows], batch_size=BATCH_SIZE)
        return
    now = timezone.now().isoformat()
    buf = io.StringIO()
    writer = csv.writer(buf)
    for f in rows:
        writer.writerow(
            [("" if f[c] is None else f[c]) for c in _COPY_COLUMNS[:-2]] + [now, now]
        )
    buf.seek(0)
    table = Terminal._meta.db_table
    # Empty unquoted fields are NULL (the optional foreign keys and dates); text fields that may
    # be empty (tid, mid) are FORCE_NOT_NULL so they stay "".
    sql = (
        f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN "
        "WITH (FORMAT csv, FORCE_NOT_NULL (tid, mid))"
    )
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(sql, buf)


def _write_registered_events(serials, actor_id, note):
    """The "registered" event of each new terminal, in one INSERT … SELECT (no ids round trip)."""
    event, terminal = TerminalEvent._meta, Terminal._meta
    placeholders = ", ".join(["%s"] * len(serials))
    sql = (
        f"INSERT INTO {event.db_table} (terminal_id, kind, from_status, to_status, merchant_id, actor_id, note, created_at) "
        f"SELECT id, %s, '', status, merchant_id, %s, %s, %s FROM {terminal.db_table} "
        f"WHERE serial_number IN ({placeholders})"
    )
    with connection.cursor() as cursor:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(sql, [TerminalEvent.Kind.CREATED, actor_id, note, now, *serials])


def _run_batch(batch, job, lookups, progress):
    """One batch in one transaction; a concurrent insert of the same serial makes it re-run (the
    second pass sees the row and reports it)."""
    for attempt in (1, 2):
        snapshot = (progress.created, progress.present, len(progress.errors),
                    dict(progress.seen_serials), dict(progress.seen_tags))
        try:
            with transaction.atomic():
                _process_batch(batch, job, lookups, progress)
            break
        except IntegrityError:
            if attempt == 2:
                raise
            progress.created, progress.present = snapshot[0], snapshot[1]
            del progress.errors[snapshot[2]:]
            progress.seen_serials, progress.seen_tags = snapshot[3], snapshot[4]
    progress.done += len(batch)
    ImportJob.objects.filter(pk=job.pk).update(
        done=progress.done,
        created_count=progress.created,
        present_count=progress.present,
        error_count=len(progress.errors),
    )


def _data_rows(job):
    """Rows after the header, as Row objects; entirely blank rows are skipped."""
    with job.file.open("rb") as fh:
        rows = iter_rows(fh, job.format)
        _line, header = next(rows, (1, []))
        mapping = map_header(header)
        for line, cells in rows:
            if not any(str(c).strip() for c in cells):
                continue
            yield Row(line, {k: (cells[i] if i < len(cells) else "") for k, i in mapping.items()})


def run_import_job(job_id, batch_size=BATCH_SIZE):
    """Process the job's file; safe to run again (a finished job is left alone)."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status == ImportJob.Status.DONE:
        return job
    try:
        total = sum(1 for _row in _data_rows(job))
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.RUNNING, started_at=timezone.now(), total=total, done=0,
            created_count=0, present_count=0, error_count=0, errors=[], message="",
        )
        lookups, progress, batch = Lookups(), _Progress(), []
        for row in _data_rows(job):
            batch.append(row)
            if len(batch) >= batch_size:
                _run_batch(batch, job, lookups, progress)
                batch = []
        if batch:
            _run_batch(batch, job, lookups, progress)
        progress.errors.sort(key=lambda e: e["line"])
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE, finished_at=timezone.now(), errors=progress.errors,
            done=progress.done, total=max(total, progress.done),
        )
    except Exception as exc:  # noqa: BLE001 - any failure is reported on the job page
        log.exception("terminal import %s failed", job_id)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(),
            message=_("The import stopped: %(error)s") % {"error": exc.__class__.__name__},
        )
    job.refresh_from_db()
    return job


# The "download the template" file: the columns and one example row.
TEMPLATE_ROWS = [["N7NL00012345", "BANK-2026-000001", "PAX A920", "PAX", "BANK", "", "BR001", "", ""]]
