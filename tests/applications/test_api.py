"""The applications API of DESIGN.md."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from applications.models import Application
from repairs.models import FaultTicket
from tests.applications import factories as f

pytestmark = pytest.mark.django_db
BASE = "/api/v1/applications/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_creates_a_draft_and_returns_its_number(merchant_user, channel):
    response = api(merchant_user).post(BASE, {"kind": "new", "channel": channel.code, "quantity": 2,
                                              "fee_plan": "deposit"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["number"].startswith("AP")
    assert body["quantity"] == 2 and body["fee_plan"] == "deposit" and body["deposit_target"] == "300000.00"
    assert body["allowed_transitions"] == ["submitted", "withdrawn"]


def test_it_creates_a_replacement_from_the_ticket(merchant_user, merchant, channel):
    ticket = f.unrepairable_ticket(merchant, channel)
    response = api(merchant_user).post(BASE, {"kind": "replacement", "ticket": ticket.service_order_no,
                                              "channel": channel.code, "fee_plan": "free"}, format="json")
    assert response.status_code == 201
    assert response.json()["ticket"] == ticket.service_order_no
    ticket.refresh_from_db()
    assert ticket.status == FaultTicket.Status.REPLACEMENT


def test_it_answers_400_with_field_errors(merchant_user, channel):
    client = api(merchant_user)
    assert client.post(BASE, {"kind": "new", "channel": "NOPE", "fee_plan": "free"}, format="json").status_code == 400
    response = client.post(BASE, {"kind": "replacement", "channel": channel.code, "fee_plan": "free"}, format="json")
    assert response.status_code == 400 and "ticket" in response.json()


def test_staff_cannot_apply(reviewer, channel):
    response = api(reviewer).post(BASE, {"kind": "new", "channel": channel.code, "fee_plan": "free"}, format="json")
    assert response.status_code == 403


def test_it_lists_and_fetches_only_the_callers_applications(make_app, merchant_user, other_merchant_user, reviewer):
    app = make_app("draft")
    assert [a["number"] for a in api(merchant_user).get(BASE).json()["results"]] == [app.number]
    assert api(other_merchant_user).get(BASE).json()["results"] == []
    assert api(reviewer).get(BASE).json()["count"] == 1
    assert api(merchant_user).get(f"{BASE}{app.number}/").status_code == 200
    assert api(other_merchant_user).get(f"{BASE}{app.number}/").status_code == 404


def test_it_uploads_and_lists_documents(make_app, merchant_user, other_merchant_user):
    app = make_app("draft")
    url = f"{BASE}{app.number}/documents/"
    response = api(merchant_user).post(url, {"kind": "legal_rep_id", "file": f.pdf("id.pdf")}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "legal_rep_id" and response.json()["verdict"] == "pending"
    assert [d["kind"] for d in api(merchant_user).get(url).json()] == ["legal_rep_id"]
    assert api(other_merchant_user).get(url).status_code == 404
    other = api(other_merchant_user).post(url, {"kind": "legal_rep_id", "file": f.pdf()}, format="multipart")
    assert other.status_code == 404
    assert app.documents.count() == 1


def test_it_refuses_an_executable_renamed_pdf(make_app, merchant_user):
    app = make_app("draft")
    exe = SimpleUploadedFile("licence.pdf", f.EXE, content_type="application/pdf")
    response = api(merchant_user).post(f"{BASE}{app.number}/documents/", {"kind": "business_licence", "file": exe},
                                       format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    assert not app.documents.exists()


def test_the_transition_endpoint_answers_200_400_403_404_409(make_app, merchant_user, other_merchant_user, reviewer):
    app = make_app("submitted")
    url = f"{BASE}{app.number}/transition/"
    assert api(other_merchant_user).post(url, {"to": "withdrawn"}, format="json").status_code == 404
    assert api(merchant_user).post(url, {"to": "under_review"}, format="json").status_code == 403
    assert api(reviewer).post(url, {"to": "approved"}, format="json").status_code == 409
    ok = api(reviewer).post(url, {"to": "under_review", "note": "开始"}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "under_review"
    bad = api(reviewer).post(url, {"to": "needs_info"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid" and "reason" in bad.json()


def test_it_walks_the_whole_review_through_the_api(make_app, merchant_user, reviewer):
    app = make_app("approved")
    url = f"{BASE}{app.number}/transition/"
    client = api(reviewer)
    assert client.post(url, {"to": "contract_signed"}, format="json").status_code == 400
    assert client.post(url, {"to": "contract_signed", "contract_number": "HT-2026-0001"}, format="json").status_code == 200
    stock = f.terminal(app.channel)
    response = client.post(url, {"to": "device_assigned", "terminal": stock.serial_number}, format="json")
    assert response.status_code == 200 and response.json()["terminals"] == [stock.serial_number]
    response = client.post(url, {"to": "activated", "training_notes": "已培训"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "activated"
    stock.refresh_from_db()
    assert stock.status == "active"


def test_it_records_monthly_volumes(make_app, reviewer, merchant_user):
    app = make_app("activated", fee_plan="deposit")
    serial = app.terminals.get().serial_number
    url = f"{BASE}{app.number}/volumes/"
    month = app.activated_on.isoformat()
    assert api(merchant_user).post(url, {"terminal": serial, "month": month, "amount": "1"}, format="json").status_code == 403
    response = api(reviewer).post(url, {"terminal": serial, "month": month, "amount": "150000"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["month"] == app.activated_on.replace(day=1).isoformat()
    assert api(reviewer).post(url, {"terminal": "NOPE", "month": month, "amount": "1"}, format="json").status_code == 400
    detail = api(merchant_user).get(f"{BASE}{app.number}/").json()
    assert detail["deposit"]["percent"] == 50 and detail["deposit"]["eligible"] is False
    assert api(merchant_user).get(url).json()[0]["amount"] == "150000.00"


def test_the_merchant_does_not_see_internal_events(make_app, merchant_user, reviewer):
    app = make_app("approved")
    body = api(merchant_user).get(f"{BASE}{app.number}/").json()
    assert "经营场所属实" not in str(body["events"])
    assert "经营场所属实" in str(api(reviewer).get(f"{BASE}{app.number}/").json()["events"])


def test_the_schema_describes_the_endpoints(client, reviewer):
    client.force_login(reviewer)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (BASE, BASE + "{number}/", BASE + "{number}/documents/", BASE + "{number}/transition/",
                 BASE + "{number}/volumes/"):
        assert path in paths, path
    post = paths[BASE + "{number}/documents/"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert set(paths[BASE + "{number}/transition/"]["post"]["responses"]) >= {"200", "400", "403", "404", "409"}
    assert Application.Status.DEVICE_ASSIGNED in str(schema["components"]["schemas"])
