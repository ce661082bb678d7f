"""Oversized bodies, too many fields and oversized uploads are refused with a 4xx, never a 5xx."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import MerchantUserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def too_big():
    return "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)


def test_it_refuses_an_oversized_form_post(client):
    response = client.post("/accounts/login/", {"username": "a", "password": too_big()})
    assert response.status_code in (400, 413)


def test_it_refuses_too_many_fields(client):
    data = {f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 10)}
    response = client.post("/accounts/login/", data)
    assert response.status_code == 400


def test_it_refuses_an_oversized_json_body_on_the_api(client):
    client.force_login(MerchantUserFactory())
    body = '{"note": "' + too_big() + '"}'
    for path in ("/api/v1/auth/token/", "/api/v1/tickets/"):
        response = client.post(path, body, content_type="application/json")
        assert 400 <= response.status_code < 500, (path, response.status_code)


def test_it_refuses_an_oversized_upload(client, settings):
    settings.MAX_UPLOAD_BYTES = 64 * 1024
    user = MerchantUserFactory()
    client.force_login(user)
    big = SimpleUploadedFile("licence.png", PNG + b"\x00" * (100 * 1024), content_type="image/png")
    response = client.post(
        f"/accounts/merchants/{user.merchant_id}/documents/", {"kind": "business_licence", "file": big}
    )
    assert response.status_code < 500
    assert not user.merchant.documents.exists()


def test_it_refuses_too_many_files(client):
    user = MerchantUserFactory()
    client.force_login(user)
    files = [SimpleUploadedFile(f"f{i}.png", PNG, content_type="image/png")
             for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    response = client.post(f"/accounts/merchants/{user.merchant_id}/documents/", {"kind": "x", "file": files})
    assert response.status_code == 400


def _documents(owner):
    from applications.models import ApplicationDocument

    return ApplicationDocument.objects.filter(application=owner.application)


def test_the_api_refuses_an_oversized_or_disguised_document(client, settings):
    from tests.security.registry import Owner

    settings.MAX_UPLOAD_BYTES = 64 * 1024
    owner = Owner()
    client.force_login(owner.user)
    url = f"/api/v1/applications/{owner.application.number}/documents/"
    big = SimpleUploadedFile("licence.png", PNG + b"\x00" * (100 * 1024), content_type="image/png")
    response = client.post(url, {"kind": "business_licence", "file": big})
    assert 400 <= response.status_code < 500, response.status_code
    fake = SimpleUploadedFile("licence.pdf", b"MZ\x90\x00" + b"\x00" * 512, content_type="application/pdf")
    response = client.post(url, {"kind": "business_licence", "file": fake})
    assert 400 <= response.status_code < 500, response.status_code
    assert not _documents(owner).exists()


def test_the_ticket_page_refuses_an_oversized_attachment(client, settings):
    from tests.security.registry import Owner

    settings.MAX_UPLOAD_BYTES = 64 * 1024
    owner = Owner()
    client.force_login(owner.user)
    big = SimpleUploadedFile("photo.png", PNG + b"\x00" * (100 * 1024), content_type="image/png")
    response = client.post(f"/tickets/{owner.ticket.service_order_no}/attachments/", {"file": big})
    assert response.status_code < 500
    assert not owner.ticket.attachments.exists()
