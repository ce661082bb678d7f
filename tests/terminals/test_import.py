import io

import pytest
from django.urls import reverse
from openpyxl import Workbook

from terminals.imports import run_import_job
from terminals.models import ImportJob, Terminal, TerminalEvent
from tests.factories import BranchFactory, MerchantFactory, TerminalFactory
from tests.terminals.helpers import HEADER, csv_bytes, stock_rows, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(channel):
    BranchFactory(code="BR001")
    return MerchantFactory(name="鑫源便利店")


def _post(client, content, name="inventory.csv", capture=None):
    if capture is None:
        return client.post(reverse("terminals:import"), {"file": upload(content, name)})
    with capture(execute=True):
        return client.post(reverse("terminals:import"), {"file": upload(content, name)})


def test_it_imports_a_good_file_in_batches_with_progress(
    manager_client, setup, django_capture_on_commit_callbacks, settings
):
    shop = setup
    rows = stock_rows(25) + [
        ["0820A9200099", "TAG-M-1", "PAX A920", "PAX", "bank", shop.credit_code, "BR001", "ab12cd34", "898310058120001"],
        ["0820A9200098", "TAG-M-2", "PAX A920", "PAX", "BANK", shop.credit_code, "", "", ""],
        ["", "", "", "", "", "", "", "", ""],  # blank lines are skipped
    ]
    response = _post(manager_client, csv_bytes(rows), capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert (job.status, job.total, job.done, job.created_count, job.error_count) == ("done", 27, 27, 27, 0)
    assert Terminal.objects.filter(status="in_stock").count() == 25
    active = Terminal.objects.get(serial_number="0820A9200099")
    assert (active.status, active.merchant, active.tid, active.home_branch.code) == ("active", shop, "AB12CD34", "BR001")
    assert active.activated_on is not None
    assert Terminal.objects.get(serial_number="0820A9200098").status == "pending_activation"
    assert TerminalEvent.objects.filter(kind="created").count() == 27
    page = manager_client.get(job.get_absolute_url()).content.decode()
    assert "27 rows done of 27" in page and "every 1s" not in page


def test_it_reports_every_rejected_row_with_its_line_number(manager, setup):
    TerminalFactory(serial_number="EXISTING0001", tag_number="TAG-EXIST")
    rows = [
        ["GOOD00000001", "TAG-G1", "PAX A920", "PAX", "BANK", "", "", "", ""],      # line 2: ok
        ["GOOD00000001", "TAG-G2", "PAX A920", "PAX", "BANK", "", "", "", ""],      # 3: dup serial in file
        ["GOOD00000003", "TAG-G1", "PAX A920", "PAX", "BANK", "", "", "", ""],      # 4: dup tag in file
        ["EXISTING0001", "TAG-OTHER", "PAX A920", "PAX", "BANK", "", "", "", ""],   # 5: serial in DB
        ["GOOD00000005", "TAG-EXIST", "PAX A920", "PAX", "BANK", "", "", "", ""],   # 6: tag in DB
        ["GOOD00000006", "TAG-G6", "PAX A920", "PAX", "NOPE", "", "", "", ""],      # 7: unknown channel
        ["GOOD00000007", "TAG-G7", "PAX A920", "PAX", "BANK", "91310000MA0000000X", "", "", ""],  # 8: unknown merchant
        ["GOOD00000008", "TAG-G8", "", "PAX", "BANK", "", "", "", ""],              # 9: missing model
        ["GOOD00000009", "TAG-G9", "PAX A920", "PAX", "BANK", setup.credit_code, "", "BADTID", "898310058120001"],
        ["GOOD00000010", "TAG-G10", "PAX A920", "PAX", "BANK", setup.credit_code, "", "12345678", "12345"],
        ["GOOD00000011", "TAG-G11", "PAX A920", "PAX", "BANK", "", "BR404", "", ""],   # 12: unknown branch
        ["bad serial!", "TAG-G12", "PAX A920", "PAX", "BANK", "", "", "", ""],      # 13: bad serial
    ]
    from terminals import services

    job = services.create_import_job(uploaded=upload(csv_bytes(rows)), file_format="csv", actor=manager)
    job = run_import_job(job.pk, batch_size=4)
    assert (job.created_count, job.error_count, job.total) == (1, 11, 12)
    reasons = {e["line"]: e["reason"] for e in job.errors}
    assert sorted(reasons) == list(range(3, 14))
    assert "Duplicate serial number" in reasons[3] and "line 2" in reasons[3]
    assert "Duplicate tag number" in reasons[4]
    assert "already registered" in reasons[5]
    assert "already used by terminal EXISTING0001" in reasons[6]
    assert "Unknown channel" in reasons[7]
    assert "Unknown merchant" in reasons[8]
    assert "Missing field" in reasons[9] and "model" in reasons[9]
    assert "Bad TID" in reasons[10]
    assert "Bad MID" in reasons[11]
    assert "Unknown branch" in reasons[12]
    assert "Bad serial number" in reasons[13]


def test_it_adds_nothing_when_the_same_file_is_imported_again(manager_client, setup, django_capture_on_commit_callbacks):
    content = csv_bytes(stock_rows(10) + [stock_rows(1)[0]])  # the last row repeats line 2
    _post(manager_client, content, capture=django_capture_on_commit_callbacks)
    _post(manager_client, content, capture=django_capture_on_commit_callbacks)
    first, second = ImportJob.objects.order_by("pk")
    assert (first.created_count, first.present_count, first.error_count) == (10, 0, 1)
    assert (second.created_count, second.present_count, second.error_count) == (0, 10, 1)
    assert Terminal.objects.count() == 10
    assert TerminalEvent.objects.count() == 10


def test_it_reads_gb18030_csv_and_chinese_headers(manager_client, setup, django_capture_on_commit_callbacks):
    header = ["终端号", "标签号", "型号", "厂商", "渠道"]
    content = csv_bytes([["N7SP63000001", "标签-1", "新大陆 SP630", "新大陆", "BANK"]], header=header, encoding="gb18030")
    _post(manager_client, content, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert job.error_count == 1 and "Bad tag number" in job.errors[0]["reason"]
    content = csv_bytes([["N7SP63000001", "TAG-CN-1", "新大陆 SP630", "新大陆", "BANK"]], header=header, encoding="gb18030")
    _post(manager_client, content, capture=django_capture_on_commit_callbacks)
    assert Terminal.objects.get().model == "新大陆 SP630"


def test_it_imports_xlsx(manager_client, setup, django_capture_on_commit_callbacks):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["IGM5F0000001", "TAG-X-1", "Ingenico Move/5000F", "Ingenico", "BANK", setup.credit_code, "",
               "31000001", 898310058120001])
    buf = io.BytesIO()
    wb.save(buf)
    _post(manager_client, buf.getvalue(), name="inventory.xlsx", capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert job.format == "xlsx" and job.created_count == 1, job.errors
    assert Terminal.objects.get().mid == "898310058120001"


def test_it_refuses_an_oversized_file_before_any_work(manager_client, setup, settings):
    settings.TERMINAL_IMPORT_MAX_BYTES = 200
    response = _post(manager_client, csv_bytes(stock_rows(20)))
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    "content,name",
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "inventory.csv"),
        (b"MZ\x90\x00" + b"\x00" * 200, "inventory.csv"),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\n", "inventory.csv"),
        (b"PK\x03\x04not really a zip", "inventory.xlsx"),
    ],
)
def test_it_refuses_a_file_that_is_not_csv_or_xlsx(manager_client, setup, content, name):
    response = _post(manager_client, content, name=name)
    assert response.status_code == 400
    assert "not a CSV or XLSX file" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_it_refuses_a_csv_without_the_required_columns(manager_client, setup):
    response = _post(manager_client, b"name,phone\nfoo,123\n")
    assert response.status_code == 400
    assert "missing: serial_number" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_it_keeps_imports_to_managers(agent_client, merchant_client, setup):
    assert agent_client.get(reverse("terminals:import")).status_code == 403
    assert merchant_client.post(reverse("terminals:import"), {"file": upload(csv_bytes(stock_rows(1)))}).status_code == 403
    assert not ImportJob.objects.exists()


def test_it_polls_progress_while_running_and_stops_when_done(manager_client, manager):
    job = ImportJob.objects.create(original_name="x.csv", format="csv", size=1, created_by=manager,
                                   status="running", total=200, done=50)
    partial = manager_client.get(reverse("terminals:import_progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in partial and "50 rows done of 200" in partial and "25%" in partial
    ImportJob.objects.filter(pk=job.pk).update(status="done", done=200)
    partial = manager_client.get(reverse("terminals:import_progress", args=[job.pk])).content.decode()
    assert "every 1s" not in partial and "100%" in partial


def test_it_serves_a_template_the_import_accepts(manager_client):
    response = manager_client.get(reverse("terminals:import_template"))
    assert response.content.decode("utf-8-sig").startswith("serial_number,tag_number")
