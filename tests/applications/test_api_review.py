"""The reviewer's part of an application over the API: document verdicts, the inspection record,
the replaced terminal's deregistration and the deposit refund, under the pages' rules."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from applications.models import Application, ApplicationDocument
from tests.applications import factories as f

pytestmark = pytest.mark.django_db
BASE = "/api/v1/applications/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_verifies_and_rejects_documents(make_app, reviewer, merchant_user, other_merchant_user):
    app = make_app("under_review")
    doc, other = app.documents.all()[:2]
    url = f"{BASE}{app.number}/documents/{doc.pk}/verdict/"
    assert api(other_merchant_user).post(url, {"verdict": "verified"}, format="json").status_code == 404
    assert api(merchant_user).post(url, {"verdict": "verified"}, format="json").status_code == 403
    assert api(reviewer).post(url, {"verdict": "maybe"}, format="json").status_code == 400
    no_reason = api(reviewer).post(f"{BASE}{app.number}/documents/{other.pk}/verdict/", {"verdict": "rejected"},
                                   format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    response = api(reviewer).post(url, {"verdict": "verified"}, format="json")
    assert response.status_code == 200 and response.json()["verdict"] == "verified"
    rejected = api(reviewer).post(f"{BASE}{app.number}/documents/{other.pk}/verdict/",
                                  {"verdict": "rejected", "reason": "照片模糊"}, format="json")
    assert rejected.json()["verdict"] == "rejected" and rejected.json()["verdict_reason"] == "照片模糊"
    assert api(reviewer).post(f"{BASE}{app.number}/documents/999999/verdict/", {"verdict": "verified"},
                              format="json").status_code == 404


def test_a_verdict_outside_review_is_409_and_changes_nothing(make_app, reviewer):
    app = make_app("submitted")
    doc = app.documents.first()
    response = api(reviewer).post(f"{BASE}{app.number}/documents/{doc.pk}/verdict/", {"verdict": "verified"},
                                  format="json")
    assert response.status_code == 409 and response.json()["code"] == "not_allowed"
    doc.refresh_from_db()
    assert doc.verdict == ApplicationDocument.Verdict.PENDING


def test_it_records_the_inspection_and_then_approves(make_app, reviewer, merchant_user):
    app = make_app("under_review")
    client = api(reviewer)
    for doc in app.documents.all():
        client.post(f"{BASE}{app.number}/documents/{doc.pk}/verdict/", {"verdict": "verified"}, format="json")
    assert client.post(f"{BASE}{app.number}/transition/", {"to": "inspection"}, format="json").status_code == 200
    url = f"{BASE}{app.number}/inspection/"
    today = timezone.localdate()
    body = {"interview_date": (today - timedelta(days=1)).isoformat(), "interview_notes": "法人到场",
            "inspection_date": today.isoformat(), "inspection_notes": "经营场所属实"}
    assert api(merchant_user).post(url, body, format="json").status_code == 403
    future = client.post(url, {**body, "inspection_date": (today + timedelta(days=3)).isoformat()}, format="json")
    assert future.status_code == 400 and "inspection_date" in future.json()
    assert client.post(url, {**body, "inspection_date": "99999-01-01"}, format="json").status_code == 400
    assert client.post(url, body, format="json").status_code == 200
    app.refresh_from_db()
    assert app.inspection_notes == "经营场所属实"
    response = client.post(f"{BASE}{app.number}/transition/", {"to": "approved"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"


def test_the_inspection_outside_inspection_is_409(make_app, reviewer):
    app = make_app("under_review")
    today = timezone.localdate().isoformat()
    response = api(reviewer).post(f"{BASE}{app.number}/inspection/", {
        "interview_date": today, "inspection_date": today, "inspection_notes": "x"}, format="json")
    assert response.status_code == 409
    app.refresh_from_db()
    assert app.inspection_date is None


def test_it_records_the_old_terminals_deregistration(merchant_user, merchant, channel, reviewer):
    ticket = f.unrepairable_ticket(merchant, channel)
    app = f.application(merchant_user, channel, kind="replacement", ticket=ticket)
    url = f"{BASE}{app.number}/deregistration/"
    body = {"method": "destroyed", "certificate_number": "XH-2026-9", "witness": "赵六"}
    assert api(reviewer).post(url, body, format="json").status_code == 409  # not approved yet
    f.advance(app, "approved", merchant_user=merchant_user, reviewer=reviewer)
    assert api(merchant_user).post(url, body, format="json").status_code == 403
    assert api(reviewer).post(url, {**body, "method": "lost"}, format="json").status_code == 400
    response = api(reviewer).post(url, body, format="json")
    assert response.status_code == 201, response.content
    ticket.terminal.refresh_from_db()
    assert ticket.terminal.status == "destroyed"


def test_it_refunds_an_eligible_deposit_once(make_app, reviewer, merchant_user):
    app = make_app("activated", fee_plan="deposit")
    url = f"{BASE}{app.number}/deposit/refund/"
    assert api(reviewer).post(url).status_code == 409  # target not reached
    serial = app.terminals.get().serial_number
    api(reviewer).post(f"{BASE}{app.number}/volumes/", {"terminal": serial, "month": app.activated_on.isoformat(),
                                                         "amount": "300000"}, format="json")
    assert api(merchant_user).post(url).status_code == 403
    response = api(reviewer).post(url)
    assert response.status_code == 200 and response.json()["deposit"]["refunded"] is True
    assert api(reviewer).post(url).status_code == 409
    assert Application.objects.get(pk=app.pk).deposit.refunded
