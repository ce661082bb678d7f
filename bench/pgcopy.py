"""Fast loading into PostgreSQL: COPY from in-memory text buffers, with the table's secondary
indexes and foreign keys dropped during the load and rebuilt (and validated) afterwards.

Every column the caller does not give is filled from the model field's default, so a field that
another area adds tomorrow (with a default, or nullable) does not break the loader; a required
field without a default stops it with a clear message instead of loading half a row.
"""

import io
import json
import queue
import threading
import time
from datetime import date, datetime
from decimal import Decimal

from django.core.management.base import CommandError
from django.db import models

NULL = "\\N"


def esc(text):
    """A string as a COPY text field (str.replace is C-fast; translate with a dict is not)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


_minutes = {}
_SECONDS = [f"{s:02d}+00" for s in range(60)]


def ts(epoch):
    """Epoch seconds as a timestamptz literal (UTC), memoised per minute."""
    minute, second = divmod(int(epoch), 60)
    prefix = _minutes.get(minute)
    if prefix is None:
        t = time.gmtime(minute * 60)
        prefix = _minutes[minute] = f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d} {t[3]:02d}:{t[4]:02d}:"
    return prefix + _SECONDS[second]


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def jtext(value):
    return esc(_encode(value))


def text(value):
    """Any Python value as a COPY field (the generic, slower path)."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return esc(value)
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return jtext(value)
    raise TypeError(f"cannot COPY {value!r}")


class Table:
    """Rows for one model: `add(*values)` in the order of `fields`; the rest come from defaults."""

    FLUSH_ROWS = 50_000

    def __init__(self, loader, model, fields, now_text):
        self.loader = loader
        self.model = model
        self.table = model._meta.db_table
        meta = model._meta
        given = [meta.get_field(name) for name in fields]
        # An auto primary key that is not given is left to the database's identity column.
        rest = [f for f in meta.concrete_fields
                if f.name not in fields and not (f.primary_key and isinstance(f, models.AutoField))]
        self.columns = [f.column for f in given] + [f.column for f in rest]
        defaults = [self._default(f, now_text) for f in rest]
        self.suffix = ("\t" + "\t".join(defaults)) if defaults else ""
        self.buffer = io.StringIO()
        self.pending = 0
        self.count = 0

    def _default(self, field, now_text):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return now_text
        if field.has_default():
            value = field.get_default()
            if isinstance(field, models.JSONField):
                return jtext(value)
            return text(value)
        if field.null:
            return NULL
        if isinstance(field, (models.CharField, models.TextField)) and field.blank:
            return ""
        raise CommandError(
            f"bulk_data does not know how to fill {self.model.__name__}.{field.name} "
            "(required, no default): teach portal/scale/bulk.py about it"
        )

    def add(self, *values):
        self.buffer.write("\t".join([v if type(v) is str else text(v) for v in values]))
        self.buffer.write(self.suffix)
        self.buffer.write("\n")
        self._tick()

    def add_text(self, line):
        """A row already in COPY text form (the hot paths build it themselves)."""
        self.buffer.write(line)
        self.buffer.write(self.suffix)
        self.buffer.write("\n")
        self._tick()

    def add_lines(self, lines):
        """Several rows already in COPY text form."""
        if not lines:
            return
        suffix = self.suffix + "\n"
        self.buffer.write(suffix.join(lines))
        self.buffer.write(suffix)
        self.pending += len(lines)
        self.count += len(lines)
        if self.pending >= self.FLUSH_ROWS:
            self.flush()

    def _tick(self):
        self.pending += 1
        self.count += 1
        if self.pending >= self.FLUSH_ROWS:
            self.flush()

    def flush(self):
        if not self.pending:
            return
        columns = ", ".join(f'"{c}"' for c in self.columns)
        data = io.BytesIO(self.buffer.getvalue().encode())
        self.loader.submit(self.table, f'COPY "{self.table}" ({columns}) FROM STDIN', data)
        self.buffer = io.StringIO()
        self.pending = 0


class Loader:
    """One transaction's worth of COPY loads; drops and rebuilds indexes around them.

    The COPYs run on a background thread (same connection, one at a time, in order) so that
    PostgreSQL parses one batch while Python writes the next: the two cores both work. The
    caller must not use the connection between the first `add` and `finish`.
    """

    def __init__(self, connection, now_text, log=None):
        self.connection = connection
        connection.ensure_connection()
        self.cursor = connection.connection.cursor()  # psycopg2's own cursor, for copy_expert
        self.now_text = now_text
        self.tables = {}
        self.dropped = {}  # table -> [(kind, name, definition)]
        self.log = log or (lambda msg: None)
        self.copy_seconds = 0.0
        self._queue = queue.Queue(maxsize=4)
        self._error = None
        self._worker = threading.Thread(target=self._work, name="bulk-copy", daemon=True)
        self._worker.start()

    def _work(self):
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self._error is not None:
                continue
            table, sql, data = job
            try:
                started = time.monotonic()
                self.prepare(table)
                self.cursor.copy_expert(sql, data, size=1 << 20)
                self.copy_seconds += time.monotonic() - started
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                self._error = exc

    def submit(self, table, sql, data):
        if self._error is not None:
            raise self._error
        self._queue.put((table, sql, data))

    def drain(self):
        """Wait for every queued COPY; raise what failed."""
        self._queue.put(None)
        self._worker.join()
        if self._error is not None:
            raise self._error

    def table(self, model, fields):
        t = Table(self, model, fields, self.now_text)
        self.tables.setdefault(t.table, []).append(t)
        return t

    def prepare(self, table):
        """Before the first COPY into `table`: drop its secondary indexes and constraints."""
        if table in self.dropped:
            return
        cur = self.cursor
        cur.execute(
            # A unique constraint that a foreign key points at must stay.
            """SELECT c.conname, c.contype, pg_get_constraintdef(c.oid) FROM pg_constraint c
               WHERE c.conrelid = %s::regclass AND c.contype IN ('f', 'u')
               AND NOT (c.contype = 'u' AND EXISTS (
                   SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid))""",
            [table],
        )
        constraints = cur.fetchall()
        cur.execute(
            """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
            [table],
        )
        indexes = cur.fetchall()
        dropped = []
        for name, _kind, definition in constraints:
            cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            dropped.append(("constraint", name, definition))
        for name, definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
            dropped.append(("index", name, definition))
        self.dropped[table] = dropped

    def finish(self):
        """Flush every table, then rebuild what was dropped: unique first, foreign keys last."""
        for tables in self.tables.values():
            for t in tables:
                t.flush()
        self.drain()
        self.log(f"COPY busy for {self.copy_seconds:.1f} s")
        cur = self.cursor
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        started = time.monotonic()
        for table, dropped in self.dropped.items():
            for kind, _name, definition in dropped:
                if kind == "index":
                    cur.execute(definition)
            for kind, name, definition in dropped:
                if kind == "constraint" and not definition.startswith("FOREIGN KEY"):
                    cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for table, dropped in self.dropped.items():
            for kind, name, definition in dropped:
                if kind == "constraint" and definition.startswith("FOREIGN KEY"):
                    cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        self.log(f"indexes and constraints rebuilt in {time.monotonic() - started:.1f} s")

    def counts(self):
        return {table: sum(t.count for t in ts_) for table, ts_ in self.tables.items()}
