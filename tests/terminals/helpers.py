"""Inventory files for the import tests."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

HEADER = ["serial_number", "tag_number", "model", "manufacturer", "channel", "merchant", "home_branch", "tid", "mid"]


def csv_bytes(rows, header=HEADER, encoding="utf-8"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(content, name="inventory.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def stock_rows(n, channel="BANK", start=1):
    return [[f"SN{i:08d}", f"TAG{i:08d}", "PAX A920", "PAX", channel, "", "", "", ""] for i in range(start, start + n)]
