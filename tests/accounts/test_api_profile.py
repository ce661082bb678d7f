"""The profile page and the merchant-document upload over the API, through the pages' forms."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from portal.accounts.models import MerchantDocument
from tests.applications.factories import pdf

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_reads_and_changes_the_callers_profile(merchant_user):
    client = api(merchant_user)
    assert client.get("/api/v1/profile/").json()["username"] == merchant_user.username
    response = client.put("/api/v1/profile/", {"email": "shop@example.com", "language": "en"}, format="json")
    assert response.status_code == 200, response.content
    merchant_user.refresh_from_db()
    assert (merchant_user.email, merchant_user.language) == ("shop@example.com", "en")
    bad = client.put("/api/v1/profile/", {"email": "not-an-address", "language": "xx"}, format="json")
    assert bad.status_code == 400 and {"email", "language"} <= set(bad.json())
    assert client.put("/api/v1/profile/", {"email": 5}, format="json").status_code == 400
    merchant_user.refresh_from_db()
    assert merchant_user.email == "shop@example.com"


def test_the_merchant_uploads_its_documents(merchant_user, merchant, other_merchant_user, agent):
    url = f"/api/v1/merchants/{merchant.pk}/documents/"
    response = api(merchant_user).post(url, {"kind": "business_licence", "file": pdf()}, format="multipart")
    assert response.status_code == 201, response.content
    assert api(other_merchant_user).post(url, {"kind": "business_licence", "file": pdf()},
                                         format="multipart").status_code == 404
    assert api(agent).post(url, {"kind": "business_licence", "file": pdf()}, format="multipart").status_code == 403
    exe = SimpleUploadedFile("licence.pdf", b"MZ\x90\x00" + b"\x00" * 100, content_type="application/pdf")
    bad = api(merchant_user).post(url, {"kind": "business_licence", "file": exe}, format="multipart")
    assert bad.status_code == 400 and "file" in bad.json()
    assert MerchantDocument.objects.count() == 1
