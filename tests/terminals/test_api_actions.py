"""The terminal page's actions over the API (issue, activate, return to stock, maintenance) and the
imports (upload, poll progress, read rejected rows), under the pages' rules."""

import pytest
from rest_framework.test import APIClient

from terminals.models import ImportJob, MaintenanceRecord, Terminal
from tests.factories import BranchFactory, MerchantFactory
from tests.terminals.helpers import csv_bytes, stock_rows, upload

pytestmark = pytest.mark.django_db
BASE = "/api/v1/terminals/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_issues_activates_and_restocks_a_terminal(stock_terminal, manager, agent, merchant_user):
    shop = MerchantFactory()
    BranchFactory(code="BR009")
    url = f"{BASE}{stock_terminal.serial_number}/"
    body = {"merchant": shop.credit_code, "home_branch": "BR009"}
    assert api(merchant_user).post(url + "issue/", body, format="json").status_code == 404
    assert api(agent).post(url + "issue/", body, format="json").status_code == 403
    bad = api(manager).post(url + "issue/", {"merchant": "91310000XXXXXXXXXX"}, format="json")
    assert bad.status_code == 400 and "merchant" in bad.json()
    assert api(manager).post(url + "issue/", {**body, "home_branch": "NOPE"}, format="json").status_code == 400
    issued = api(manager).post(url + "issue/", body, format="json")
    assert issued.status_code == 200, issued.content
    assert issued.json()["status"] == "pending_activation" and issued.json()["home_branch"] == "BR009"
    # No cross-use: an issued terminal cannot be issued again.
    assert api(manager).post(url + "issue/", {"merchant": MerchantFactory().credit_code},
                             format="json").status_code == 400
    assert api(manager).post(url + "activate/", {"tid": "SHORT", "mid": "1"}, format="json").status_code == 400
    active = api(manager).post(url + "activate/", {"tid": "ab12cd34", "mid": "898310058120001"}, format="json")
    assert active.status_code == 200 and active.json()["status"] == "active" and active.json()["tid"] == "AB12CD34"
    refused = api(manager).post(url + "restock/", {}, format="json")
    assert refused.status_code == 409
    assert Terminal.objects.get(pk=stock_terminal.pk).status == "active"


def test_an_issued_terminal_goes_back_to_stock(stock_terminal, manager):
    shop = MerchantFactory()
    url = f"{BASE}{stock_terminal.serial_number}/"
    api(manager).post(url + "issue/", {"merchant": shop.credit_code}, format="json")
    response = api(manager).post(url + "restock/", {"note": "商户取消"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "in_stock"
    assert response.json()["merchant"] is None


def test_the_merchant_records_maintenance_of_its_own_terminal(terminal, merchant_user, other_merchant_user):
    url = f"{BASE}{terminal.serial_number}/maintenance/"
    assert api(merchant_user).post(url, {"kind": "scrubbing"}, format="json").status_code == 400
    response = api(merchant_user).post(url, {"kind": "cleaning"}, format="json")
    assert response.status_code == 201 and response.json()["kind"] == "cleaning"
    assert api(other_merchant_user).post(url, {"kind": "cleaning"}, format="json").status_code == 404
    assert api(other_merchant_user).get(url).status_code == 404
    listed = api(merchant_user).get(url).json()
    assert [r["kind"] for r in listed["results"]] == ["cleaning"]
    assert MaintenanceRecord.objects.count() == 1


def test_maintenance_lists_in_constant_queries(terminal, merchant_user, django_assert_max_num_queries):
    url = f"{BASE}{terminal.serial_number}/maintenance/"
    for n in (2, 20):
        for _i in range(n):
            MaintenanceRecord.objects.create(terminal=terminal, kind="paper_roll", done_by=merchant_user,
                                             done_at="2026-01-01T00:00Z")
        with django_assert_max_num_queries(6):
            assert api(merchant_user).get(url).status_code == 200


def test_it_imports_a_file_and_reports_its_rejected_rows(channel, manager, agent, merchant_user,
                                                        django_capture_on_commit_callbacks):
    BranchFactory(code="BR001")
    rows = stock_rows(3) + [["", "TAG-X", "PAX A920", "PAX", "NOPE"]]
    content = csv_bytes(rows)
    assert api(agent).post(f"{BASE}imports/", {"file": upload(content)}, format="multipart").status_code == 403
    assert api(merchant_user).post(f"{BASE}imports/", {"file": upload(content)}, format="multipart").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = api(manager).post(f"{BASE}imports/", {"file": upload(content)}, format="multipart")
    assert response.status_code == 202, response.content
    job = response.json()
    progress = api(manager).get(response["Location"]).json()
    assert progress["id"] == job["id"] and progress["finished"] is True
    assert (progress["created_count"], progress["error_count"]) == (3, 1)
    rejected = api(manager).get(f"{BASE}imports/{job['id']}/rejected/").json()
    assert rejected["count"] == 1 and rejected["results"][0]["line"] == 5
    assert api(agent).get(f"{BASE}imports/{job['id']}/").status_code == 403
    assert api(manager).get(f"{BASE}imports/999999/").status_code == 404
    assert [j["id"] for j in api(manager).get(f"{BASE}imports/").json()["results"]] == [job["id"]]


def test_an_import_that_is_not_csv_or_xlsx_is_a_field_error(manager):
    exe = upload(b"MZ\x90\x00" + b"\x00" * 200, "inventory.csv")
    response = api(manager).post(f"{BASE}imports/", {"file": exe}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    assert not ImportJob.objects.exists()
