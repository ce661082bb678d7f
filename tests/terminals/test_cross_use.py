"""No cross-use: a terminal belongs to one merchant. Every path that could hand it to another is
refused with a clear message and changes nothing."""

import pytest
from django.urls import reverse

from portal.core.workflow import WorkflowError
from terminals import services
from terminals.forms import IssueForm
from terminals.imports import run_import_job
from terminals.models import Terminal, TerminalEvent
from tests.factories import MerchantFactory
from tests.terminals.helpers import csv_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(db):
    return MerchantFactory(name="隔壁餐馆")


def _unchanged(terminal, merchant):
    terminal.refresh_from_db()
    assert terminal.merchant == merchant
    assert terminal.status == Terminal.Status.ACTIVE
    assert not TerminalEvent.objects.filter(terminal=terminal, kind="status").exists()


def test_it_refuses_in_the_service(terminal, merchant, newcomer, manager):
    with pytest.raises(WorkflowError, match="belongs to one merchant"):
        services.issue_to_merchant(terminal=terminal, merchant=newcomer, actor=manager)
    _unchanged(terminal, merchant)


def test_it_refuses_in_the_form(terminal, merchant, newcomer):
    form = IssueForm({"merchant": newcomer.credit_code}, terminal=terminal)
    assert not form.is_valid()
    assert "belongs to one merchant" in str(form.non_field_errors())
    _unchanged(terminal, merchant)


def test_it_refuses_on_the_staff_page(manager_client, terminal, merchant, newcomer):
    response = manager_client.post(
        reverse("terminals:issue", args=[terminal.serial_number]), {"merchant": newcomer.credit_code}
    )
    assert response.status_code == 400
    assert "belongs to one merchant" in response.content.decode()
    _unchanged(terminal, merchant)


def test_it_refuses_through_the_api(client, manager, terminal, merchant, newcomer):
    client.force_login(manager)
    url = f"/api/v1/terminals/{terminal.serial_number}/"
    for method in (client.put, client.patch):
        response = method(url, {"merchant": newcomer.pk}, content_type="application/json")
        assert response.status_code == 405
    _unchanged(terminal, merchant)


def test_it_refuses_in_the_admin(client, superuser, terminal, merchant, newcomer):
    client.force_login(superuser)
    url = reverse("admin:terminals_terminal_change", args=[terminal.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="merchant"' not in page.content.decode()  # shown read-only
    data = {
        "serial_number": terminal.serial_number, "tag_number": terminal.tag_number, "model": "PAX A920",
        "manufacturer": "PAX", "channel": terminal.channel_id, "tid": terminal.tid, "mid": terminal.mid,
        "merchant": newcomer.pk, "status": "in_stock",
    }
    for prefix in ("deregistrations", "maintenance", "events"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    _unchanged(terminal, merchant)


def test_it_refuses_in_an_import(manager, terminal, merchant, newcomer, django_capture_on_commit_callbacks):
    content = csv_bytes([[terminal.serial_number, terminal.tag_number, "PAX A920", "PAX", "BANK",
                          newcomer.credit_code, "", "", ""]])
    job = services.create_import_job(uploaded=upload(content), file_format="csv", actor=manager)
    job = run_import_job(job.pk)
    assert job.created_count == 0 and job.error_count == 1
    assert "no cross-use" in job.errors[0]["reason"]
    _unchanged(terminal, merchant)


def test_it_adds_a_stock_terminal_in_the_admin_with_its_first_event(client, superuser, channel):
    client.force_login(superuser)
    data = {"serial_number": "ADMIN0000001", "tag_number": "TAG-ADM-1", "model": "PAX A920",
            "manufacturer": "PAX", "channel": channel.pk, "tid": "", "mid": ""}
    for prefix in ("deregistrations", "maintenance", "events"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = client.post(reverse("admin:terminals_terminal_add"), data)
    assert response.status_code == 302
    terminal = Terminal.objects.get(serial_number="ADMIN0000001")
    assert terminal.status == Terminal.Status.IN_STOCK and terminal.merchant is None
    assert terminal.events.get().kind == TerminalEvent.Kind.CREATED
    assert client.get(reverse("admin:terminals_terminal_changelist")).status_code == 200
    assert client.get(reverse("admin:terminals_terminal_delete", args=[terminal.pk])).status_code == 403
