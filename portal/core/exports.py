"""CSV exports that open cleanly in Excel and cannot smuggle formulas into a spreadsheet: the one
writer of every export of the portal (reports, the terminal list)."""

import csv

from django.http import HttpResponse, StreamingHttpResponse

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A value as a spreadsheet should show it: text that would start a formula is quoted with an
    apostrophe (shown as typed, never run); None is empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def _lines(header, rows):
    writer = csv.writer(_Echo())
    # The byte-order mark makes Excel read UTF-8 (Chinese names) instead of the local code page.
    yield "\ufeff" + writer.writerow([str(h) for h in header])
    for row in rows:
        yield writer.writerow([safe_cell(v) for v in row])


def _attachment(response, filename):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def csv_response(filename, header, rows):
    """An attachment `filename` with a header row then `rows` (iterables of plain values)."""
    return _attachment(HttpResponse("".join(_lines(header, rows)), content_type="text/csv; charset=utf-8"), filename)


def streaming_csv_response(filename, header, rows):
    """The same, streamed row by row (for exports of any length: `rows` may be a database iterator)."""
    return _attachment(StreamingHttpResponse(_lines(header, rows), content_type="text/csv; charset=utf-8"), filename)
