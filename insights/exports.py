"""CSV exports that open cleanly in Excel and cannot smuggle formulas into a spreadsheet."""

import csv

from django.http import HttpResponse

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_response(filename, header, rows):
    """An attachment `filename` with a header row then `rows` (iterables of plain values)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    # The byte-order mark makes Excel read UTF-8 (Chinese names) instead of the local code page.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([str(h) for h in header])
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return response
